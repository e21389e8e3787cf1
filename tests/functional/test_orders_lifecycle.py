"""Delete and ownership over HTTP: nothing owned left, nothing foreign touched, Retain keeps."""

from __future__ import annotations

from typing import Any

from chain import apply, delete, orders, owned_everywhere, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action


def test_delete_leaves_no_owned_resource_behind(aws: Any, applied: AwsContext):
    """Every resource with our owner tag is gone after delete; a second delete is a no-op."""
    assert set(owned_everywhere(aws)) >= {"ec2", "elbv2", "ecs", "apigateway", "logs", "iam"}
    result = delete(spec(orders()), applied)
    assert result.converged, result.reason
    assert owned_everywhere(aws) == {}
    assert aws.client("elbv2").describe_target_groups()["TargetGroups"] == []
    again = delete(spec(orders()), applied)
    assert again.converged
    assert not again.outcome.mutated


def test_a_same_named_resource_without_our_tag_survives_untouched(aws: Any, ctx: AwsContext):
    """Apply reports the conflict and does not touch it; delete leaves it; ours still go."""
    elb = aws.client("elbv2")
    theirs = elb.create_target_group(
        Name="ps-shop-orders-tg",
        Protocol="TCP",
        Port=9999,
        VpcId=aws.network.vpc_id,
        TargetType="ip",
        Tags=[{"Key": "owner", "Value": "another-team"}],
    )["TargetGroups"][0]
    result = apply(spec(orders()), ctx, timeout=90)  # returns at the conflict
    assert not result.converged
    conflict = next(c for c in result.outcome.changes if c.key == "target-group")
    assert conflict.action is Action.CONFLICT
    assert ownership.OWNER in (conflict.message or "")
    assert "target-group" in (result.reason or "")
    assert delete(spec(orders()), ctx).converged
    (after,) = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"]
    assert after["Port"] == 9999
    assert after["TargetGroupArn"] == theirs["TargetGroupArn"]
    tags = elb.describe_tags(ResourceArns=[after["TargetGroupArn"]])["TagDescriptions"][0]["Tags"]
    assert ownership.from_list(tags) == {"owner": "another-team"}
    assert owned_everywhere(aws) == {}


def test_retain_keeps_everything(aws: Any, ctx: AwsContext):
    """deletionPolicy: Retain: delete makes no mutating call and every resource stays."""
    doc = orders(spec__deletionPolicy="Retain")
    assert apply(spec(doc), ctx).converged
    before_owned = owned_everywhere(aws)
    before = ctx.counter.mutating()
    result = delete(spec(doc), ctx)
    assert result.converged
    assert {c.action for c in result.outcome.changes} == {Action.RETAIN}
    assert ctx.counter.mutating() - before == {}
    assert owned_everywhere(aws) == before_owned


def test_removed_api_key_is_swept_with_its_plan_association(aws: Any, applied: AwsContext):
    """An API key dropped from the spec is deleted (it is ours); the other stays in its plan."""
    plan = orders()["spec"]["api"]["usagePlans"][0] | {"apiKeys": ["partner-a"]}
    assert apply(spec(orders(spec__api__usagePlans=[plan])), applied).converged
    apigw = aws.client("apigateway")
    keys = {k["name"]: k["id"] for k in apigw.get_api_keys()["items"]}
    assert set(keys) == {"shop/orders/partner-a"}
    (usage_plan,) = apigw.get_usage_plans()["items"]
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=usage_plan["id"])["items"]] == [
        keys["shop/orders/partner-a"]
    ]
