"""ELBv2 handlers against the sandbox over HTTP: target groups, load balancers, listeners, rules,
targets and the shared reads of `elbv2_reads`.

Every test builds `Desired` props in the shape `controller.model.load_balancer` and
`controller.model.alb` produce, drives one handler, and checks what AWS then holds; drift is
made with a plain boto3 client behind the handler's back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.errors import TemporaryError
from controller.handlers.base import Desired, Handler, Observed
from controller.handlers.elbv2_listener import ListenerHandler
from controller.handlers.elbv2_load_balancer import LoadBalancerHandler
from controller.handlers.elbv2_reads import TAGS_PER_CALL, chunk_tags, tags_of
from controller.handlers.elbv2_rules import ListenerRulesHandler
from controller.handlers.elbv2_target_group import TargetGroupHandler
from controller.handlers.elbv2_targets import TargetsHandler
from controller.model.stack import Resource

OWNER = "default/orders"
OTHER_OWNER = "default/billing"
TG_NAME = "ps-default-orders-tg"
NLB_NAME = "ps-default-orders-nlb"
ALB_NAME = "ps-default-orders-alb"
DELAY = "deregistration_delay.timeout_seconds"
CROSS_ZONE = "load_balancing.cross_zone.enabled"
DROP_HEADERS = "routing.http.drop_invalid_header_fields.enabled"


def desired(kind: str, component: str, props: dict[str, Any], owner: str = OWNER) -> Desired:
    tags = ownership.owner_tags(owner, component, {"team": "payments"})
    return Desired(Resource(component, kind, component, props), props, tags, owner)


def context(aws: Any, **kw: Any) -> AwsContext:
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url, **kw))


@pytest.fixture
def ctx(aws: Any) -> AwsContext:
    return context(aws)


@pytest.fixture
def elbv2(aws: Any) -> Any:
    """A plain boto3 client: the engineer changing things behind the controller's back."""
    return aws.client("elbv2")


@pytest.fixture
def sg_id(aws: Any) -> str:
    group = aws.client("ec2").create_security_group(
        GroupName="ps-default-orders-lb", Description="lb", VpcId=aws.network.vpc_id
    )
    return str(group["GroupId"])


# -- props in the model's shape -------------------------------------------------------------


def tg_props(aws: Any, kind: str = "nlb-ip", **over: Any) -> dict[str, Any]:
    """A target group's props: `nlb-ip` (Fargate behind the NLB, TCP check), `nlb-instance`
    (EC2 host port), `nlb-alb` (the NLB in front of an ALB, HTTP check), `alb-ip` (the ALB's)."""
    tcp_check = {
        "protocol": "TCP",
        "port": "traffic-port",
        "intervalSeconds": 30,
        "timeoutSeconds": 10,
        "healthyThreshold": 3,
        "unhealthyThreshold": 3,
    }
    http_check = {
        "protocol": "HTTP",
        "port": "traffic-port",
        "intervalSeconds": 15,
        "timeoutSeconds": 5,
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "path": "/healthz",
        "matcher": "200-399",
    }
    shapes: dict[str, dict[str, Any]] = {
        "nlb-ip": {
            "protocol": "TCP",
            "port": 8080,
            "targetType": "ip",
            "healthCheck": tcp_check,
            "attributes": {DELAY: "30"},
        },
        "nlb-instance": {
            "protocol": "TCP",
            "port": 32768,
            "targetType": "instance",
            "healthCheck": tcp_check,
            "attributes": {DELAY: "30"},
        },
        "nlb-alb": {
            "protocol": "TCP",
            "port": 80,
            "targetType": "alb",
            "healthCheck": http_check,
            "attributes": {},
        },
        "alb-ip": {
            "protocol": "HTTP",
            "port": 8080,
            "targetType": "ip",
            "healthCheck": http_check | {"matcher": "200"},
            "attributes": {DELAY: "45"},
        },
    }
    return {"name": TG_NAME, "vpcId": aws.network.vpc_id, **shapes[kind]} | over


def lb_props(aws: Any, sg: str, kind: str = "nlb", **over: Any) -> dict[str, Any]:
    """A load balancer's props: the internal NLB (enforcement off: it serves a VPC Link) or the
    internal ALB."""
    subnets = sorted(aws.network.private_subnet_ids)
    if kind == "nlb":
        props = {
            "name": NLB_NAME,
            "type": "network",
            "scheme": "internal",
            "subnets": subnets,
            "securityGroups": [sg],
            "attributes": {CROSS_ZONE: "false"},
            "enforcePrivateLinkInboundRules": "off",
        }
    else:
        props = {
            "name": ALB_NAME,
            "type": "application",
            "scheme": "internal",
            "subnets": subnets,
            "securityGroups": [sg],
            "attributes": {DROP_HEADERS: "true"},
        }
    return props | over


def make_tg(ctx: AwsContext, aws: Any, kind: str = "nlb-ip", **over: Any) -> Observed:
    return TargetGroupHandler(ctx).create(
        desired("elbv2.target_group", "target-group", tg_props(aws, kind, **over))
    )


