"""EC2 ModifyVpcEndpoint over HTTP: PrivateDnsEnabled is applied."""

from __future__ import annotations


def test_modify_vpc_endpoint_turns_private_dns_off_and_on(build):
    """AWS: ModifyVpcEndpoint(PrivateDnsEnabled=...) shows in DescribeVpcEndpoints."""
    net = build.aws.network
    endpoint = build.ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=net.vpc_id,
        ServiceName=f"com.amazonaws.{build.aws.region}.execute-api",
        SubnetIds=list(net.private_subnet_ids),
        PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]

    def private_dns() -> bool:
        (found,) = build.ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"]
        return bool(found["PrivateDnsEnabled"])

    build.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PrivateDnsEnabled=False)
    assert private_dns() is False
    build.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PrivateDnsEnabled=True)
    assert private_dns() is True
