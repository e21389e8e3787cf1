"""The continuous controller over HTTP: drift corrected (or reported) with one alert each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import Running, SnsQueue, Webhook, eventually, orders_doc, write

RESYNC = 5  # the contract's minimum


def _tg(aws: Any) -> tuple[Any, str, str]:
    elb = aws.client("elbv2")
    tg = elb.describe_target_groups(Names=["ps-shop-orders-a-tg"])["TargetGroups"][0]
    return elb, tg["TargetGroupArn"], tg["HealthCheckPath"]


def health_path(aws: Any) -> None:
    elb, arn, _ = _tg(aws)
    elb.modify_target_group(TargetGroupArn=arn, HealthCheckPath="/console-edit")


def remove_plan_key(aws: Any) -> None:
    apigw = aws.client("apigateway")
    plan = next(
        p for p in apigw.get_usage_plans()["items"] if p["name"].startswith("shop/orders-a/")
    )
    key = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"][0]
    apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])


def desired_count(aws: Any) -> None:
    aws.client("ecs").update_service(cluster="shop", service="ps-shop-orders-a", desiredCount=5)


def open_task_group(aws: Any) -> None:
    ec2 = aws.client("ec2")
    group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["ps-shop-orders-a-task"]}]
    )["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8000,
                "ToPort": 8000,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )


def delete_listener(aws: Any) -> None:
    elb = aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=["ps-shop-orders-a-nlb"])["LoadBalancers"][0]
    for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
        elb.delete_listener(ListenerArn=li["ListenerArn"])


DRIFTS: list[tuple[Callable[[Any], None], str, str, str]] = [
    # (change behind its back, component of the alert, field, severity)
    (health_path, "target-group", "healthCheck.path", "medium"),
    (remove_plan_key, "usage-plan-key", "(resource)", "high"),  # 403 for that key's callers
    (desired_count, "ecs-service", "desiredCount", "medium"),
    (open_task_group, "task-sg", "ingress", "high"),
    (delete_listener, "listener", "(resource)", "high"),
]


@pytest.fixture
async def hooks(aws: Any):
    """A webhook receiver and an SNS topic drained by an SQS queue."""
    webhook = Webhook()
    await webhook.start()
    yield webhook, SnsQueue(aws)
    await webhook.stop()


async def test_drift_is_corrected_within_resync_with_one_alert_each(
    aws: Any, tmp_path: Path, hooks: tuple[Webhook, SnsQueue]
):
    """Five changes behind its back: each undone within resync + 5 s, one alert on both sinks."""
    webhook, sns = hooks
    alerts = {"snsTopicArn": sns.topic_arn, "webhookUrl": webhook.url}
    for name in ("orders-a", "orders-b"):
        write(tmp_path, orders_doc(name, drift={"resyncSeconds": RESYNC}, alerts=alerts))
    async with Running(tmp_path, aws) as run:
        for owner in ("shop/orders-a", "shop/orders-b"):
            await eventually(lambda o=owner: run.phase(o) == "Ready", 60, f"{owner} Ready")
        assert webhook.received == []
        assert sns.drain() == []
        for change, component, field, severity in DRIFTS:
            before = len(webhook.received)
            change(aws)
            await eventually(
                lambda b=before: len(webhook.received) > b,
                RESYNC + 5,
                f"an alert for {change.__name__}",
            )
            await eventually(
                lambda: run.phase("shop/orders-a") == "Ready",
                RESYNC + 5,
                f"{change.__name__} corrected",
            )
            new = webhook.received[before:]
            assert len(new) == 1, new
            (alert,) = new
            assert (alert["component"], alert["field"], alert["severity"], alert["action"]) == (
                component,
                field,
                severity,
                "corrected",
            )
            assert alert["service"] == "shop/orders-a"
            assert alert["resource"]
            assert alert["time"]
            assert "expected" in alert
            assert "actual" in alert
            assert alert["text"]
        _, _, path = _tg(aws)
        assert path == "/healthz"
        via_sns = await eventually(
            lambda: len(sns.drain()) >= len(DRIFTS) and sns.received, 10, "the SNS copies"
        )
        assert sorted(a["field"] for a in via_sns) == sorted(a["field"] for a in webhook.received)
        status = run.controller.states["shop/orders-a"].status
        assert status["drift"]["corrections"] == len(DRIFTS)
        assert status["drift"]["lastDetected"]
        assert run.phase("shop/orders-b") == "Ready"


async def test_alert_mode_reports_without_mutating_and_ignored_fields_are_left_alone(
    aws: Any, tmp_path: Path, hooks: tuple[Webhook, SnsQueue]
):
    """Alert: alerts and status Drifted, no mutating call; an ignored field: no alert at all."""
    webhook, _ = hooks
    drift = {"mode": "Alert", "resyncSeconds": RESYNC, "ignoreFields": ["service.desiredCount"]}
    write(tmp_path, orders_doc("orders-a", drift=drift, alerts={"webhookUrl": webhook.url}))
    async with Running(tmp_path, aws) as run:
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready")
        mutating = run.mutating()
        for change, _, _, _ in DRIFTS:
            change(aws)
        expected = sorted(f for c, _, f, _ in DRIFTS if c is not desired_count)  # ignored
        await eventually(lambda: len(webhook.received) >= len(expected), RESYNC + 5, "alerts")
        await eventually(
            lambda: (
                next(
                    c
                    for c in run.controller.states["shop/orders-a"].status["conditions"]
                    if c["type"] == "Drifted"
                )["status"]
                == "True"
            ),
            RESYNC + 5,
            "status Drifted",
        )
        await asyncio.sleep(1)  # nothing more arrives: one alert per drift
        assert sorted(a["field"] for a in webhook.received) == expected
        assert {a["action"] for a in webhook.received} == {"reported"}
        assert run.phase("shop/orders-a") == "Degraded"
        assert run.mutating() == mutating
        _, _, path = _tg(aws)
        assert path == "/console-edit"
        svc = aws.client("ecs").describe_services(cluster="shop", services=["ps-shop-orders-a"])
        assert svc["services"][0]["desiredCount"] == 5


async def test_a_contested_field_is_handed_over_and_the_rest_kept_true(
    aws: Any, tmp_path: Path, hooks: tuple[Webhook, SnsQueue]
):
    """A writer keeps reverting a field: one contested alert after K corrections, then it yields."""
    webhook, _ = hooks
    write(
        tmp_path,
        orders_doc("orders-a", drift={"resyncSeconds": RESYNC}, alerts={"webhookUrl": webhook.url}),
    )
    async with Running(tmp_path, aws, contested_corrections=2, contested_seconds=120) as run:
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready")

        def fight() -> bool:
            if _tg(aws)[2] != "/console-edit":
                health_path(aws)
            return any(a["kind"] == "contested" for a in webhook.received)

        await eventually(fight, 4 * (RESYNC + 5), "a contested alert", every=0.3)
        contested = [a for a in webhook.received if a["kind"] == "contested"]
        assert len(contested) == 1
        assert contested[0]["field"] == "healthCheck.path"
        assert "ignoreFields" in contested[0]["message"]
        assert "loadBalancer.targetGroup.healthCheck.path" in contested[0]["message"]
        corrections = [
            a for a in webhook.received if a["field"] == "healthCheck.path" and a["kind"] == "drift"
        ]
        assert len(corrections) == 1  # the rest were the same drift within the window
        delete_listener(aws)
        await eventually(
            lambda: any(a["component"] == "listener" for a in webhook.received),
            RESYNC + 5,
            "the listener corrected",
        )
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", RESYNC + 5, "Ready again")
        assert _tg(aws)[2] == "/console-edit"  # handed over: no longer corrected
        assert len([a for a in webhook.received if a["kind"] == "contested"]) == 1


async def test_an_extra_listener_on_our_nlb_is_reported_and_left_alone(
    aws: Any, tmp_path: Path, hooks: tuple[Webhook, SnsQueue]
):
    """An addition that matters: a listener someone put on our NLB is drift, reported, untouched
    (it carries no owner tag, so it is not ours to delete)."""
    webhook, _ = hooks
    write(
        tmp_path,
        orders_doc("orders-a", drift={"resyncSeconds": RESYNC}, alerts={"webhookUrl": webhook.url}),
    )
    async with Running(tmp_path, aws) as run:
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready")
        elb, tg_arn, _ = _tg(aws)
        lb = elb.describe_load_balancers(Names=["ps-shop-orders-a-nlb"])["LoadBalancers"][0]
        extra = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Port=8443,
            Protocol="TCP",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
        )["Listeners"][0]
        (alert,) = await eventually(lambda: webhook.received, RESYNC + 5, "an alert")
        assert alert["field"] == "(extra listener)"
        assert alert["action"] == "reported"
        assert alert["severity"] == "high"
        assert extra["ListenerArn"] in alert["actual"]
        await asyncio.sleep(RESYNC + 1)
        ports = sorted(
            li["Port"]
            for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        )
        assert ports == [80, 8443]
        assert len(webhook.received) == 1  # the same drift again within the window: counted