def make_lb(ctx: AwsContext, aws: Any, sg: str, kind: str = "nlb") -> Observed:
    return LoadBalancerHandler(ctx).create(
        desired("elbv2.load_balancer", kind, lb_props(aws, sg, kind))
    )


def listener_want(lb_arn: str, **props: Any) -> Desired:
    return desired("elbv2.listener", "listener", {"loadBalancerArn": lb_arn, **props})


# -- observe: absent -----------------------------------------------------------------------


def _absent_target_group(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired]:
    return TargetGroupHandler(ctx), desired("elbv2.target_group", "tg", tg_props(aws))


def _absent_load_balancer(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired]:
    return LoadBalancerHandler(ctx), desired("elbv2.load_balancer", "nlb", lb_props(aws, sg))


def _listener_on_bare_nlb(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired]:
    lb = make_lb(ctx, aws, sg)
    return ListenerHandler(ctx), listener_want(lb.id, port=443, protocol="TCP")


def _listener_on_gone_nlb(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired]:
    lb = make_lb(ctx, aws, sg)
    LoadBalancerHandler(ctx).delete(lb)
    return ListenerHandler(ctx), listener_want(lb.id, port=443, protocol="TCP")


def _rules_on_bare_listener(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired]:
    alb = make_lb(ctx, aws, sg, "alb")
    fixed = {"type": "fixed-response", "statusCode": "404"}
    li = ListenerHandler(ctx).create(
        listener_want(alb.id, port=80, protocol="HTTP", defaultAction=fixed)
    )
    tg = make_tg(ctx, aws, "alb-ip")
    rule = {"priority": 10, "pathPattern": "/a", "targetGroupArn": tg.id}
    props = {"listenerArn": li.id, "rules": [rule]}  # wanted, none there (empty: see below)
    return ListenerRulesHandler(ctx), desired("elbv2.listener_rules", "alb-rule", props)


def _targets_of_gone_group(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired]:
    tg = make_tg(ctx, aws)
    TargetGroupHandler(ctx).delete(tg)
    props = {"targetGroupArn": tg.id, "targets": [{"id": "10.0.1.10", "port": 8080}]}
    return TargetsHandler(ctx), desired("elbv2.targets", "alb-targets", props)


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(_absent_target_group, id="target-group-by-name"),
        pytest.param(_absent_load_balancer, id="load-balancer-by-name"),
        pytest.param(_listener_on_bare_nlb, id="listener-none-on-nlb"),
        pytest.param(_listener_on_gone_nlb, id="listener-nlb-gone"),
        pytest.param(_rules_on_bare_listener, id="rules-none-on-listener"),
        pytest.param(_targets_of_gone_group, id="targets-group-gone"),
    ],
)
def test_observe_absent_is_none(
    ctx: AwsContext,
    aws: Any,
    sg_id: str,
    setup: Callable[[AwsContext, Any, str], tuple[Handler, Desired]],
) -> None:
    """observe returns None (not an error) when nothing of ours exists at the name, on the
    load balancer or listener, or when the parent itself is gone."""
    handler, want = setup(ctx, aws, sg_id)
    assert handler.observe(want) is None


# -- target group --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("nlb-ip", id="nlb-ip-tcp-check"),
        pytest.param("nlb-instance", id="nlb-instance-host-port"),
        pytest.param("nlb-alb", id="nlb-alb-http-check"),
        pytest.param("alb-ip", id="alb-ip-http"),
    ],
)
def test_target_group_round_trip(ctx: AwsContext, aws: Any, kind: str) -> None:
    """create then observe gives back the props as desired (no diff), with our owner tag and the
    ARN as id and outputs; a second create finds it instead of failing."""
    handler = TargetGroupHandler(ctx)
    want = desired("elbv2.target_group", "target-group", tg_props(aws, kind))
    made = handler.create(want)
    have = handler.observe(want)
    assert have is not None
    assert handler.diff(want, have) == []
    assert have.id == made.id
    assert have.outputs == {"id": have.id, "arn": have.id, "loadBalancerArns": []}
    assert have.owned_by(OWNER)
    assert have.tags[ownership.COMPONENT] == "target-group"
    assert have.tags["team"] == "payments"


