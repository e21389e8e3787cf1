"""VpcLinkHandler against the sandbox over HTTP: lifecycle, PENDING/FAILED, ownership."""

from __future__ import annotations

import time
from typing import Any

import pytest

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.errors import PermanentError
from controller.handlers.apigw_vpc_link import VpcLinkHandler
from controller.handlers.base import Desired, Observed
from controller.model.stack import Resource

OWNER = "default/orders"
NAME = "default/orders"


def desired(props: dict[str, Any], owner: str = OWNER) -> Desired:
    tags = ownership.owner_tags(owner, "vpc-link", {"team": "payments"})
    return Desired(Resource("vpc-link", "apigw.vpc_link", "vpc-link", props), props, tags, owner)


@pytest.fixture
def handler(aws: Any) -> VpcLinkHandler:
    return VpcLinkHandler(AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url)))


@pytest.fixture
def nlb_arn(aws: Any) -> str:
    elbv2 = aws.client("elbv2")
    lb = elbv2.create_load_balancer(
        Name="ps-default-orders-nlb",
        Type="network",
        Scheme="internal",
        Subnets=list(aws.network.private_subnet_ids[:2]),
    )["LoadBalancers"][0]
    return str(lb["LoadBalancerArn"])


def settled(handler: VpcLinkHandler, want: Desired, timeout: float = 15.0) -> Observed:
    """Observe until the link is no longer PENDING."""
    deadline = time.monotonic() + timeout
    while True:
        have = handler.observe(want)
        assert have is not None
        if have.pending is None or time.monotonic() > deadline:
            return have
        time.sleep(0.2)


def test_lifecycle(handler: VpcLinkHandler, nlb_arn: str) -> None:
    want = desired({"name": NAME, "targetArns": [nlb_arn]})
    assert handler.observe(want) is None

    made = handler.create(want)
    assert made.pending in (None, "vpc link PENDING")
    assert made.outputs == {"id": made.id}

    have = settled(handler, want)
    assert have.pending is None
    assert have.id == made.id
    assert handler.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert have.tags["team"] == "payments"
    assert have.tags[ownership.COMPONENT] == "vpc-link"

    assert handler.create(want).id == made.id  # a retried create makes nothing new

    handler.delete(have)
    assert handler.observe(want) is None
    handler.delete(have)  # twice is fine


def test_new_targets_need_replacement(handler: VpcLinkHandler, nlb_arn: str) -> None:
    want = desired({"name": NAME, "targetArns": [nlb_arn]})
    have = handler.create(want)
    other = desired({"name": NAME, "targetArns": [nlb_arn.replace("nlb/", "nlb2/")]})
    deltas = handler.diff(other, have)
    assert [d.path for d in deltas] == ["targetArns"]
    assert handler.requires_replacement(deltas)


def test_failed_link_is_permanent(aws: Any, handler: VpcLinkHandler) -> None:
    missing = f"arn:aws:elasticloadbalancing:{aws.region}:123456789012:loadbalancer/net/gone/0123"
    want = desired({"name": NAME, "targetArns": [missing]})
    handler.create(want)
    deadline = time.monotonic() + 15

    def observe_until_it_fails() -> None:
        while time.monotonic() < deadline:
            handler.observe(want)
            time.sleep(0.2)

    with pytest.raises(PermanentError, match="FAILED"):
        observe_until_it_fails()
    owned = handler.list_owned(OWNER)  # still listed, so that it can be deleted
    assert [o.key for o in owned] == ["vpc-link"]
    handler.delete(owned[0])
    assert handler.list_owned(OWNER) == []


def test_same_name_without_owner_tag_is_not_ours(
    aws: Any, handler: VpcLinkHandler, nlb_arn: str
) -> None:
    apigw = aws.client("apigateway")
    apigw.create_vpc_link(name=NAME, targetArns=[nlb_arn], tags={"team": "other"})
    want = desired({"name": NAME, "targetArns": [nlb_arn]})
    foreign = handler.observe(want)
    assert foreign is not None
    assert not foreign.owned_by(OWNER)
    assert handler.list_owned(OWNER) == []

    mine = apigw.create_vpc_link(name=NAME, targetArns=[nlb_arn], tags=dict(want.tags))
    have = handler.observe(want)
    assert have is not None
    assert have.id == mine["id"]  # ours wins over a same-named foreign one
    assert [(o.key, o.id) for o in handler.list_owned(OWNER)] == [("vpc-link", mine["id"])]
