"""Listener tags read by remembered ARN in shared chunks (`elbv2_reads.listeners_with_tags`), on
the sandbox over HTTP: what it saves, and that a listener gone, added or changed behind our back
is seen at the next check."""

from __future__ import annotations

from typing import Any

import pytest
from support import context
from test_elbv2_handlers import lb_props, tg_props

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.handlers import elbv2_reads
from controller.handlers.base import Desired
from controller.handlers.elbv2_listener import ListenerHandler
from controller.handlers.elbv2_load_balancer import LoadBalancerHandler
from controller.handlers.elbv2_reads import ListenerMemo
from controller.handlers.elbv2_target_group import TargetGroupHandler
from controller.model.stack import Resource


def _want(kind: str, component: str, props: dict[str, Any], owner: str) -> Desired:
    tags = ownership.owner_tags(owner, component, {})
    return Desired(Resource(component, kind, component, props), props, tags, owner)


def _chain(ctx: AwsContext, aws: Any, n: int) -> list[Desired]:
    """n owners, each with an NLB, a target group and a listener forwarding to it; returns
    each owner's listener as the engine asks for it."""
    ec2 = aws.client("ec2")
    wants = []
    for i in range(n):
        owner = f"shop/svc-{i}"
        sg = ec2.create_security_group(
            GroupName=f"lb-{i}", Description="lb", VpcId=aws.network.vpc_id
        )["GroupId"]
        lb = LoadBalancerHandler(ctx).create(
            _want("elbv2.load_balancer", "nlb", lb_props(aws, sg, name=f"ps-svc-{i}-nlb"), owner)
        )
        tg = TargetGroupHandler(ctx).create(
            _want("elbv2.target_group", "target-group", tg_props(aws, name=f"ps-svc-{i}-tg"), owner)
        )
        want = _want(
            "elbv2.listener",
            "listener",
            {"loadBalancerArn": lb.id, "port": 80, "protocol": "TCP", "targetGroupArn": tg.id},
            owner,
        )
        ListenerHandler(ctx).create(want)
        wants.append(want)
    return wants


