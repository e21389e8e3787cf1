"""`psctl sandbox --run SOURCE`: the sandbox and the controller in one process, as users run it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from chain import EXAMPLES

from controller import cli
from controller.sandbox.server import Sandbox


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _phases(url: str) -> dict[str, str]:
    """owner -> phase from a running controller's /status; {} while it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/status", timeout=5) as resp:
            items = json.load(resp)["items"]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return {}
    return {
        f"{i['metadata']['namespace']}/{i['metadata']['name']}": i["status"]["phase"]
        for i in items
        if "metadata" in i
    }


def _exports(stdout: str) -> dict[str, str]:
    return dict(
        line.removeprefix("export ").split("=", 1)
        for line in stdout.splitlines()
        if line.startswith("export ")
    )


def test_sandbox_run_reconciles_the_source_until_sigterm_then_exits_0(tmp_path: Path):
    """One process: the sandbox comes up and prints its exports, the controller brings the
    spec in SOURCE to Ready on that endpoint, and SIGTERM stops both with status 0."""
    source = tmp_path / "specs"
    source.mkdir()
    shutil.copy(EXAMPLES / "orders-rest-nlb.yaml", source)
    sandbox_port, listen_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PSCTL_SANDBOX_VPC_LINK_SECONDS"] = "0.5"
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controller",
                "sandbox",
                "--port",
                str(sandbox_port),
                "--run",
                str(source),
                "--listen",
                f"127.0.0.1:{listen_port}",
                "--poll-seconds",
                "0.5",
            ],
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 120
        phases: dict[str, str] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            phases = _phases(f"http://127.0.0.1:{listen_port}")
            if phases.get("shop/orders") == "Ready":
                break
            time.sleep(0.5)
        assert phases == {"shop/orders": "Ready"}, err_path.read_text()[-3000:]

        endpoint = f"http://127.0.0.1:{sandbox_port}"
        exports = _exports(out_path.read_text())
        assert exports["AWS_ENDPOINT_URL"] == endpoint
        assert {"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(exports)
        elbv2 = boto3.client(
            "elbv2",
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            region_name=exports["AWS_REGION"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        names = [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
        assert names == ["ps-shop-orders-nlb"]  # the controller worked on the printed endpoint

        proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        assert proc.wait(timeout=30) == 0, err_path.read_text()[-3000:]
        assert time.monotonic() - start < 30
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert '"controller stopped"' in err_path.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--run", "kubernetes"],
            "psctl sandbox --run kubernetes: the sandbox has no Kubernetes API server",
            id="kubernetes",
        ),
        pytest.param(
            ["--listen", "127.0.0.1:0"],
            "--listen, --prune and --poll-seconds need --run",
            id="no-run",
        ),
        pytest.param(["--run", "specs/", "--listen", "8080"], "expected HOST:PORT", id="listen"),
    ],
)
def test_sandbox_refuses_bad_options_without_starting_anything(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
):
    """A source the sandbox cannot serve, or options that need --run: exit 1, one line, no
    sandbox started."""

    def refuse(*_: Any) -> None:
        raise AssertionError("a sandbox was started")

    monkeypatch.setattr(Sandbox, "start", refuse)
    assert cli.main(["sandbox", "--port", "0", *argv]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "export" not in captured.out
