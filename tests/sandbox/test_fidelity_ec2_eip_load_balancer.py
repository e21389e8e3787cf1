"""Elastic IPs in NLB subnet mappings over HTTP: reported by DescribeLoadBalancers, held until
the NLB is gone."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def _static_nlb(build: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    subnets = sorted(build.aws.network.public_subnet_ids)
    eips = [build.ec2.allocate_address(Domain="vpc") for _ in subnets]
    nlb = build.elbv2.create_load_balancer(
        Name="public",
        Type="network",
        Scheme="internet-facing",
        SubnetMappings=[
            {"SubnetId": s, "AllocationId": e["AllocationId"]}
            for s, e in zip(subnets, eips, strict=True)
        ],
    )["LoadBalancers"][0]
    return nlb, eips


def test_subnet_mappings_with_allocations_are_reported_as_load_balancer_addresses(build):
    """AWS: each AvailabilityZone of an NLB created with an Elastic IP per subnet carries
    LoadBalancerAddresses [{IpAddress, AllocationId}], in CreateLoadBalancer and
    DescribeLoadBalancers."""
    nlb, eips = _static_nlb(build)
    described = build.elbv2.describe_load_balancers(LoadBalancerArns=[nlb["LoadBalancerArn"]])
    for reply in (nlb, described["LoadBalancers"][0]):
        got = sorted(
            (a["AllocationId"], a["IpAddress"])
            for az in reply["AvailabilityZones"]
            for a in az["LoadBalancerAddresses"]
        )
        assert got == sorted((e["AllocationId"], e["PublicIp"]) for e in eips)


def test_plain_subnets_report_no_elastic_ips(build):
    """AWS: an NLB placed by Subnets (no allocation) has no Elastic IP addresses to report."""
    nlb = build.nlb()
    assert all(not az.get("LoadBalancerAddresses") for az in nlb["AvailabilityZones"])


def test_an_address_the_nlb_holds_cannot_be_released_until_the_nlb_is_deleted(build):
    """AWS: ReleaseAddress of an address still associated (here with the NLB's interface) fails
    with InvalidIPAddress.InUse; once the NLB is deleted it is released."""
    nlb, eips = _static_nlb(build)
    with pytest.raises(ClientError) as err:
        build.ec2.release_address(AllocationId=eips[0]["AllocationId"])
    assert err.value.response["Error"]["Code"] == "InvalidIPAddress.InUse"
    build.elbv2.delete_load_balancer(LoadBalancerArn=nlb["LoadBalancerArn"])
    held = len(build.ec2.describe_addresses()["Addresses"])  # ours and the seeded NAT's
    build.ec2.release_address(AllocationId=eips[0]["AllocationId"])
    assert len(build.ec2.describe_addresses()["Addresses"]) == held - 1
