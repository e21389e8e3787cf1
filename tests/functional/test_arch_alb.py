"""Seed 001 over HTTP: REST API -> VPC Link -> NLB -> internal ALB -> ip target group -> Fargate.

The catalog example without `serviceConnect` (not built yet): apply converges with the chain the
seed asks for, a second apply changes nothing, a rule changed behind our back is found by plan
and put back by apply, and delete leaves nothing owned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from chain import EXAMPLES, apply, delete, keep, mutating_since, owned_everywhere, spec

from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

OWNER = "shop/catalog"


def catalog() -> dict[str, Any]:
    """examples/catalog-nlb-alb.yaml without Service Connect."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "catalog-nlb-alb.yaml").read_text())
    del doc["spec"]["service"]["serviceConnect"]
    return doc


@pytest.fixture
def kept_chain(kept: Any) -> Iterator[Any]:
    """The catalog chain applied, kept by the worker's sandbox across tests (`chain.keep`)."""
    yield from keep(kept, "functional: catalog without Service Connect", lambda: spec(catalog()))


@pytest.fixture
def applied(kept_chain: Any, ctx: AwsContext) -> AwsContext:
    """The catalog chain applied and converged (`kept_chain`: `aws` and `ctx` are its sandbox)."""
    del kept_chain
    return ctx


def _group(ec2: Any, name: str) -> dict[str, Any]:
    return ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])[
        "SecurityGroups"
    ][0]


def _ingress(ec2: Any, group_id: str) -> set[tuple[int, str]]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return {
        (r["FromPort"], r.get("ReferencedGroupInfo", {}).get("GroupId") or r.get("CidrIpv4", ""))
        for r in rules["SecurityGroupRules"]
        if not r["IsEgress"]
    }


def _alb_rules(elb: Any) -> tuple[str, list[dict[str, Any]]]:
    alb = elb.describe_load_balancers(Names=["ps-shop-catalog-alb"])["LoadBalancers"][0]
    (listener,) = elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    rules = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    return listener["ListenerArn"], [r for r in rules if not r["IsDefault"]]


def test_catalog_chain_converges_with_the_alb_tier_and_reapplies_with_no_call(
    aws: Any, applied: AwsContext
):
    """The ALB, its group (listener port from the NLB's group), listener and rule, the ip group
    behind it, the NLB's `alb` group with the ALB registered, tasks admitting only the ALB."""
    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    nlb_sg, alb_sg = _group(ec2, "ps-shop-catalog-nlb"), _group(ec2, "ps-shop-catalog-alb")
    task_sg = _group(ec2, "ps-shop-catalog-task")
    assert _ingress(ec2, alb_sg["GroupId"]) == {(80, nlb_sg["GroupId"])}
    assert _ingress(ec2, task_sg["GroupId"]) == {(8080, alb_sg["GroupId"])}

    alb = elb.describe_load_balancers(Names=["ps-shop-catalog-alb"])["LoadBalancers"][0]
    assert (alb["Type"], alb["Scheme"]) == ("application", "internal")
    assert alb["SecurityGroups"] == [alb_sg["GroupId"]]
    (nlb_tg,) = elb.describe_target_groups(Names=["ps-shop-catalog-tg"])["TargetGroups"]
    assert (nlb_tg["TargetType"], nlb_tg["Protocol"], nlb_tg["Port"]) == ("alb", "TCP", 80)
    health = elb.describe_target_health(TargetGroupArn=nlb_tg["TargetGroupArn"])
    assert [d["Target"]["Id"] for d in health["TargetHealthDescriptions"]] == [
        alb["LoadBalancerArn"]
    ]
    (alb_tg,) = elb.describe_target_groups(Names=["ps-shop-catalog-alb-tg"])["TargetGroups"]
    assert (alb_tg["TargetType"], alb_tg["Protocol"], alb_tg["Port"]) == ("ip", "HTTP", 8080)
    assert alb_tg["HealthCheckPath"] == "/healthz"

    _, rules = _alb_rules(elb)
    assert [(r["Priority"], r["Conditions"][0]["PathPatternConfig"]["Values"]) for r in rules] == [
        ("1", ["/*"])
    ]
    assert rules[0]["Actions"][0]["TargetGroupArn"] == alb_tg["TargetGroupArn"]

    ecs = aws.client("ecs")
    (svc_arn,) = ecs.list_services(cluster="shop")["serviceArns"]
    svc = ecs.describe_services(cluster="shop", services=[svc_arn])["services"][0]
    assert svc["loadBalancers"][0]["targetGroupArn"] == alb_tg["TargetGroupArn"]

    before = applied.counter.mutating()
    again = apply(spec(catalog()), applied)
    assert again.converged, again.reason
    assert mutating_since(applied, before) == {}


def _rule_path(aws: Any) -> None:
    elb = aws.client("elbv2")
    _, rules = _alb_rules(elb)
    elb.modify_rule(
        RuleArn=rules[0]["RuleArn"],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/console/*"]}}],
    )


def _rule_priority(aws: Any) -> None:
    elb = aws.client("elbv2")
    _, rules = _alb_rules(elb)
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": rules[0]["RuleArn"], "Priority": 7}])


def _rule_deleted(aws: Any) -> None:
    elb = aws.client("elbv2")
    _, rules = _alb_rules(elb)
    elb.delete_rule(RuleArn=rules[0]["RuleArn"])


@pytest.mark.parametrize(
    ("drift", "planned", "call"),
    [
        pytest.param(_rule_path, ["rules"], ("elbv2", "ModifyRule"), id="rule-path-pattern"),
        pytest.param(_rule_priority, ["rules"], ("elbv2", "SetRulePriorities"), id="rule-priority"),
        pytest.param(_rule_deleted, ["create"], ("elbv2", "CreateRule"), id="rule-deleted"),
    ],
)
def test_an_alb_rule_changed_behind_our_back_is_planned_and_put_back(
    aws: Any,
    applied: AwsContext,
    drift: Callable[[Any], None],
    planned: list[str],
    call: tuple[str, str],
):
    """plan names the rule set and nothing else; apply makes the one call; plan is clean."""
    drift(aws)
    outcome = Reconciler(spec(catalog()), applied).plan()
    changed = {
        c.key: [d.path for d in c.deltas] or [str(c.action)]
        for c in outcome.changes
        if c.action is not Action.NOOP
    }
    assert changed == {"alb-rules": planned}
    before = applied.counter.mutating()
    result = apply(spec(catalog()), applied)
    assert result.converged, result.reason
    assert set(mutating_since(applied, before)) == {call}
    _, rules = _alb_rules(aws.client("elbv2"))
    assert [(r["Priority"], r["Conditions"][0]["PathPatternConfig"]["Values"]) for r in rules] == [
        ("1", ["/*"])
    ]


@pytest.mark.usefixtures("spent")
def test_delete_leaves_nothing_owned(aws: Any, applied: AwsContext):
    """Consumers first: the ALB's registration, rules, listener, ALB, groups; nothing is left."""
    assert set(owned_everywhere(aws, OWNER)) >= {"ec2", "elbv2", "ecs", "apigateway"}
    result = delete(spec(catalog()), applied)
    assert result.converged, result.reason
    assert owned_everywhere(aws, OWNER) == {}
    assert aws.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