@pytest.mark.parametrize(
    ("kind", "change", "path", "held"),
    [
        pytest.param(
            "alb-ip",
            {"HealthCheckPath": "/other"},
            "healthCheck.path",
            "/other",
            id="health-check-path",
        ),
        pytest.param(
            "nlb-ip",
            {"HealthCheckIntervalSeconds": 10},
            "healthCheck.intervalSeconds",
            10,
            id="health-check-interval",
        ),
        pytest.param(
            "nlb-ip",
            {"HealthyThresholdCount": 5},
            "healthCheck.healthyThreshold",
            5,
            id="healthy-threshold",
        ),
        pytest.param(
            "alb-ip",
            {"Matcher": {"HttpCode": "200-299"}},
            "healthCheck.matcher",
            "200-299",
            id="matcher",
        ),
        pytest.param(
            "nlb-ip",
            {"attribute": (DELAY, "300")},
            f"attributes.{DELAY}",
            "300",
            id="deregistration-delay",
        ),
        pytest.param(
            "alb-ip",
            {"attribute": (DELAY, "0")},
            f"attributes.{DELAY}",
            "0",
            id="alb-deregistration-delay",
        ),
    ],
)
def test_target_group_drift_is_put_back(
    ctx: AwsContext,
    aws: Any,
    elbv2: Any,
    kind: str,
    change: dict[str, Any],
    path: str,
    held: Any,
) -> None:
    """A health check or attribute changed behind the handler's back is one Delta at the
    prop's path (desired vs held), not a replacement, and update() restores the desired value."""
    handler = TargetGroupHandler(ctx)
    want = desired("elbv2.target_group", "target-group", tg_props(aws, kind))
    made = handler.create(want)
    if "attribute" in change:
        key, value = change["attribute"]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=made.id, Attributes=[{"Key": key, "Value": value}]
        )
    else:
        elbv2.modify_target_group(TargetGroupArn=made.id, **change)

    have = handler.observe(want)
    assert have is not None
    deltas = handler.diff(want, have)
    assert [(d.path, d.actual) for d in deltas] == [(path, held)]
    assert not handler.requires_replacement(deltas)

    fixed = handler.update(want, have, deltas)
    assert handler.diff(want, fixed) == []
    again = handler.observe(want)
    assert again is not None
    assert handler.diff(want, again) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("name", "ps-default-orders-tg2", id="name"),
        pytest.param("protocol", "TLS", id="protocol"),
        pytest.param("targetType", "instance", id="target-type"),
        pytest.param("vpcId", "vpc-0other", id="vpc"),
    ],
)
def test_target_group_immutable_fields_need_replacement(
    ctx: AwsContext, aws: Any, field: str, value: Any
) -> None:
    """Name, protocol, VPC and target type cannot be modified: a change to any of them is a
    Delta the engine must turn into a replacement."""
    handler = TargetGroupHandler(ctx)
    have = make_tg(ctx, aws)
    other = desired("elbv2.target_group", "target-group", tg_props(aws) | {field: value})
    deltas = handler.diff(other, have)
    assert [d.path for d in deltas] == [field]
    assert handler.requires_replacement(deltas)


def test_an_ip_target_group_port_change_is_no_delta_but_an_alb_one_is_a_replacement(
    ctx: AwsContext, aws: Any
) -> None:
    """Issue 14: an `ip` group's port is only the default for targets registered without one
    (ECS registers each task with its container port), so a new container port moves the
    service within the same group; an `alb` group's port must match the ALB's listener, so
    there it is still a replacement."""
    handler = TargetGroupHandler(ctx)
    have = make_tg(ctx, aws)
    assert (
        handler.diff(
            desired("elbv2.target_group", "target-group", tg_props(aws) | {"port": 9090}), have
        )
        == []
    )
    alb = tg_props(aws) | {"targetType": "alb"}
    have_alb = Observed(have.key, have.id, dict(have.props) | {"targetType": "alb"}, have.tags)
    deltas = handler.diff(
        desired("elbv2.target_group", "target-group", alb | {"port": 9090}), have_alb
    )
    assert [d.path for d in deltas] == ["port"]
    assert handler.requires_replacement(deltas)


# -- load balancer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("nlb", id="internal-nlb-enforcement-off"),
        pytest.param("alb", id="internal-alb"),
    ],
)
def test_load_balancer_round_trip(ctx: AwsContext, aws: Any, sg_id: str, kind: str) -> None:
    """create then observe gives back the props as desired (subnets, groups, attributes and the
    NLB's PrivateLink enforcement), with our owner tag and the ARN, DNS name and zone as
    outputs."""
    handler = LoadBalancerHandler(ctx)
    want = desired("elbv2.load_balancer", kind, lb_props(aws, sg_id, kind))
    made = handler.create(want)
    have = handler.observe(want)
    assert have is not None
    assert handler.diff(want, have) == []
    assert have.id == made.id
    assert have.owned_by(OWNER)
    assert have.outputs["arn"] == have.id
    assert have.outputs["dnsName"]
    assert have.outputs["staticIps"] == []
    assert ("enforcePrivateLinkInboundRules" in have.props) == (kind == "nlb")


