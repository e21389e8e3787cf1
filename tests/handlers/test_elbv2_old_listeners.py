"""A listener port change, create-before-delete (issue 14), against the sandbox over HTTP: the
listener handler adds the new port beside the old one, `OldListenersHandler` deletes our other
listeners only while one of ours is on the wanted port (never someone else's), and the NLB's
security group keeps the old port's rule while our listener still listens on it."""

from __future__ import annotations

from typing import Any

import pytest

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.errors import TemporaryError
from controller.handlers.base import Desired
from controller.handlers.ec2_security_group import SecurityGroupHandler
from controller.handlers.elbv2_listener import ListenerHandler
from controller.handlers.elbv2_old_listeners import OldListenersHandler, listened_ports
from controller.model.common import ALL_TRAFFIC_EGRESS, tcp_from
from controller.model.stack import UNKNOWN, Resource

OWNER = "default/orders"
NLB_NAME = "ps-default-orders-nlb"


def desired(key: str, kind: str, props: dict[str, Any], component: str | None = None) -> Desired:
    tags = ownership.owner_tags(OWNER, component or key, {})
    return Desired(Resource(key, kind, component or key, props), props, tags, OWNER)


@pytest.fixture
def ctx(aws: Any) -> AwsContext:
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))


@pytest.fixture
def chain(aws: Any) -> dict[str, str]:
    """An internal NLB with a TCP target group (made with a plain client)."""
    elb = aws.client("elbv2")
    lb = elb.create_load_balancer(
        Name=NLB_NAME,
        Type="network",
        Scheme="internal",
        Subnets=list(aws.network.private_subnet_ids),
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name="ps-default-orders-tg",
        Protocol="TCP",
        Port=8000,
        VpcId=aws.network.vpc_id,
        TargetType="ip",
    )["TargetGroups"][0]["TargetGroupArn"]
    return {"lb": lb, "tg": tg}


def listener(chain: dict[str, str], port: int, beside: bool = True) -> Desired:
    props = {
        "loadBalancerArn": chain["lb"],
        "port": port,
        "protocol": "TCP",
        "targetGroupArn": chain["tg"],
        "newPortBeside": beside,
    }
    return desired("listener", "elbv2.listener", props)


def old_listeners(chain: dict[str, str], port: int) -> Desired:
    props = {"loadBalancerArn": chain["lb"], "component": "listener", "port": port, "oldPorts": []}
    return desired("old-listeners", "elbv2.old_listeners", props, component="listener")


def ports(aws: Any, chain: dict[str, str]) -> list[int]:
    found = aws.client("elbv2").describe_listeners(LoadBalancerArn=chain["lb"])["Listeners"]
    return sorted(li["Port"] for li in found)


def _move(ctx: AwsContext, chain: dict[str, str], beside: bool = True) -> ListenerHandler:
    """A listener of ours on 80, then the spec's port changed to 8080."""
    handler = ListenerHandler(ctx)
    handler.create(listener(chain, 80, beside))
    want = listener(chain, 8080, beside)
    have = handler.observe(want)
    assert have is not None
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == ["port"]
    handler.update(want, have, deltas)
    return handler