@pytest.fixture(autouse=True)
def _no_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests read by ARN right after the full read (see the reuse test for that case)."""
    monkeypatch.setattr(elbv2_reads, "REUSE_SECONDS", 0.0)


def _listener_calls(ctx: AwsContext) -> dict[str, int]:
    snap = ctx.counter.snapshot()
    return {op: snap[("elbv2", op)] for op in ("DescribeListeners", "DescribeTags")}


def _observe_all(ctx: AwsContext, wants: list[Desired]) -> list[Any]:
    return [ListenerHandler(ctx).observe(w) for w in wants]


def test_remembered_listeners_are_read_in_shared_chunks(aws: Any) -> None:
    """After the first read, every spec's listeners are listed (one DescribeListeners per load
    balancer: a new listener must be seen at every check) and their tags read with the others'
    in one shared DescribeTags for three specs, and each still finds its own listener."""
    ctx = context(aws, read_cache_seconds=30)
    wants = _chain(ctx, aws, 3)
    first = _observe_all(ctx, wants)  # learns the ARNs (a new process)
    assert ctx.cache is not None
    ctx.cache.invalidate("elbv2")  # the snapshot's ttl has passed; the memo has not
    before = _listener_calls(ctx)
    again = _observe_all(ctx, wants)
    after = _listener_calls(ctx)
    assert after["DescribeListeners"] - before["DescribeListeners"] == 3
    assert after["DescribeTags"] - before["DescribeTags"] == 1
    for made, seen in zip(first, again, strict=True):
        assert seen is not None
        assert made is not None
        assert (seen.id, seen.props, seen.tags) == (made.id, made.props, made.tags)


def test_a_remembered_listener_deleted_behind_our_back_is_seen_gone(aws: Any) -> None:
    """A listener deleted by someone else after it was remembered: the batch misses it, the
    load balancer is read in full again, and observe reports it absent (to be recreated)."""
    ctx = context(aws, read_cache_seconds=30)
    wants = _chain(ctx, aws, 2)
    seen = _observe_all(ctx, wants)
    aws.client("elbv2").delete_listener(ListenerArn=seen[0].id)
    assert ctx.cache is not None
    ctx.cache.invalidate("elbv2")  # the snapshot's ttl has passed; the memo has not
    assert ListenerHandler(ctx).observe(wants[0]) is None
    other = ListenerHandler(ctx).observe(wants[1])
    assert other is not None
    assert other.id == seen[1].id


def test_a_listener_added_by_someone_else_is_seen_at_the_next_check(aws: Any) -> None:
    """A listener someone adds to our load balancer after its ARNs were remembered is reported
    as foreign at the very next observe (with its own tags learnt), not minutes later."""
    ctx = context(aws, read_cache_seconds=30)
    wants = _chain(ctx, aws, 1)
    ours = ListenerHandler(ctx).observe(wants[0])
    assert ours is not None
    assert ours.foreign == []
    aws.client("elbv2").create_listener(
        LoadBalancerArn=wants[0].props["loadBalancerArn"],
        Port=9090,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": ours.props["targetGroupArn"]}],
    )
    assert ctx.cache is not None
    ctx.cache.invalidate("elbv2")  # the snapshot's ttl has passed; the memo has not
    seen = ListenerHandler(ctx).observe(wants[0])
    assert seen is not None
    assert seen.id == ours.id
    assert [what.split()[:2] for _, what in seen.foreign] == [["TCP", "9090"]]


def test_a_change_to_a_remembered_listener_is_seen(aws: Any) -> None:
    """Drift on a remembered listener (its port) shows in the read by ARN."""
    ctx = context(aws, read_cache_seconds=30)
    wants = _chain(ctx, aws, 1)
    ours = ListenerHandler(ctx).observe(wants[0])
    assert ours is not None
    aws.client("elbv2").modify_listener(ListenerArn=ours.id, Port=8443)
    assert ctx.cache is not None
    ctx.cache.invalidate("elbv2")
    before = _listener_calls(ctx)
    drifted = ListenerHandler(ctx).observe(wants[0])
    assert drifted is not None
    assert drifted.props["port"] == 8443
    assert _listener_calls(ctx)["DescribeListeners"] == before["DescribeListeners"] + 1


def test_forget_and_a_failed_chunk_go_back_to_full_reads() -> None:
    """The memo: forgetting the service (an event) drops it; a chunk that failed drops every
    load balancer holding one of its listeners; a load balancer never learnt, or without
    listeners, has its tags read on their own."""
    memo = ListenerMemo()
    memo.learn("lb-a", ["li-a"])
    memo.learn("lb-b", ["li-b"])
    memo.learn("lb-c", [])
    assert memo.chunks_for("lb-a") == [["li-a", "li-b"]]
    assert memo.chunks_for("lb-c") is None
    assert memo.chunks_for("lb-x") is None
    memo.drop_holding(["li-b"])
    assert memo.chunks_for("lb-b") is None
    assert memo.chunks_for("lb-a") == [["li-a"]]
    ctx = AwsContext(AwsSettings(region="eu-west-1", read_cache_seconds=5))
    memo_of = ctx.memo("elbv2")
    assert memo_of is not None
    memo_of["listeners"] = memo
    assert ctx.memo("elbv2") is memo_of
    ctx.forget("elbv2")
    assert ctx.memo("elbv2") == {}
    assert AwsContext(AwsSettings(region="eu-west-1")).memo("elbv2") is None


def test_a_full_read_of_this_pass_is_reused_not_followed_by_a_read_by_arn(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within REUSE_SECONDS of the full read (one pass of a one-shot command: the listener,
    then the security groups that ask which ports it listens on), the next reader repeats the
    full read, which the snapshot answers: no call, where a read by ARN would be two."""
    monkeypatch.setattr(elbv2_reads, "REUSE_SECONDS", 5.0)
    ctx = context(aws, read_cache_seconds=30)
    wants = _chain(ctx, aws, 1)
    ListenerHandler(ctx).observe(wants[0])
    before = _listener_calls(ctx)
    again = ListenerHandler(ctx).observe(wants[0])
    assert again is not None
    assert _listener_calls(ctx) == before
