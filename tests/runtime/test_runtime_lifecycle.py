"""The continuous controller's life: specs come, change, break and go; SIGTERM; HTTP endpoints."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness import Running, eventually, orders_doc, write

RESYNC = 5


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _nlbs(aws: Any) -> list[str]:
    return sorted(
        lb["LoadBalancerName"]
        for lb in aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
    )


async def test_edit_invalid_remove_and_prune(aws: Any, tmp_path: Path):
    """An edit is applied; an invalid file is reported while others go on; removal keeps the
    resources unless --prune, which deletes them."""
    a = write(tmp_path, orders_doc("orders-a", drift={"resyncSeconds": RESYNC}))
    b = write(tmp_path, orders_doc("orders-b", drift={"resyncSeconds": RESYNC}))
    async with Running(tmp_path, aws) as run:
        for owner in ("shop/orders-a", "shop/orders-b"):
            await eventually(lambda o=owner: run.phase(o) == "Ready", 60, f"{owner} Ready")
        assert await asyncio.to_thread(_get, f"{run.url}/readyz") == (200, b'{"ready": true}')

        edited = orders_doc("orders-a", drift={"resyncSeconds": RESYNC})
        edited["spec"]["service"]["desiredCount"] = 3
        write(tmp_path, edited)
        ecs = aws.client("ecs")
        await eventually(
            lambda: (
                ecs.describe_services(cluster="shop", services=["ps-shop-orders-a"])["services"][0][
                    "desiredCount"
                ]
                == 3
            ),
            15,
            "the edit applied",
        )

        (tmp_path / "broken.yaml").write_text(
            "apiVersion: privateservice.io/v1alpha1\n"
            "kind: PrivateService\nmetadata: {name: x}\n"
            "spec: {container: {port: 0}}\n"
        )
        status = await eventually(
            lambda: [
                i for i in run.controller.status()["items"] if "broken.yaml" in i.get("source", "")
            ],
            10,
            "the invalid file in /status",
        )
        assert status[0]["status"]["phase"] == "Failed"
        assert any("spec.container.port" in p for p in status[0]["status"]["problems"])
        for owner in ("shop/orders-a", "shop/orders-b"):  # the others go on
            await eventually(lambda o=owner: run.phase(o) == "Ready", 30, f"{owner} Ready")

        b.unlink()  # while a document of unknown owner is broken, absence proves nothing
        await asyncio.sleep(1)
        assert "shop/orders-b" in run.controller.states
        (tmp_path / "broken.yaml").unlink()
        await eventually(lambda: "shop/orders-b" not in run.controller.states, 10, "b forgotten")
        await asyncio.sleep(1)
        assert "ps-shop-orders-b-nlb" in _nlbs(aws)  # no --prune: left in place
    del a

    async with Running(tmp_path, aws, prune=True) as run:
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "a Ready again")
        assert "ps-shop-orders-b-nlb" in _nlbs(aws)  # b is not in the source: not ours to judge
        (tmp_path / "orders-a.yaml").unlink()
        await eventually(lambda: "ps-shop-orders-a-nlb" not in _nlbs(aws), 60, "a pruned")
        await eventually(lambda: "shop/orders-a" not in run.controller.states, 60, "a forgotten")


async def test_metrics_health_and_status_endpoints(aws: Any, tmp_path: Path):
    """/healthz answers 200, /metrics has the series of the issue, /status the contract's shape."""
    write(tmp_path, orders_doc("orders-a", drift={"resyncSeconds": RESYNC}))
    async with Running(tmp_path, aws) as run:
        assert (await asyncio.to_thread(_get, f"{run.url}/healthz"))[0] == 200
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready")
        code, body = await asyncio.to_thread(_get, f"{run.url}/metrics")
        text = body.decode()
        assert code == 200
        for series in (
            "psctl_reconciles_total{result=",
            "psctl_reconcile_duration_seconds_bucket",
            'psctl_aws_calls_total{operation="CreateLoadBalancer",outcome="ok",service="elbv2"}',
            "psctl_queue_depth",
            'psctl_specs{phase="Ready"} 1.0',
            "psctl_drifts_detected",
            "psctl_drifts_corrected",
        ):
            assert series in text, series
        code, body = await asyncio.to_thread(_get, f"{run.url}/status")
        import json

        (item,) = json.loads(body)["items"]
        assert item["metadata"] == {"name": "orders-a", "namespace": "shop"}
        assert set(item["status"]) >= {"phase", "conditions", "endpoint", "resources", "drift"}
        out = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "controller", "status", "--controller", run.url, "-o", "json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        (doc,) = json.loads(out.stdout)["items"]
        assert doc["status"]["phase"] == "Ready"


def test_sigterm_during_a_reconcile_exits_0_and_a_restart_converges_without_duplicates(
    aws: Any, tmp_path: Path
):
    """SIGTERM mid-reconcile: exit 0 within 30 s; the next controller finishes the job, no twins."""
    write(tmp_path, orders_doc("orders-a", drift={"resyncSeconds": RESYNC}))
    env = os.environ | aws.env
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "controller",
            "run",
            "--source",
            str(tmp_path),
            "--listen",
            "127.0.0.1:0",
            "--poll-seconds",
            "0.2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elb = aws.client("elbv2")
    deadline = time.monotonic() + 30
    while not elb.describe_load_balancers()["LoadBalancers"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the first pass is under way: it just created the NLB
    proc.send_signal(signal.SIGTERM)
    start = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert time.monotonic() - start < 30
    assert '"controller stopped"' in err

    async def converge() -> None:
        async with Running(tmp_path, aws) as run:
            await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready")

    asyncio.run(converge())
    assert _nlbs(aws) == ["ps-shop-orders-a-nlb"]
    assert len(elb.describe_target_groups()["TargetGroups"]) == 1
    apigw = aws.client("apigateway")
    assert len(apigw.get_rest_apis()["items"]) == 1
    assert len(apigw.get_vpc_links()["items"]) == 1
    assert len(apigw.get_api_keys()["items"]) == 2
