"""The seeded network, read back over HTTP: the sandbox VPC, its tiered subnets, and a decoy."""

from __future__ import annotations

from controller.sandbox.seed import seed_network


def _tags(resource: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_sandbox_vpc_is_tagged_and_sized(aws):
    """The VPC is tagged Name=privateservice-sandbox with CIDR 10.0.0.0/16."""
    ec2 = aws.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["privateservice-sandbox"]}])
    assert [(v["VpcId"], v["CidrBlock"]) for v in vpcs["Vpcs"]] == [
        (aws.network.vpc_id, "10.0.0.0/16")
    ]


def test_one_private_and_one_public_subnet_per_az(aws):
    """Three AZs (a, b, c), each with a tier=private 10.0.N.0/24 and a tier=public
    10.0.10N.0/24 subnet in the sandbox VPC."""
    ec2 = aws.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [aws.network.vpc_id]}])
    found = sorted(
        (s["AvailabilityZone"], _tags(s)["tier"], s["CidrBlock"]) for s in subnets["Subnets"]
    )
    region = aws.region
    assert found == sorted(
        [(f"{region}{az}", "private", f"10.0.{i + 1}.0/24") for i, az in enumerate("abc")]
        + [(f"{region}{az}", "public", f"10.0.{101 + i}.0/24") for i, az in enumerate("abc")]
    )
    assert aws.network.azs == tuple(f"{region}{az}" for az in "abc")
    by_id = {s["SubnetId"]: s for s in subnets["Subnets"]}
    assert [by_id[i]["AvailabilityZone"] for i in aws.network.private_subnet_ids] == list(
        aws.network.azs
    )


def test_internet_gateway_routes_public_subnets(aws):
    """An internet gateway is attached to the VPC, and the public subnets route 0.0.0.0/0 to it."""
    ec2 = aws.client("ec2")
    gateways = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [aws.network.vpc_id]}]
    )["InternetGateways"]
    assert [g["InternetGatewayId"] for g in gateways] == [aws.network.internet_gateway_id]
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": list(aws.network.public_subnet_ids)}]
    )["RouteTables"]
    assert len(tables) == 1
    assert any(
        r.get("GatewayId") == aws.network.internet_gateway_id
        and r["DestinationCidrBlock"] == "0.0.0.0/0"
        for r in tables[0]["Routes"]
    )


def test_private_subnets_route_to_a_nat_gateway_in_a_public_subnet(aws):
    """Tasks in the private subnets reach their registries as on AWS: the private subnets share a
    route table whose 0.0.0.0/0 goes to an available NAT gateway, which sits in a public subnet
    (routed to the internet gateway) on an Elastic IP."""
    ec2 = aws.client("ec2")
    private = list(aws.network.private_subnet_ids)
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": private}]
    )["RouteTables"]
    assert [t["RouteTableId"] for t in tables] == [aws.network.private_route_table_id]
    assert sorted(a["SubnetId"] for a in tables[0]["Associations"] if "SubnetId" in a) == sorted(
        private
    )
    default = [r for r in tables[0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert [r.get("NatGatewayId") for r in default] == [aws.network.nat_gateway_id]
    nat = ec2.describe_nat_gateways(NatGatewayIds=[aws.network.nat_gateway_id])["NatGateways"][0]
    assert (nat["State"], nat["VpcId"]) == ("available", aws.network.vpc_id)
    assert nat["SubnetId"] in aws.network.public_subnet_ids
    assert nat["NatGatewayAddresses"][0]["AllocationId"]
    assert nat["NatGatewayAddresses"][0]["PublicIp"]


def test_other_vpc_exists_with_its_own_private_subnet(aws):
    """A second VPC (Name=other, 10.1.0.0/16) with a tier=private subnet catches selectors
    that match subnets by tag without scoping them to the sandbox VPC."""
    ec2 = aws.client("ec2")
    private = ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["private"]}])
    vpcs = {s["VpcId"] for s in private["Subnets"]}
    assert vpcs == {aws.network.vpc_id, aws.network.other_vpc_id}
    other = ec2.describe_vpcs(VpcIds=[aws.network.other_vpc_id])["Vpcs"][0]
    assert (other["CidrBlock"], _tags(other)["Name"]) == ("10.1.0.0/16", "other")


def test_seeding_twice_changes_nothing(aws):
    """Seeding looks up before it creates: a second seed finds the same network."""
    ec2 = aws.client("ec2")
    count = _counts(ec2)
    again = seed_network(ec2, aws.region)
    assert again == aws.network
    assert count == _counts(ec2)


def _counts(ec2) -> dict[str, int]:
    return {
        "vpcs": len(ec2.describe_vpcs()["Vpcs"]),
        "subnets": len(ec2.describe_subnets()["Subnets"]),
        "igws": len(ec2.describe_internet_gateways()["InternetGateways"]),
        "tables": len(ec2.describe_route_tables()["RouteTables"]),
        "nats": len(ec2.describe_nat_gateways()["NatGateways"]),
        "addresses": len(ec2.describe_addresses()["Addresses"]),
    }