@pytest.mark.parametrize(
    ("kind", "drift", "path"),
    [
        pytest.param(
            "nlb",
            lambda c, arn, aws, sg: c.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": CROSS_ZONE, "Value": "true"}]
            ),
            f"attributes.{CROSS_ZONE}",
            id="nlb-cross-zone-attribute",
        ),
        pytest.param(
            "alb",
            lambda c, arn, aws, sg: c.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": DROP_HEADERS, "Value": "false"}]
            ),
            f"attributes.{DROP_HEADERS}",
            id="alb-drop-invalid-headers-attribute",
        ),
        pytest.param(
            "nlb",
            lambda c, arn, aws, sg: c.set_security_groups(
                LoadBalancerArn=arn,
                SecurityGroups=[sg],
                EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="on",
            ),
            "enforcePrivateLinkInboundRules",
            id="nlb-privatelink-enforcement",
        ),
        pytest.param(
            "alb",
            lambda c, arn, aws, sg: c.set_subnets(
                LoadBalancerArn=arn, Subnets=list(aws.network.public_subnet_ids)
            ),
            "subnets",
            id="alb-subnets",
        ),
    ],
)
def test_load_balancer_drift_is_put_back(
    ctx: AwsContext,
    aws: Any,
    elbv2: Any,
    sg_id: str,
    kind: str,
    drift: Callable[[Any, str, Any, str], Any],
    path: str,
) -> None:
    """An attribute, the NLB's PrivateLink enforcement or the subnets changed behind the
    handler's back is a Delta at that path (modifiable in place, no replacement), and update()
    restores it."""
    handler = LoadBalancerHandler(ctx)
    want = desired("elbv2.load_balancer", kind, lb_props(aws, sg_id, kind))
    made = handler.create(want)
    drift(elbv2, made.id, aws, sg_id)

    have = handler.observe(want)
    assert have is not None
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == [path]
    assert not handler.requires_replacement(deltas)

    fixed = handler.update(want, have, deltas)
    assert handler.diff(want, fixed) == []


def test_target_group_in_use_is_a_wait(ctx: AwsContext, aws: Any, nlb: Observed) -> None:
    """Deleting a target group a listener still forwards to is a TemporaryError (the engine
    retries once the listener is gone), not a failure; afterwards it deletes."""
    handler = TargetGroupHandler(ctx)
    tg = make_tg(ctx, aws)
    listener = ListenerHandler(ctx).create(
        listener_want(nlb.id, port=443, protocol="TCP", targetGroupArn=tg.id)
    )
    with pytest.raises(TemporaryError, match="still in use"):
        handler.delete(tg)
    ListenerHandler(ctx).delete(listener)
    handler.delete(tg)
    assert handler.observe(desired("elbv2.target_group", "target-group", tg_props(aws))) is None


# -- with the read snapshot ----------------------------------------------------------------


def _tg_cached(ctx: AwsContext, aws: Any, elbv2: Any) -> tuple[Handler, Desired, str]:
    want = desired("elbv2.target_group", "target-group", tg_props(aws, "alb-ip"))
    made = TargetGroupHandler(ctx).create(want)
    elbv2.modify_target_group(TargetGroupArn=made.id, HealthCheckPath="/other")
    return TargetGroupHandler(ctx), want, "healthCheck.path"


def _listener_cached(ctx: AwsContext, aws: Any, elbv2: Any) -> tuple[Handler, Desired, str]:
    sg = aws.client("ec2").create_security_group(
        GroupName="ps-cached", Description="lb", VpcId=aws.network.vpc_id
    )["GroupId"]
    lb, tg = make_lb(ctx, aws, sg), make_tg(ctx, aws)
    want = listener_want(lb.id, port=443, protocol="TCP", targetGroupArn=tg.id)
    made = ListenerHandler(ctx).create(want)
    elbv2.modify_listener(ListenerArn=made.id, Port=8443)
    return ListenerHandler(ctx), want, "port"


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(_tg_cached, id="target-group-health-check-path"),
        pytest.param(_listener_cached, id="listener-port"),
    ],
)
def test_drift_with_read_snapshot(
    aws: Any, elbv2: Any, setup: Callable[..., tuple[Handler, Desired, str]]
) -> None:
    """With the read snapshot on, drift made elsewhere shows after refresh() (the engine's
    "read AWS as it is now"), and the handler's own write forgets the stale reads, so the
    observe after update() already sees the restored value."""
    ctx = context(aws, read_cache_seconds=30)
    handler, want, path = setup(ctx, aws, elbv2)
    handler.refresh()
    have = handler.observe(want)
    assert have is not None
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == [path]
    handler.update(want, have, deltas)
    again = handler.observe(want)
    assert again is not None
    assert handler.diff(want, again) == []


# -- ownership: our name, not our tag ------------------------------------------------------


def _foreign_target_group(elbv2: Any, aws: Any, sg: str) -> tuple[Handler, dict[str, Any]]:
    props = tg_props(aws)
    elbv2.create_target_group(
        Name=props["name"],
        Protocol="TCP",
        Port=props["port"],
        VpcId=props["vpcId"],
        TargetType="ip",
        Tags=[{"Key": "team", "Value": "other"}],
    )
    return TargetGroupHandler, props


def _foreign_load_balancer(elbv2: Any, aws: Any, sg: str) -> tuple[Handler, dict[str, Any]]:
    props = lb_props(aws, sg)
    elbv2.create_load_balancer(
        Name=props["name"],
        Type="network",
        Scheme="internal",
        Subnets=props["subnets"],
        Tags=[{"Key": "team", "Value": "other"}],
    )
    return LoadBalancerHandler, props


