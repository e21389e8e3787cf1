"""ELBv2 over HTTP: idempotent creates, Duplicate* errors on conflicts, strict name lookups."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return caught.value.response["Error"]["Code"]


def test_describe_load_balancers_with_a_missing_name_fails(build):
    """AWS: DescribeLoadBalancers(Names=[...]) raises LoadBalancerNotFound ("The specified load
    balancer does not exist") when any of the names is unknown, even if others exist."""
    build.nlb("present")
    with pytest.raises(ClientError) as caught:
        build.elbv2.describe_load_balancers(Names=["present", "missing"])
    assert _code(caught) == "LoadBalancerNotFound"
    found = build.elbv2.describe_load_balancers(Names=["present"])["LoadBalancers"]
    assert [lb["LoadBalancerName"] for lb in found] == ["present"]


def test_create_load_balancer_twice_with_same_settings_returns_the_first(build):
    """AWS CreateLoadBalancer: "This operation is idempotent ... If you attempt to create
    multiple load balancers with the same settings, each call succeeds" (one load balancer)."""
    first = build.nlb("same")
    second = build.nlb("same")
    assert second["LoadBalancerArn"] == first["LoadBalancerArn"]
    assert len(build.elbv2.describe_load_balancers()["LoadBalancers"]) == 1


def test_create_load_balancer_same_name_other_settings_is_duplicate(build):
    """AWS: the same name with different settings is DuplicateLoadBalancerName."""
    build.nlb("same")
    with pytest.raises(ClientError) as caught:
        build.nlb("same", security_groups=[build.security_group()])
    assert _code(caught) == "DuplicateLoadBalancerName"


def test_create_target_group_twice_with_same_settings_returns_the_first(build):
    """AWS CreateTargetGroup: "This operation is idempotent ... If you attempt to create
    multiple target groups with the same settings, each call succeeds"."""
    first = build.target_group("same")
    second = build.target_group("same")
    assert second["TargetGroupArn"] == first["TargetGroupArn"]
    assert len(build.elbv2.describe_target_groups()["TargetGroups"]) == 1


def test_create_target_group_same_name_other_settings_is_duplicate(build):
    """AWS: the same target group name with different settings is DuplicateTargetGroupName."""
    build.target_group("same", port=8080)
    with pytest.raises(ClientError) as caught:
        build.target_group("same", port=9090)
    assert _code(caught) == "DuplicateTargetGroupName"


def test_create_listener_twice_with_same_settings_returns_the_first(build):
    """AWS CreateListener: "This operation is idempotent ... If you attempt to create multiple
    listeners with the same settings, each call succeeds" (one listener)."""
    arn = build.nlb()["LoadBalancerArn"]
    tg_arn = build.target_group()["TargetGroupArn"]
    first = build.listener(arn, tg_arn)
    second = build.listener(arn, tg_arn)
    assert second["ListenerArn"] == first["ListenerArn"]
    assert len(build.elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]) == 1


def test_create_listener_on_occupied_port_with_other_settings_is_duplicate(build):
    """AWS: a listener on a port that already has one with different settings is
    DuplicateListener ("A listener with the specified port already exists")."""
    arn = build.nlb()["LoadBalancerArn"]
    build.listener(arn, build.target_group("one")["TargetGroupArn"])
    with pytest.raises(ClientError) as caught:
        build.listener(arn, build.target_group("two")["TargetGroupArn"])
    assert _code(caught) == "DuplicateListener"


def test_listeners_on_other_ports_coexist(build):
    """AWS: listeners on different ports of one load balancer are separate listeners."""
    arn = build.nlb()["LoadBalancerArn"]
    tg_arn = build.target_group()["TargetGroupArn"]
    build.listener(arn, tg_arn, port=80)
    build.listener(arn, tg_arn, port=8080)
    assert len(build.elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]) == 2
