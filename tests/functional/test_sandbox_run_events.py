"""`psctl sandbox --run`: a change made with the exported credentials is corrected within seconds.

The sandbox emulates CloudTrail; `--run` installs the rule and queue (`psctl events install`)
and runs the controller with `--events` under a key of its own, so the user's change (the
exported key, as the AWS CLI would use it) is an event and the controller's own writes are not.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from chain import EXAMPLES
from test_sandbox_run import _exports, _free_port, _phases


def _status(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/status", timeout=5) as resp:
        return dict(json.load(resp))


def test_a_cli_change_is_corrected_within_seconds_and_named(tmp_path: Path) -> None:
    """alice (the exported key) opens the task group to 0.0.0.0/0: closed again by the event
    (within a minute, however loaded the machine: the backstop full resync is 10 min away; on
    an idle machine it takes 1-2 s), and /status names her call as the spec's last event; the
    event source is ok."""
    source = tmp_path / "specs"
    source.mkdir()
    shutil.copy(EXAMPLES / "orders-rest-nlb.yaml", source)
    sandbox_port, listen_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PSCTL_SANDBOX_VPC_LINK_SECONDS"] = "0.5"
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    url = f"http://127.0.0.1:{listen_port}"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "controller", "sandbox", "--port", str(sandbox_port)),
                *("--run", str(source), "--listen", f"127.0.0.1:{listen_port}"),
            ],
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if _phases(url).get("shop/orders") == "Ready":
                break
            time.sleep(0.5)
        assert _phases(url) == {"shop/orders": "Ready"}, err_path.read_text()[-3000:]
        assert "CloudTrail emulated" in out_path.read_text()
        exports = _exports(out_path.read_text())
        ec2 = boto3.client(
            "ec2",
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            region_name=exports["AWS_REGION"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        group = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["ps-shop-orders-task"]}]
        )["SecurityGroups"][0]["GroupId"]
        time.sleep(1.0)  # the last verify pass is done
        opened = time.monotonic()
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 8080,
                    "ToPort": 8080,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )

        def still_open() -> bool:
            perms = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
            return any(
                r["CidrIp"] == "0.0.0.0/0"
                for p in perms["IpPermissions"]
                for r in p.get("IpRanges", [])
            )

        while still_open() and time.monotonic() - opened < 60:
            time.sleep(0.2)
        assert not still_open(), err_path.read_text()[-3000:]
        status = _status(url)
        [item] = status["items"]
        assert item["lastEvent"]["eventName"] == "AuthorizeSecurityGroupIngress"
        assert item["lastEvent"]["changedBy"].endswith(f":user/{exports['AWS_ACCESS_KEY_ID']}")
        assert status["events"]["state"] == "ok"
        assert "changed by arn:aws:iam::" in err_path.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, err_path.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