def _other_owners_target_group(elbv2: Any, aws: Any, sg: str) -> tuple[Handler, dict[str, Any]]:
    props = tg_props(aws)
    elbv2.create_target_group(
        Name=props["name"],
        Protocol="TCP",
        Port=props["port"],
        VpcId=props["vpcId"],
        TargetType="ip",
        Tags=ownership.to_list(ownership.owner_tags(OTHER_OWNER, "target-group", {})),
    )
    return TargetGroupHandler, props


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(_foreign_target_group, id="target-group-untagged"),
        pytest.param(_other_owners_target_group, id="target-group-other-owner"),
        pytest.param(_foreign_load_balancer, id="load-balancer-untagged"),
    ],
)
def test_same_name_without_our_tag_is_not_ours(
    ctx: AwsContext, aws: Any, elbv2: Any, sg_id: str, setup: Callable[..., Any]
) -> None:
    """A resource at our deterministic name that lacks our owner tag is observed (so the engine
    can report the conflict) with tags that are not ours: owned_by is false."""
    cls, props = setup(elbv2, aws, sg_id)
    want = desired(cls.kind, "x", props)
    have = cls(ctx).observe(want)
    assert have is not None
    assert not have.owned_by(OWNER)
    assert have.tags.get(ownership.OWNER) != OWNER


# -- listener ------------------------------------------------------------------------------


@pytest.fixture
def nlb(ctx: AwsContext, aws: Any, sg_id: str) -> Observed:
    return make_lb(ctx, aws, sg_id, "nlb")


@pytest.fixture
def alb(ctx: AwsContext, aws: Any, sg_id: str) -> Observed:
    return make_lb(ctx, aws, sg_id, "alb")


def _nlb_forward(ctx: AwsContext, aws: Any, nlb: Observed, alb: Observed) -> Desired:
    tg = make_tg(ctx, aws)
    return listener_want(nlb.id, port=443, protocol="TCP", targetGroupArn=tg.id)


def _alb_fixed_404(ctx: AwsContext, aws: Any, nlb: Observed, alb: Observed) -> Desired:
    fixed = {"type": "fixed-response", "statusCode": "404"}
    return listener_want(alb.id, port=80, protocol="HTTP", defaultAction=fixed)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(_nlb_forward, id="nlb-tcp-forward"),
        pytest.param(_alb_fixed_404, id="alb-http-fixed-response"),
    ],
)
def test_listener_round_trip(
    ctx: AwsContext, aws: Any, nlb: Observed, alb: Observed, build: Callable[..., Desired]
) -> None:
    """create then observe finds the listener by our tags with the props as desired (port,
    protocol, forward target or fixed response), nothing foreign; delete twice is fine."""
    handler = ListenerHandler(ctx)
    want = build(ctx, aws, nlb, alb)
    made = handler.create(want)
    assert handler.diff(want, made) == []
    have = handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert handler.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert have.foreign == []
    handler.delete(have)
    assert handler.observe(want) is None
    handler.delete(have)


def _move_port(elbv2: Any, arn: str, ctx: AwsContext, aws: Any) -> None:
    elbv2.modify_listener(ListenerArn=arn, Port=8443)


def _retarget(elbv2: Any, arn: str, ctx: AwsContext, aws: Any) -> None:
    other = make_tg(ctx, aws, name="ps-default-orders-tg-b")
    elbv2.modify_listener(
        ListenerArn=arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": other.id}]
    )


@pytest.mark.parametrize(
    ("drift", "path"),
    [
        pytest.param(_move_port, "port", id="port"),
        pytest.param(_retarget, "targetGroupArn", id="default-action-target"),
    ],
)
def test_listener_drift_is_put_back(
    ctx: AwsContext,
    aws: Any,
    elbv2: Any,
    nlb: Observed,
    drift: Callable[..., None],
    path: str,
) -> None:
    """The listener is found by tag, not port: a port or default action changed behind the
    handler's back is a Delta on that path, and update() (one ModifyListener) restores it on
    the same listener."""
    handler = ListenerHandler(ctx)
    tg = make_tg(ctx, aws)
    want = listener_want(nlb.id, port=443, protocol="TCP", targetGroupArn=tg.id)
    made = handler.create(want)
    drift(elbv2, made.id, ctx, aws)

    have = handler.observe(want)
    assert have is not None
    assert have.id == made.id
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == [path]
    assert not handler.requires_replacement(deltas)

    fixed = handler.update(want, have, deltas)
    assert fixed.id == made.id
    again = handler.observe(want)
    assert again is not None
    assert handler.diff(want, again) == []