def test_a_port_change_adds_the_new_listener_beside_the_old(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """With newPortBeside the old listener stays and a new one (ours, same target group) is on
    the new port; observe then reads the new one, with nothing left to change."""
    handler = _move(ctx, chain)
    assert ports(aws, chain) == [80, 8080]
    want = listener(chain, 8080)
    have = handler.observe(want)
    assert have is not None
    assert (have.props["port"], have.props["targetGroupArn"]) == (8080, chain["tg"])
    assert handler.diff(want, have) == []
    assert listened_ports(aws.client("elbv2"), NLB_NAME, OWNER) == {80, 8080}


def test_without_beside_a_port_change_moves_the_listener_in_place(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """The ALB's listener (no newPortBeside) keeps the one ModifyListener."""
    _move(ctx, chain, beside=False)
    assert ports(aws, chain) == [8080]


def test_old_listeners_are_deleted_but_never_someone_elses(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """`oldPorts` reports our other listener; update deletes it and leaves a listener someone
    else added (untagged) on another port."""
    _move(ctx, chain)
    aws.client("elbv2").create_listener(
        LoadBalancerArn=chain["lb"],
        Port=9000,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": chain["tg"]}],
    )
    handler, want = OldListenersHandler(ctx), old_listeners(chain, 8080)
    have = handler.observe(want)
    assert have is not None
    assert have.owned_by(OWNER)
    deltas = handler.diff(want, have)
    assert [(d.path, d.desired, d.actual) for d in deltas] == [("oldPorts", [], [80])]
    handler.update(want, have, deltas)
    assert ports(aws, chain) == [8080, 9000]
    again = handler.observe(want)
    assert again is not None
    assert handler.diff(want, again) == []


def test_the_last_listener_of_ours_is_never_deleted(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """No listener of ours on the wanted port yet: the old one stays and it is a short wait."""
    ListenerHandler(ctx).create(listener(chain, 80))
    handler, want = OldListenersHandler(ctx), old_listeners(chain, 8080)
    have = handler.observe(want)
    assert have is not None
    assert have.props["oldPorts"] == [80]
    with pytest.raises(TemporaryError, match="no listener of ours on port 8080"):
        handler.update(want, have, handler.diff(want, have))
    assert ports(aws, chain) == [80]


def _nlb_group(aws: Any, port: int, **extra: Any) -> Desired:
    props = {
        "name": NLB_NAME,
        "description": f"privateservice {OWNER}: NLB",
        "vpcId": aws.network.vpc_id,
        "ingress": [tcp_from(port, cidr=aws.network.cidr, why="listener from the VPC")],
        "egress": ALL_TRAFFIC_EGRESS,
        "keepPortsListenedBy": NLB_NAME,
        **extra,
    }
    return desired("nlb-sg", "ec2.security_group", props)


def _admitted(aws: Any, group_id: str) -> list[tuple[int, int]]:
    (group,) = aws.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return sorted((p["FromPort"], p["ToPort"]) for p in group["IpPermissions"])


def test_the_nlb_group_keeps_the_old_port_while_our_listener_listens(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """80 -> 8080: 8080 is authorized, 80 kept (settling) while our listener on 80 stands, and
    revoked on the next update once it is gone."""
    _move(ctx, chain)
    sg = SecurityGroupHandler(ctx)
    have = sg.create(_nlb_group(aws, 80))
    want = _nlb_group(aws, 8080)
    after = sg.update(want, have, sg.diff(want, have))
    assert _admitted(aws, have.id) == [(80, 80), (8080, 8080)]
    assert after.settling is not None
    assert "80" in after.settling
    old = OldListenersHandler(ctx)
    gone = old_listeners(chain, 8080)
    seen = old.observe(gone)
    assert seen is not None
    old.update(gone, seen, old.diff(gone, seen))
    sg.refresh()
    final = sg.update(want, after, sg.diff(want, after))
    assert _admitted(aws, have.id) == [(8080, 8080)]
    assert final.settling is None


def test_a_wider_rule_someone_added_is_revoked_even_while_listened(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """Only the exact rule of a listened port waits: 0-65535 from the VPC, added behind our
    back, is revoked although our listener listens on 80."""
    ListenerHandler(ctx).create(listener(chain, 80))
    sg = SecurityGroupHandler(ctx)
    have = sg.create(_nlb_group(aws, 80))
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=have.id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 0,
                "ToPort": 65535,
                "IpRanges": [{"CidrIp": aws.network.cidr}],
            }
        ],
    )
    sg.refresh()
    want = _nlb_group(aws, 80)
    seen = sg.observe(want)
    assert seen is not None
    after = sg.update(want, seen, sg.diff(want, seen))
    assert _admitted(aws, have.id) == [(80, 80)]
    assert after.settling is None


def test_an_old_listener_drains_before_it_goes(
    aws: Any, ctx: AwsContext, chain: dict[str, str]
) -> None:
    """With drainSeconds, the first pass that could delete the old listener starts its drain
    (a short wait naming the port), and a pass after the drain deletes it."""
    _move(ctx, chain)
    now = [1000.0]
    handler = OldListenersHandler(ctx)
    handler.clock = lambda: now[0]
    want = old_listeners(chain, 8080)
    want = Desired(want.resource, {**want.props, "drainSeconds": 30}, want.tags, OWNER)
    have = handler.observe(want)
    assert have is not None
    with pytest.raises(TemporaryError, match="port 80 drains 30 s more") as waited:
        handler.update(want, have, handler.diff(want, have))
    assert waited.value.delay == 5.0
    now[0] += 29
    with pytest.raises(TemporaryError, match="drains 1 s more"):
        handler.update(want, have, handler.diff(want, have))
    assert ports(aws, chain) == [80, 8080]
    now[0] += 1
    handler.update(want, have, handler.diff(want, have))
    assert ports(aws, chain) == [8080]


def test_before_the_load_balancer_exists_there_is_nothing_to_retire(ctx: AwsContext) -> None:
    """A plan of a new spec: the load balancer's ARN is not known yet, so the handler reads
    nothing and reports no old port (no change to show, nothing AWS would ever hold)."""
    handler = OldListenersHandler(ctx)
    props = {"loadBalancerArn": UNKNOWN, "component": "listener", "port": 80, "oldPorts": []}
    want = desired("old-listeners", "elbv2.old_listeners", props, component="listener")
    before = sum(ctx.counter.snapshot().values())
    have = handler.observe(want)
    assert have is not None
    assert handler.diff(want, have) == []
    assert sum(ctx.counter.snapshot().values()) == before
