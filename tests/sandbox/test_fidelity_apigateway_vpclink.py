"""API Gateway v1 VPC link lifecycle over HTTP: PENDING, then AVAILABLE or FAILED."""

from __future__ import annotations

import pytest


@pytest.fixture
def quick_links(sandbox):
    """VPC links settle after 0.3 s in these tests (restored afterwards)."""
    before = sandbox.vpc_link_seconds
    sandbox.vpc_link_seconds = 0.3
    yield
    sandbox.vpc_link_seconds = before


def test_vpc_link_is_pending_then_available(build, wait_until, quick_links):
    """AWS: CreateVpcLink is "an asynchronous operation that typically takes 2-4 minutes to
    complete"; the link is PENDING ("Deploying an API will wait if the status is PENDING")
    and becomes AVAILABLE when it targets an existing network load balancer."""
    nlb_arn = build.nlb()["LoadBalancerArn"]
    created = build.apigateway.create_vpc_link(name="link", targetArns=[nlb_arn])
    assert created["status"] == "PENDING"
    assert build.apigateway.get_vpc_link(vpcLinkId=created["id"])["status"] == "PENDING"
    link = wait_until(
        lambda: (
            found
            if (found := build.apigateway.get_vpc_link(vpcLinkId=created["id"]))["status"]
            != "PENDING"
            else None
        )
    )
    assert link["status"] == "AVAILABLE"
    listed = build.apigateway.get_vpc_links()["items"]
    assert [(item["id"], item["status"]) for item in listed] == [(created["id"], "AVAILABLE")]


def test_vpc_link_to_missing_load_balancer_fails(build, wait_until, quick_links):
    """AWS: a VPC link whose target ARN is no existing network load balancer ends FAILED, with a
    statusMessage ("A description about the VPC link status") that says why."""
    missing = (
        f"arn:aws:elasticloadbalancing:{build.aws.region}:123456789012:"
        "loadbalancer/net/gone/0123456789abcdef"
    )
    created = build.apigateway.create_vpc_link(name="link", targetArns=[missing])
    assert created["status"] == "PENDING"
    link = wait_until(
        lambda: (
            found
            if (found := build.apigateway.get_vpc_link(vpcLinkId=created["id"]))["status"]
            != "PENDING"
            else None
        )
    )
    assert link["status"] == "FAILED"
    assert missing in link["statusMessage"]


def test_vpc_link_pending_time_is_configurable(sandbox, aws):
    """The sandbox's PENDING duration comes from PSCTL_SANDBOX_VPC_LINK_SECONDS or the Sandbox
    argument (AWS: minutes); a link created now is PENDING until then."""
    client = aws.client("apigateway")
    before = sandbox.vpc_link_seconds
    sandbox.vpc_link_seconds = 60
    try:
        link = client.create_vpc_link(name="slow", targetArns=["arn:aws:x"])
        assert client.get_vpc_link(vpcLinkId=link["id"])["status"] == "PENDING"
    finally:
        sandbox.vpc_link_seconds = before