def test_listener_reports_foreign_listener(
    ctx: AwsContext, aws: Any, elbv2: Any, nlb: Observed
) -> None:
    """A listener someone else added to our NLB (no owner tag) is reported in `foreign` with its
    protocol, port and ARN, and not mistaken for ours."""
    handler = ListenerHandler(ctx)
    tg = make_tg(ctx, aws)
    want = listener_want(nlb.id, port=443, protocol="TCP", targetGroupArn=tg.id)
    made = handler.create(want)
    extra = elbv2.create_listener(
        LoadBalancerArn=nlb.id,
        Port=8080,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg.id}],
    )["Listeners"][0]["ListenerArn"]

    have = handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert have.foreign == [("(extra listener)", f"TCP 8080 {extra}")]


def test_listener_on_our_port_without_our_tag_is_not_ours(
    ctx: AwsContext, aws: Any, elbv2: Any, nlb: Observed
) -> None:
    """With none of ours, an untagged listener on our port is observed (the conflict to report)
    with tags that are not ours, and nothing is listed as foreign."""
    handler = ListenerHandler(ctx)
    tg = make_tg(ctx, aws)
    elbv2.create_listener(
        LoadBalancerArn=nlb.id,
        Port=443,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg.id}],
    )
    want = listener_want(nlb.id, port=443, protocol="TCP", targetGroupArn=tg.id)
    have = handler.observe(want)
    assert have is not None
    assert not have.owned_by(OWNER)
    assert have.foreign == []


# -- listener rules ------------------------------------------------------------------------


@pytest.fixture
def alb_listener(ctx: AwsContext, alb: Observed) -> Observed:
    fixed = {"type": "fixed-response", "statusCode": "404"}
    return ListenerHandler(ctx).create(
        listener_want(alb.id, port=80, protocol="HTTP", defaultAction=fixed)
    )


def rules_want(listener: str, tg: str, *rules: tuple[int, str]) -> Desired:
    props = {
        "listenerArn": listener,
        "rules": [{"priority": p, "pathPattern": path, "targetGroupArn": tg} for p, path in rules],
    }
    return desired("elbv2.listener_rules", "alb-rule", props)


def test_rules_round_trip(ctx: AwsContext, aws: Any, alb_listener: Observed) -> None:
    """create makes every rule with our tags; observe returns them sorted by priority in the
    desired shape (no diff) with their ARNs as outputs."""
    handler = ListenerRulesHandler(ctx)
    tg = make_tg(ctx, aws, "alb-ip")
    want = rules_want(alb_listener.id, tg.id, (10, "/orders/*"), (20, "/admin/*"))
    made = handler.create(want)
    have = handler.observe(want)
    assert have is not None
    assert handler.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert len(have.outputs["ruleArns"]) == 2
    assert have.outputs == made.outputs
    assert have.foreign == []


def _swap_priorities(elbv2: Any, arns: list[str]) -> None:
    elbv2.set_rule_priorities(
        RulePriorities=[{"RuleArn": arns[0], "Priority": 30}, {"RuleArn": arns[1], "Priority": 5}]
    )


