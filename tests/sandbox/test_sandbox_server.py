"""The sandbox endpoint itself: address, environment, reset, one per process, `serve_forever`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from controller.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


def test_endpoint_is_loopback_with_a_real_port(sandbox):
    """Port 0 asks for a free port; the endpoint reports the real one on 127.0.0.1."""
    url = urlparse(sandbox.endpoint_url)
    assert (url.scheme, url.hostname) == ("http", "127.0.0.1")
    assert url.port is not None
    assert url.port > 0


def test_env_points_boto3_at_the_sandbox(sandbox, aws):
    """`env()` holds endpoint, region and testing credentials; the session fixture exports
    them, so a plain boto3 client reaches the sandbox."""
    env = sandbox.env()
    assert env == {
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    assert all(os.environ[key] == value for key, value in env.items())
    vpcs = boto3.client("ec2").describe_vpcs(VpcIds=[aws.network.vpc_id])["Vpcs"]
    assert len(vpcs) == 1


def test_reset_wipes_resources_and_reseeds(sandbox, aws):
    """`reset()` removes everything created since and seeds a fresh network."""
    ec2 = aws.client("ec2")
    ec2.create_security_group(GroupName="gone", Description="x", VpcId=aws.network.vpc_id)
    sandbox.reset()
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["gone"]}])
    assert groups["SecurityGroups"] == []
    assert sandbox.network.vpc_id != aws.network.vpc_id
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["privateservice-sandbox"]}])
    assert [v["VpcId"] for v in vpcs["Vpcs"]] == [sandbox.network.vpc_id]


def test_lambda_runs_without_docker(sandbox, aws):
    """moto is configured with {"lambda": {"use_docker": false}}, also after a reset."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{sandbox.endpoint_url}/moto-api/config") as response:
        config = json.load(response)
    assert config["lambda"]["use_docker"] is False


def test_a_second_sandbox_in_one_process_is_refused(sandbox):
    """moto's state is process-global: a second running Sandbox would share it, so it is refused."""
    with pytest.raises(RuntimeError, match="already"):
        Sandbox().start()


READY = "print('# ready', os.environ['AWS_ENDPOINT_URL'] == sb.endpoint_url, flush=True)"
SERVE = f"""
import os
from controller.sandbox import serve_forever
serve_forever('127.0.0.1', 0, 'eu-west-1', on_ready=lambda sb: {READY})
"""


def test_serve_forever_prints_env_runs_hook_and_stops_on_sigterm():
    """`serve_forever` prints `export` lines and a summary, exports the env into its process,
    calls `on_ready`, serves the seeded network, then stops cleanly on SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (lines and lines[-1].startswith("# ready")):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert lines[-1].strip() == "# ready True"
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert exports["AWS_REGION"] == "eu-west-1"
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        summary = next(line for line in lines if line.startswith("# psctl sandbox"))
        assert "vpc-" in summary
        assert "subnet-" in summary
        ec2 = boto3.client(
            "ec2",
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        tagged = [{"Name": "tag:Name", "Values": ["privateservice-sandbox"]}]
        assert len(ec2.describe_vpcs(Filters=tagged)["Vpcs"]) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
