"""Spec changes and changes behind the controller's back: plan shows them, apply undoes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chain import apply, mutating_since, orders, spec

from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

PLAN = [
    {
        "name": "standard",
        "throttle": {"rateLimit": 50, "burstLimit": 100},
        "quota": {"limit": 100000, "period": "MONTH"},
        "apiKeys": ["partner-a", "partner-b"],
    }
]


@pytest.fixture
def applied(kept_chain: Any, ctx: AwsContext) -> AwsContext:
    """The orders example applied and converged, kept by the worker's sandbox across tests
    (`kept_chain` in conftest.py): `aws` and `ctx` are that sandbox."""
    del kept_chain
    return ctx


def _planned(ctx: AwsContext, doc: dict[str, Any]) -> dict[str, list[str]]:
    """key -> changed paths (or the action) for every resource the plan would touch."""
    outcome = Reconciler(spec(doc), ctx).plan()
    assert not outcome.errors, outcome.errors
    return {
        c.key: [d.path for d in c.deltas] or [str(c.action)]
        for c in outcome.changes
        if c.action is not Action.NOOP
    }


@pytest.mark.usefixtures("spent")
@pytest.mark.parametrize(
    ("change", "planned", "calls"),
    [
        pytest.param(
            {"spec__loadBalancer__targetGroup": {"healthCheck": {"path": "/ready"}}},
            {"target-group": ["healthCheck.path"]},
            {("elbv2", "ModifyTargetGroup")},
            id="health-check-path",
        ),
        pytest.param(
            {"spec__service__desiredCount": 3},
            {"ecs-service": ["desiredCount"]},
            {("ecs", "UpdateService")},
            id="desired-count",
        ),
        pytest.param(
            {
                "spec__api__usagePlans": [
                    PLAN[0] | {"throttle": {"rateLimit": 10, "burstLimit": 20}}
                ]
            },
            {"usage-plan/standard": ["throttle.rateLimit", "throttle.burstLimit"]},
            {("apigateway", "UpdateUsagePlan")},
            id="usage-plan-throttle",
        ),
        pytest.param(
            {
                "spec__api__usagePlans": [
                    PLAN[0] | {"apiKeys": ["partner-a", "partner-b", "partner-c"]}
                ]
            },
            {"api-key/partner-c": ["create"], "usage-plan-key/standard/partner-c": ["create"]},
            {("apigateway", "CreateApiKey"), ("apigateway", "CreateUsagePlanKey")},
            id="one-more-api-key",
        ),
    ],
)
def test_one_spec_change_shows_exactly_that_and_apply_makes_only_its_calls(
    applied: AwsContext,
    change: dict[str, Any],
    planned: dict[str, list[str]],
    calls: set[tuple[str, str]],
):
    """plan names exactly the changed resource and fields; apply makes only the calls they need."""
    doc = orders(**change)
    assert _planned(applied, doc) == planned
    before = applied.counter.mutating()
    result = apply(spec(doc), applied)
    assert result.converged, result.reason
    assert set(mutating_since(applied, before)) == calls
    assert _planned(applied, doc) == {}


def _health_path(aws: Any) -> None:
    elb = aws.client("elbv2")
    arn = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    elb.modify_target_group(TargetGroupArn=arn, HealthCheckPath="/console-edit")


def _usage_plan_key(aws: Any) -> None:
    apigw = aws.client("apigateway")
    plan = apigw.get_usage_plans()["items"][0]
    key = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"][0]
    apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])


def _open_task_group(aws: Any) -> None:
    ec2 = aws.client("ec2")
    group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["ps-shop-orders-task"]}]
    )["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8000,
                "ToPort": 8000,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            }
        ],
    )


def _delete_listener(aws: Any) -> None:
    elb = aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=["ps-shop-orders-nlb"])["LoadBalancers"][0]
    for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
        elb.delete_listener(ListenerArn=listener["ListenerArn"])


@pytest.mark.parametrize(
    ("drift", "planned"),
    [
        pytest.param(_health_path, {"target-group": ["healthCheck.path"]}, id="health-check-path"),
        pytest.param(
            _usage_plan_key,
            {"usage-plan-key/standard/partner-a": ["create"]},
            id="usage-plan-key-removed",
        ),
        pytest.param(
            _open_task_group, {"task-sg": ["ingress"]}, id="task-group-opened-to-the-world"
        ),
        pytest.param(_delete_listener, {"listener": ["create"]}, id="listener-deleted"),
    ],
)
def test_a_change_behind_our_back_shows_in_plan_and_apply_undoes_it(
    aws: Any, applied: AwsContext, drift: Callable[[Any], None], planned: dict[str, list[str]]
):
    """Drift: plan finds it, apply puts it back, and the next plan is clean."""
    drift(aws)
    got = _planned(applied, orders())
    if "usage-plan-key/standard/partner-a" in planned:  # either key may have been the one removed
        assert len(got) == 1
        assert next(iter(got.values())) == ["create"]
        assert next(iter(got)).startswith("usage-plan-key/standard/")
    else:
        assert got == planned
    result = apply(spec(orders()), applied)
    assert result.converged, result.reason
    assert _planned(applied, orders()) == {}
    if drift is _open_task_group:
        ec2 = aws.client("ec2")
        group = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["ps-shop-orders-task"]}]
        )["SecurityGroups"][0]
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
        )["SecurityGroupRules"]
        assert not [
            r
            for r in rules
            if not r["IsEgress"]
            and (r.get("CidrIpv4") == "0.0.0.0/0" or r.get("CidrIpv6") == "::/0")
        ]