def _change_path(elbv2: Any, arns: list[str]) -> None:
    elbv2.modify_rule(
        RuleArn=arns[0],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x/*"]}}],
    )


def _drop_rule(elbv2: Any, arns: list[str]) -> None:
    elbv2.delete_rule(RuleArn=arns[1])


@pytest.mark.parametrize(
    "drift",
    [
        pytest.param(_swap_priorities, id="priorities-moved"),
        pytest.param(_change_path, id="path-pattern-changed"),
        pytest.param(_drop_rule, id="rule-deleted"),
    ],
)
def test_rules_drift_is_put_back(
    ctx: AwsContext,
    aws: Any,
    elbv2: Any,
    alb_listener: Observed,
    drift: Callable[[Any, list[str]], None],
) -> None:
    """Rules moved, edited or deleted behind the handler's back are a Delta on `rules`, and
    update() converges them back to the desired set."""
    handler = ListenerRulesHandler(ctx)
    tg = make_tg(ctx, aws, "alb-ip")
    want = rules_want(alb_listener.id, tg.id, (10, "/orders/*"), (20, "/admin/*"))
    made = handler.create(want)
    drift(elbv2, made.outputs["ruleArns"])

    have = handler.observe(want)
    assert have is not None
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == ["rules"]

    handler.update(want, have, deltas)
    again = handler.observe(want)
    assert again is not None
    assert handler.diff(want, again) == []


def test_rules_report_foreign_rule(
    ctx: AwsContext, aws: Any, elbv2: Any, alb_listener: Observed
) -> None:
    """A rule someone else added to our listener is reported in `foreign`, and update() leaves
    it in place."""
    handler = ListenerRulesHandler(ctx)
    tg = make_tg(ctx, aws, "alb-ip")
    want = rules_want(alb_listener.id, tg.id, (10, "/orders/*"))
    handler.create(want)
    theirs = elbv2.create_rule(
        ListenerArn=alb_listener.id,
        Priority=50,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/theirs"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": tg.id}],
    )["Rules"][0]["RuleArn"]

    have = handler.observe(want)
    assert have is not None
    assert have.foreign == [("(extra rule)", "priority 50 /theirs")]
    assert handler.diff(want, have) == []
    handler.update(want, have, [])
    arns = [r["RuleArn"] for r in elbv2.describe_rules(ListenerArn=alb_listener.id)["Rules"]]
    assert theirs in arns


# -- targets -------------------------------------------------------------------------------


def targets_want(tg: str, *targets: tuple[str, int]) -> Desired:
    props = {"targetGroupArn": tg, "targets": [{"id": i, "port": p} for i, p in targets]}
    return desired("elbv2.targets", "alb-targets", props)


def test_targets_round_trip_and_drift(ctx: AwsContext, aws: Any, elbv2: Any) -> None:
    """create registers the targets (observe: no diff, the group's tags); a target registered
    behind the handler's back is a Delta on `targets` that update() deregisters, and one
    deregistered behind its back is registered again."""
    handler = TargetsHandler(ctx)
    tg = make_tg(ctx, aws)
    want = targets_want(tg.id, ("10.0.1.10", 8080), ("10.0.2.10", 8080))
    handler.create(want)
    have = handler.observe(want)
    assert have is not None
    assert handler.diff(want, have) == []
    assert have.owned_by(OWNER)

    elbv2.register_targets(TargetGroupArn=tg.id, Targets=[{"Id": "10.0.1.99", "Port": 8080}])
    elbv2.deregister_targets(TargetGroupArn=tg.id, Targets=[{"Id": "10.0.2.10", "Port": 8080}])
    have = handler.observe(want)
    assert have is not None
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == ["targets"]
    fixed = handler.update(want, have, deltas)
    assert handler.diff(want, fixed) == []


# -- delete is idempotent ------------------------------------------------------------------


def _made_target_group(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired, Observed]:
    want = desired("elbv2.target_group", "target-group", tg_props(aws))
    return TargetGroupHandler(ctx), want, TargetGroupHandler(ctx).create(want)


def _made_load_balancer(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired, Observed]:
    want = desired("elbv2.load_balancer", "nlb", lb_props(aws, sg))
    return LoadBalancerHandler(ctx), want, LoadBalancerHandler(ctx).create(want)


def _made_listener(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired, Observed]:
    lb, tg = make_lb(ctx, aws, sg), make_tg(ctx, aws)
    want = listener_want(lb.id, port=443, protocol="TCP", targetGroupArn=tg.id)
    return ListenerHandler(ctx), want, ListenerHandler(ctx).create(want)


def _made_rules(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired, Observed]:
    alb = make_lb(ctx, aws, sg, "alb")
    fixed = {"type": "fixed-response", "statusCode": "404"}
    li = ListenerHandler(ctx).create(
        listener_want(alb.id, port=80, protocol="HTTP", defaultAction=fixed)
    )
    tg = make_tg(ctx, aws, "alb-ip")
    want = rules_want(li.id, tg.id, (10, "/orders/*"))
    return ListenerRulesHandler(ctx), want, ListenerRulesHandler(ctx).create(want)


def _made_targets(ctx: AwsContext, aws: Any, sg: str) -> tuple[Handler, Desired, Observed]:
    tg = make_tg(ctx, aws)
    want = targets_want(tg.id, ("10.0.1.10", 8080))
    return TargetsHandler(ctx), want, TargetsHandler(ctx).create(want)


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(_made_target_group, id="target-group"),
        pytest.param(_made_load_balancer, id="load-balancer"),
        pytest.param(_made_listener, id="listener"),
        pytest.param(_made_rules, id="listener-rules"),
        pytest.param(_made_targets, id="targets"),
    ],
)
def test_delete_is_idempotent(
    ctx: AwsContext, aws: Any, sg_id: str, setup: Callable[..., tuple[Handler, Desired, Observed]]
) -> None:
    """delete removes the resource (observe: None, or no targets left) and a second delete of
    what is already gone succeeds: NotFound is success."""
    handler, want, have = setup(ctx, aws, sg_id)
    handler.delete(have)
    after = handler.observe(want)
    assert after is None or after.props.get("targets") == []
    handler.delete(have)


# -- list_owned ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(ListenerHandler, id="listener"),
        pytest.param(ListenerRulesHandler, id="listener-rules"),
        pytest.param(TargetsHandler, id="targets"),
    ],
)
def test_list_owned_is_the_base_default(cls: type[Handler]) -> None:
    """Listeners, rules and targets have no list_owned of their own: the base default
    (nothing) is what the sweep gets; they go with their load balancer or target group."""
    assert cls.list_owned is Handler.list_owned


def test_owned_load_balancers_and_target_groups_are_listed_by_component(
    ctx: AwsContext, aws: Any, elbv2: Any, sg_id: str
) -> None:
    """Issue 14, item 4: the sweep finds load balancers and target groups by owner tag, keyed
    by their component (the stack key); an untagged group and another owner's are not ours."""
    tg = make_tg(ctx, aws)
    lb = make_lb(ctx, aws, sg_id)
    elbv2.create_target_group(
        Name="someone-elses", Protocol="TCP", Port=80, VpcId=aws.network.vpc_id, TargetType="ip"
    )
    assert [(o.key, o.id) for o in TargetGroupHandler(ctx).list_owned(OWNER)] == [
        ("target-group", tg.id)
    ]
    assert [(o.key, o.id) for o in LoadBalancerHandler(ctx).list_owned(OWNER)] == [("nlb", lb.id)]
    assert TargetGroupHandler(ctx).list_owned("shop/other") == []


# -- shared reads --------------------------------------------------------------------------


@pytest.fixture
def many_groups(aws: Any, elbv2: Any) -> list[str]:
    """25 target groups, each tagged with its own index: more than one DescribeTags chunk."""
    arns = []
    for i in range(25):
        tg = elbv2.create_target_group(
            Name=f"ps-chunk-{i:02d}",
            Protocol="TCP",
            Port=8000 + i,
            VpcId=aws.network.vpc_id,
            TargetType="ip",
            Tags=[{"Key": "index", "Value": str(i)}],
        )["TargetGroups"][0]
        arns.append(tg["TargetGroupArn"])
    return sorted(arns)


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(0, id="first-of-first-chunk"),
        pytest.param(TAGS_PER_CALL - 1, id="last-of-first-chunk"),
        pytest.param(TAGS_PER_CALL, id="first-of-second-chunk"),
        pytest.param(24, id="last-of-second-chunk"),
    ],
)
def test_chunk_tags_reads_the_right_arn(
    ctx: AwsContext, elbv2: Any, many_groups: list[str], position: int
) -> None:
    """chunk_tags reads an ARN's tags with the chunk of 20 sorted ARNs that holds it, and returns
    that ARN's tags (not a neighbour's) wherever in which chunk it sits."""
    arn = many_groups[position]
    index = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    assert chunk_tags(ctx.client("elbv2"), arn) == ownership.from_list(index)
    assert chunk_tags(ctx.client("elbv2"), arn)["index"] == next(
        t["Value"] for t in index if t["Key"] == "index"
    )


def test_chunk_tags_of_an_arn_not_listed_is_empty(ctx: AwsContext, many_groups: list[str]) -> None:
    """An ARN absent from the account's lists (just deleted) reads as no tags, not an error."""
    gone = many_groups[0].replace("ps-chunk-00", "ps-gone")
    assert chunk_tags(ctx.client("elbv2"), gone) == {}


@pytest.mark.parametrize(
    ("first", "second", "calls"),
    [
        pytest.param(TAGS_PER_CALL, 24, 1, id="same-second-chunk"),
        pytest.param(0, 5, 1, id="same-first-chunk"),
        pytest.param(3, 22, 2, id="different-chunks"),
    ],
)
def test_chunk_tags_shares_one_call_per_chunk(
    aws: Any, many_groups: list[str], first: int, second: int, calls: int
) -> None:
    """With the read snapshot, two ARNs of one chunk cost one DescribeTags between them (and
    ARNs of two chunks one each)."""
    ctx = context(aws, read_cache_seconds=30)
    client = ctx.client("elbv2")
    a, b = many_groups[first], many_groups[second]
    tags_a, tags_b = chunk_tags(client, a), chunk_tags(client, b)
    assert tags_a["index"] != tags_b["index"]
    assert ctx.counter.snapshot()[("elbv2", "DescribeTags")] == calls


def test_tags_of_reads_twenty_arns_a_call(ctx: AwsContext, many_groups: list[str]) -> None:
    """tags_of returns every ARN's tags, in calls of at most 20 ARNs (DescribeTags' limit)."""
    tags = tags_of(ctx.client("elbv2"), many_groups)
    assert sorted(tags) == many_groups
    assert sorted(int(t["index"]) for t in tags.values()) == list(range(25))
    assert ctx.counter.snapshot()[("elbv2", "DescribeTags")] == 2


def test_an_empty_rule_set_converges(ctx: AwsContext, aws: Any, alb_listener: Observed) -> None:
    """`alb.rules: []` is allowed: an empty set on our listener is observed as there (no diff)
    instead of never becoming visible; going from one rule to none deletes it and converges."""
    handler = ListenerRulesHandler(ctx)
    tg = make_tg(ctx, aws, "alb-ip")
    empty = rules_want(alb_listener.id, tg.id)
    have = handler.create(empty)
    assert have.props["rules"] == []
    assert handler.diff(empty, have) == []
    one = rules_want(alb_listener.id, tg.id, (10, "/a"))
    handler.update(one, have, handler.diff(one, have))
    ctx.forget("elbv2")
    have = handler.observe(one)
    assert have is not None
    assert [r["pathPattern"] for r in have.props["rules"]] == ["/a"]
    after = handler.update(empty, have, handler.diff(empty, have))
    assert after.props["rules"] == []
    assert aws.client("elbv2").describe_rules(ListenerArn=alb_listener.id)["Rules"][0]["IsDefault"]
