"""`psctl run --events` on the sandbox, the two kinds of change the orders example lacks: a
Lambda authorizer's invoke permission removed (seed 002, ledger) and an ECS service's network
configuration changed; each corrected within 5 s of the call with a 10-minute backstop, and
the alert names the changer."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import yaml
from harness import Webhook, eventually, write
from test_runtime_events import ALICE, Alice, webhook, with_events

from controller.sandbox import Sandbox, examples

LEDGER = Path(__file__).parents[2] / "examples" / "ledger-private-api.yaml"
OWNER = "finance/ledger"
FUNCTION = "ledger-authorizer"

__all__ = ["webhook"]  # the fixture, used by name


def remove_permission(alice: Alice) -> None:
    """Every invoke permission on the authorizer function, removed."""
    lam = alice.client("lambda")
    policy = json.loads(lam.get_policy(FunctionName=FUNCTION)["Policy"])
    for statement in policy["Statement"]:
        lam.remove_permission(FunctionName=FUNCTION, StatementId=statement["Sid"])


def public_ip(alice: Alice) -> None:
    """The service's tasks given public IPs and no security group of ours."""
    ecs = alice.client("ecs")
    svc = ecs.describe_services(cluster="finance", services=["ps-finance-ledger"])["services"][0]
    vpc = svc["networkConfiguration"]["awsvpcConfiguration"]
    ecs.update_service(
        cluster="finance",
        service="ps-finance-ledger",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": vpc["subnets"],
                "securityGroups": [],
                "assignPublicIp": "ENABLED",
            }
        },
    )


async def test_lambda_permission_and_network_configuration_corrected_within_5_s(
    aws: Any, sandbox: Sandbox, tmp_path: Path, webhook: Webhook
) -> None:
    """Each change by alice is undone within 5 s of her call; the alert says it was her."""
    examples.prepare(sandbox.internal_access())
    doc = yaml.safe_load(LEDGER.read_text())
    doc["spec"]["alerts"] = {"webhookUrl": webhook.url}
    write(tmp_path, doc)
    run, _ = with_events(tmp_path, aws)
    alice = Alice(aws)
    async with run:
        await eventually(lambda: run.phase(OWNER) == "Ready", 90, "Ready")
        await asyncio.sleep(0.5)
        for change in (remove_permission, public_ip):
            before = len(webhook.received)
            started = time.monotonic()
            change(alice)
            await eventually(lambda b=before: len(webhook.received) > b, 5, change.__name__)
            await eventually(
                lambda: run.phase(OWNER) == "Ready", 5 - (time.monotonic() - started), "Ready"
            )
            alert = webhook.received[-1]
            assert alert["action"] == "corrected", alert
            assert alert["changedBy"] == ALICE, alert
        policy = json.loads(aws.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"])
        assert policy["Statement"]


async def test_drift_no_event_announced_is_found_by_the_backstop_and_counted(
    aws: Any, tmp_path: Path
) -> None:
    """A change CloudTrail never delivers (made with the controller's own key, which the sandbox
    leaves out) is found by the full resync and counted as a backstop find, per spec too."""
    from harness import orders_doc
    from test_runtime_drift import health_path

    write(tmp_path, orders_doc("orders-a"))
    run, _ = with_events(tmp_path, aws, full_resync_seconds=3.0)
    async with run:
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready")
        health_path(aws)
        await eventually(
            lambda: run.controller.status()["events"]["backstopFinds"] >= 1, 10, "backstop find"
        )
        [item] = run.controller.status()["items"]
        assert item["backstopFinds"] >= 1
        assert "lastEvent" not in item  # no event ever named it
        text = run.controller._render_metrics().decode()
        assert 'psctl_events_backstop_finds_total{component="target-group"} 1.0' in text
