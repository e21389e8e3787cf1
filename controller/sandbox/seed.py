"""Seed the sandbox's network: the VPC `psctl` selects subnets from, plus one it must ignore.

Creates, over HTTP with boto3 against the sandbox endpoint and only where missing (every step
looks up first, so seeding twice changes nothing):
- VPC `Name=privateservice-sandbox`, 10.0.0.0/16, DNS support and hostnames on;
- per AZ (REGIONa, b, c) a private subnet 10.0.(1+i).0/24 tagged `tier=private` and a public
  subnet 10.0.(101+i).0/24 tagged `tier=public`;
- an internet gateway attached to it, and a public route table (0.0.0.0/0 -> IGW) for the
  public subnets;
- an unrelated VPC `Name=other`, 10.1.0.0/16, with a `tier=private` subnet of its own, so that a
  subnet selector that forgets to scope by VPC is caught.
Neighbours: `server` (calls `seed_network` after start and after every reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import FilterTypeDef, TagTypeDef

SANDBOX_VPC_NAME = "privateservice-sandbox"
SANDBOX_CIDR = "10.0.0.0/16"
OTHER_VPC_NAME = "other"
OTHER_CIDR = "10.1.0.0/16"
AZ_SUFFIXES = ("a", "b", "c")


@dataclass(frozen=True)
class SeededNetwork:
    """What the seed created: ids in AZ order (index i of each tuple is the same AZ)."""

    vpc_id: str
    cidr: str
    azs: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...]
    internet_gateway_id: str
    other_vpc_id: str


def seed_network(ec2: EC2Client, region: str) -> SeededNetwork:
    """Create (or find) the sandbox network in `region` and describe it."""
    azs = tuple(f"{region}{suffix}" for suffix in AZ_SUFFIXES)
    vpc_id = _vpc(ec2, SANDBOX_VPC_NAME, SANDBOX_CIDR)
    private = tuple(
        _subnet(ec2, vpc_id, f"10.0.{1 + i}.0/24", az, "private") for i, az in enumerate(azs)
    )
    public = tuple(
        _subnet(ec2, vpc_id, f"10.0.{101 + i}.0/24", az, "public") for i, az in enumerate(azs)
    )
    igw_id = _internet_gateway(ec2, vpc_id)
    _public_route_table(ec2, vpc_id, igw_id, public)
    other_vpc_id = _vpc(ec2, OTHER_VPC_NAME, OTHER_CIDR)
    _subnet(ec2, other_vpc_id, "10.1.1.0/24", azs[0], "private")
    return SeededNetwork(
        vpc_id=vpc_id,
        cidr=SANDBOX_CIDR,
        azs=azs,
        private_subnet_ids=private,
        public_subnet_ids=public,
        internet_gateway_id=igw_id,
        other_vpc_id=other_vpc_id,
    )


def _filters(values: dict[str, str]) -> list[FilterTypeDef]:
    return [{"Name": name, "Values": [value]} for name, value in values.items()]


def _vpc(ec2: EC2Client, name: str, cidr: str) -> str:
    found = ec2.describe_vpcs(Filters=_filters({"tag:Name": name, "cidr": cidr}))["Vpcs"]
    if found:
        return found[0]["VpcId"]
    vpc_id = ec2.create_vpc(
        CidrBlock=cidr,
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    return vpc_id


def _subnet(ec2: EC2Client, vpc_id: str, cidr: str, az: str, tier: str) -> str:
    found = ec2.describe_subnets(Filters=_filters({"vpc-id": vpc_id, "cidr-block": cidr}))[
        "Subnets"
    ]
    if found:
        return found[0]["SubnetId"]
    tags: list[TagTypeDef] = [
        {"Key": "Name", "Value": f"{tier}-{az}"},
        {"Key": "tier", "Value": tier},
    ]
    subnet_id = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock=cidr,
        AvailabilityZone=az,
        TagSpecifications=[{"ResourceType": "subnet", "Tags": tags}],
    )["Subnet"]["SubnetId"]
    if tier == "public":
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    return subnet_id


def _internet_gateway(ec2: EC2Client, vpc_id: str) -> str:
    attached = _filters({"attachment.vpc-id": vpc_id})
    found = ec2.describe_internet_gateways(Filters=attached)["InternetGateways"]
    if found:
        return found[0]["InternetGatewayId"]
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=[
            {
                "ResourceType": "internet-gateway",
                "Tags": [{"Key": "Name", "Value": SANDBOX_VPC_NAME}],
            }
        ]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    return igw_id


def _public_route_table(
    ec2: EC2Client, vpc_id: str, igw_id: str, subnet_ids: tuple[str, ...]
) -> None:
    name = f"{SANDBOX_VPC_NAME}-public"
    if ec2.describe_route_tables(Filters=_filters({"vpc-id": vpc_id, "tag:Name": name}))[
        "RouteTables"
    ]:
        return
    table_id = ec2.create_route_table(
        VpcId=vpc_id,
        TagSpecifications=[
            {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": name}]}
        ],
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    for subnet_id in subnet_ids:
        ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
