"""API Gateway v2 VPC link lifecycle over HTTP: PENDING, AVAILABLE or FAILED, DELETING, and the
link's security group in use until the link is gone."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def quick_links(sandbox):
    """VPC links settle after 0.3 s in these tests (restored afterwards)."""
    before = sandbox.vpc_link_seconds
    sandbox.vpc_link_seconds = 0.3
    yield
    sandbox.vpc_link_seconds = before


@pytest.fixture
def v2(aws):
    return aws.client("apigatewayv2")


def _settled(v2, wait_until, link_id: str) -> dict:
    return wait_until(
        lambda: (
            found
            if (found := v2.get_vpc_link(VpcLinkId=link_id))["VpcLinkStatus"] != "PENDING"
            else None
        )
    )


def test_vpc_link_is_pending_then_available(build, v2, wait_until, quick_links):
    """AWS: a v2 link starts PENDING while API Gateway creates its network interfaces, then is
    AVAILABLE ("VpcLinkStatus: PENDING | AVAILABLE | DELETING | FAILED | INACTIVE")."""
    sg = build.security_group("link")
    created = v2.create_vpc_link(
        Name="link", SubnetIds=list(build.aws.network.private_subnet_ids), SecurityGroupIds=[sg]
    )
    assert created["VpcLinkStatus"] == "PENDING"
    assert created["VpcLinkStatusMessage"]
    link = _settled(v2, wait_until, created["VpcLinkId"])
    assert link["VpcLinkStatus"] == "AVAILABLE"
    assert [i["VpcLinkStatus"] for i in v2.get_vpc_links()["Items"]] == ["AVAILABLE"]


def test_vpc_link_on_missing_group_fails(build, v2, wait_until, quick_links):
    """AWS: a link whose subnets or groups cannot be used ends FAILED with a status message."""
    created = v2.create_vpc_link(
        Name="link",
        SubnetIds=list(build.aws.network.private_subnet_ids),
        SecurityGroupIds=["sg-0123456789abcdef0"],
    )
    link = _settled(v2, wait_until, created["VpcLinkId"])
    assert link["VpcLinkStatus"] == "FAILED"
    assert "sg-0123456789abcdef0" in link["VpcLinkStatusMessage"]


def test_deleted_link_is_deleting_and_holds_its_group(build, v2, wait_until, quick_links):
    """AWS: deleting a link takes a while (DELETING), and its group stays associated with the
    link's network interfaces until then: DeleteSecurityGroup is a DependencyViolation."""
    sg = build.security_group("link")
    created = v2.create_vpc_link(
        Name="link", SubnetIds=list(build.aws.network.private_subnet_ids), SecurityGroupIds=[sg]
    )
    with pytest.raises(ClientError) as caught:
        build.ec2.delete_security_group(GroupId=sg)
    assert caught.value.response["Error"]["Code"] == "DependencyViolation"
    v2.delete_vpc_link(VpcLinkId=created["VpcLinkId"])
    assert [i["VpcLinkStatus"] for i in v2.get_vpc_links()["Items"]] == ["DELETING"]
    v2.delete_vpc_link(VpcLinkId=created["VpcLinkId"])  # again while DELETING: accepted
    wait_until(lambda: v2.get_vpc_links()["Items"] == [])
    with pytest.raises(ClientError) as gone:
        v2.get_vpc_link(VpcLinkId=created["VpcLinkId"])
    assert gone.value.response["Error"]["Code"] == "NotFoundException"
    build.ec2.delete_security_group(GroupId=sg)
