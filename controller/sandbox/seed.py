"""Seed the sandbox's network: the VPC `psctl` selects subnets from, plus one it must ignore.

Creates, over HTTP with boto3 against the sandbox endpoint and only where missing (it looks up
first, in batched reads, and not at all inside a VPC it has just made; seeding twice changes
nothing):
- VPC `Name=privateservice-sandbox`, 10.0.0.0/16, DNS support and hostnames on;
- per AZ (REGIONa, b, c) a private subnet 10.0.(1+i).0/24 tagged `tier=private` and a public
  subnet 10.0.(101+i).0/24 tagged `tier=public`;
- an internet gateway attached to it, and a public route table (0.0.0.0/0 -> IGW) for the
  public subnets;
- a NAT gateway (on an Elastic IP) in the first public subnet, and a private route table
  (0.0.0.0/0 -> NAT gateway) explicitly associated with the private subnets, so that tasks there
  can pull their images as on AWS ("The route tables associated to the subnets that your task is
  created in must allow your Amazon ECS infrastructure to reach the repository endpoint [...]
  through an internet gateway, NAT gateway, or VPC endpoints",
  https://repost.aws/knowledge-center/ecs-fargate-pull-container-error). A NAT route rather
  than the ECR/S3/logs endpoints: the examples pull from `public.ecr.aws` and from another
  region's ECR, which interface endpoints (they serve the private registry of their own region)
  do not reach; the NAT serves every registry, and Secrets Manager, SSM and logs too. One NAT
  gateway, not one per AZ: the sandbox has no AZ failures to survive;
- an unrelated VPC `Name=other`, 10.1.0.0/16, with a `tier=private` subnet of its own, so that a
  subnet selector that forgets to scope by VPC is caught.
Neighbours: `server` (calls `seed_network` after start and after every reset).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import FilterTypeDef, RouteTableTypeDef, TagTypeDef

SANDBOX_VPC_NAME = "privateservice-sandbox"
SANDBOX_CIDR = "10.0.0.0/16"
OTHER_VPC_NAME = "other"
OTHER_CIDR = "10.1.0.0/16"
AZ_SUFFIXES = ("a", "b", "c")
PUBLIC_TABLE = f"{SANDBOX_VPC_NAME}-public"
PRIVATE_TABLE = f"{SANDBOX_VPC_NAME}-private"
ANYWHERE = "0.0.0.0/0"


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
    nat_gateway_id: str
    private_route_table_id: str


def seed_network(ec2: EC2Client, region: str) -> SeededNetwork:
    """Create (or find) the sandbox network in `region` and describe it.

    Lookups are batched (one DescribeVpcs for both VPCs, one DescribeSubnets per VPC), and a
    VPC created just now holds nothing to look up: on a fresh account the seed makes one read.
    """
    azs = tuple(f"{region}{suffix}" for suffix in AZ_SUFFIXES)
    vpcs = _vpcs(ec2)
    vpc_id, fresh = _vpc(ec2, vpcs, SANDBOX_VPC_NAME, SANDBOX_CIDR)
    subnets = {} if fresh else _subnets(ec2, vpc_id)
    private = tuple(
        subnets.get(f"10.0.{1 + i}.0/24")
        or _subnet(ec2, vpc_id, f"10.0.{1 + i}.0/24", az, "private")
        for i, az in enumerate(azs)
    )
    public = tuple(
        subnets.get(f"10.0.{101 + i}.0/24")
        or _subnet(ec2, vpc_id, f"10.0.{101 + i}.0/24", az, "public")
        for i, az in enumerate(azs)
    )
    igw_id = _internet_gateway(ec2, vpc_id, fresh)
    tables = {} if fresh else _route_tables(ec2, vpc_id)
    if PUBLIC_TABLE not in tables:
        _route_table(ec2, vpc_id, PUBLIC_TABLE, igw_id, public)
    nat_id = _nat_gateway(ec2, vpc_id, public[0], tables.get(PRIVATE_TABLE), fresh)
    private_table = tables.get(PRIVATE_TABLE) or _route_table(
        ec2, vpc_id, PRIVATE_TABLE, nat_id, private
    )
    other_vpc_id, other_fresh = _vpc(ec2, vpcs, OTHER_VPC_NAME, OTHER_CIDR)
    if other_fresh or "10.1.1.0/24" not in _subnets(ec2, other_vpc_id):
        _subnet(ec2, other_vpc_id, "10.1.1.0/24", azs[0], "private")
    return SeededNetwork(
        vpc_id=vpc_id,
        cidr=SANDBOX_CIDR,
        azs=azs,
        private_subnet_ids=private,
        public_subnet_ids=public,
        internet_gateway_id=igw_id,
        other_vpc_id=other_vpc_id,
        nat_gateway_id=nat_id,
        private_route_table_id=private_table["RouteTableId"],
    )


def _filters(values: dict[str, str]) -> list[FilterTypeDef]:
    return [{"Name": name, "Values": [value]} for name, value in values.items()]


def _vpcs(ec2: EC2Client) -> dict[tuple[str, str], str]:
    """The seeded VPCs that exist, by (Name, CIDR)."""
    found = ec2.describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [SANDBOX_VPC_NAME, OTHER_VPC_NAME]}]
    )["Vpcs"]
    return {(_name(v.get("Tags", [])), v["CidrBlock"]): v["VpcId"] for v in found}


def _vpc(
    ec2: EC2Client, existing: dict[tuple[str, str], str], name: str, cidr: str
) -> tuple[str, bool]:
    """The VPC's id, and whether it was created just now."""
    if (name, cidr) in existing:
        return existing[(name, cidr)], False
    vpc_id = ec2.create_vpc(
        CidrBlock=cidr,
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    return vpc_id, True


def _subnets(ec2: EC2Client, vpc_id: str) -> dict[str, str]:
    """The VPC's subnets: CIDR -> subnet id."""
    found = ec2.describe_subnets(Filters=_filters({"vpc-id": vpc_id}))["Subnets"]
    return {s["CidrBlock"]: s["SubnetId"] for s in found}


def _subnet(ec2: EC2Client, vpc_id: str, cidr: str, az: str, tier: str) -> str:
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


def _internet_gateway(ec2: EC2Client, vpc_id: str, fresh: bool) -> str:
    if not fresh:
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


def _route_tables(ec2: EC2Client, vpc_id: str) -> dict[str, RouteTableTypeDef]:
    """The seeded route tables of the VPC by Name (one call for both)."""
    found = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "tag:Name", "Values": [PUBLIC_TABLE, PRIVATE_TABLE]},
        ]
    )["RouteTables"]
    return {_name(t.get("Tags", [])): t for t in found}


