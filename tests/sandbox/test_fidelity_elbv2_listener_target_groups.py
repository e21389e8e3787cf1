"""A target group's LoadBalancerArns follows the listeners and rules forwarding to it, over HTTP
(ELB API reference, TargetGroup.LoadBalancerArns: "the load balancer that routes traffic to this
target group"; DescribeTargetGroups by LoadBalancerArn lists the groups it routes to)."""

from __future__ import annotations

from typing import Any


def _groups_of(build: Any, lb_arn: str) -> list[str]:
    return [
        tg["TargetGroupName"]
        for tg in build.elbv2.describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"]
    ]


def _lbs_of(build: Any, tg_arn: str) -> list[str]:
    (tg,) = build.elbv2.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"]
    return list(tg["LoadBalancerArns"])


def test_a_listener_moved_to_another_group_moves_the_load_balancer_with_it(build):
    """ModifyListener to group b: the NLB routes to b only; a no longer names the NLB."""
    nlb = build.nlb()["LoadBalancerArn"]
    a = build.target_group("a")["TargetGroupArn"]
    b = build.target_group("b")["TargetGroupArn"]
    listener = build.listener(nlb, a)["ListenerArn"]
    build.elbv2.modify_listener(
        ListenerArn=listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": b}]
    )
    assert _groups_of(build, nlb) == ["b"]
    assert (_lbs_of(build, a), _lbs_of(build, b)) == ([], [nlb])


def test_a_group_still_forwarded_to_by_another_listener_keeps_the_load_balancer(build):
    """Two listeners on group a, one moved to b: a is still routed to by the other listener."""
    nlb = build.nlb()["LoadBalancerArn"]
    a = build.target_group("a")["TargetGroupArn"]
    b = build.target_group("b")["TargetGroupArn"]
    first = build.listener(nlb, a, port=80)["ListenerArn"]
    build.listener(nlb, a, port=81)
    build.elbv2.modify_listener(
        ListenerArn=first, DefaultActions=[{"Type": "forward", "TargetGroupArn": b}]
    )
    assert sorted(_groups_of(build, nlb)) == ["a", "b"]
    assert _lbs_of(build, a) == [nlb]


def test_a_deleted_listener_no_longer_routes_to_its_group(build):
    """DeleteListener: the group no longer names the load balancer."""
    nlb = build.nlb()["LoadBalancerArn"]
    a = build.target_group("a")["TargetGroupArn"]
    listener = build.listener(nlb, a)["ListenerArn"]
    build.elbv2.delete_listener(ListenerArn=listener)
    assert _lbs_of(build, a) == []