def _name(tags: Sequence[TagTypeDef]) -> str:
    return next((t["Value"] for t in tags if t["Key"] == "Name"), "")


def _nat_gateway(
    ec2: EC2Client,
    vpc_id: str,
    subnet_id: str,
    private_table: RouteTableTypeDef | None,
    fresh: bool,
) -> str:
    """The NAT gateway the private table routes to, else one in `subnet_id` (made if missing)."""
    for route in (private_table or {}).get("Routes", []):
        if route.get("DestinationCidrBlock") == ANYWHERE and route.get("NatGatewayId"):
            return route["NatGatewayId"]
    if not fresh:
        found = ec2.describe_nat_gateways(
            Filters=_filters({"vpc-id": vpc_id, "subnet-id": subnet_id, "state": "available"})
        )["NatGateways"]
        if found:
            return found[0]["NatGatewayId"]
    tags: list[TagTypeDef] = [{"Key": "Name", "Value": f"{SANDBOX_VPC_NAME}-nat"}]
    allocation_id = ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags}]
    )["AllocationId"]
    return ec2.create_nat_gateway(
        SubnetId=subnet_id,
        AllocationId=allocation_id,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": tags}],
    )["NatGateway"]["NatGatewayId"]


def _route_table(
    ec2: EC2Client,
    vpc_id: str,
    name: str,
    gateway_id: str,
    subnet_ids: tuple[str, ...],
) -> RouteTableTypeDef:
    """A route table named `name` with 0.0.0.0/0 -> `gateway_id` (an internet or NAT gateway),
    associated with `subnet_ids`."""
    table = ec2.create_route_table(
        VpcId=vpc_id,
        TagSpecifications=[
            {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": name}]}
        ],
    )["RouteTable"]
    table_id = table["RouteTableId"]
    if gateway_id.startswith("nat-"):
        ec2.create_route(
            RouteTableId=table_id, DestinationCidrBlock=ANYWHERE, NatGatewayId=gateway_id
        )
    else:
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock=ANYWHERE, GatewayId=gateway_id)
    for subnet_id in subnet_ids:
        ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
    return table
