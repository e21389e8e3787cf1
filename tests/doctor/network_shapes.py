"""Hand-written boto3 shapes of one healthy chain of the seed-000 shape, for the network checks'
unit tests: REST API -> VPC Link (v1) -> internal NLB with a group (PrivateLink enforcement off)
-> ip target group (TCP 8000, health checks on the traffic port) -> Fargate service in two
private subnets routed to a NAT gateway, with a private ECR image and awslogs.

`healthy()` returns fresh `Facts`; tests break one thing in it. Ids are short and readable.
"""

from __future__ import annotations

from typing import Any

from controller.doctor.facts import Facts

REGION = "eu-west-1"
VPC = "vpc-1"
PRIVATE = ("subnet-a", "subnet-b")
PUBLIC = "subnet-p"
NLB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/orders/1"
ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/orders/2"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/3"
LISTENER_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/orders/1/4"
SERVICE_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/shop/orders"
CLUSTER_ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/shop"
TASKDEF_ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/orders:1"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:1.4.2"


def tcp(port: int, *, cidr: str | None = None, group: str | None = None) -> dict[str, Any]:
    """One TCP rule on `port` from (or to) a CIDR or a group."""
    rule: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    rule["IpRanges"] = [{"CidrIp": cidr}] if cidr else []
    rule["UserIdGroupPairs"] = [{"GroupId": group}] if group else []
    return rule


ALL_OUT = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "UserIdGroupPairs": []}]


def group(group_id: str, ingress: list[dict[str, Any]]) -> dict[str, Any]:
    """A security group with `ingress` and all-traffic egress."""
    return {
        "GroupId": group_id,
        "VpcId": VPC,
        "IpPermissions": ingress,
        "IpPermissionsEgress": [dict(r) for r in ALL_OUT],
    }


def acl_entry(
    number: int,
    action: str,
    *,
    egress: bool,
    cidr: str = "0.0.0.0/0",
    ports: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One network ACL entry (TCP on `ports`, else all traffic)."""
    entry: dict[str, Any] = {
        "RuleNumber": number,
        "RuleAction": action,
        "Egress": egress,
        "CidrBlock": cidr,
        "Protocol": "6" if ports else "-1",
    }
    if ports:
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    return entry


def default_acl_entries() -> list[dict[str, Any]]:
    """The default ACL: allow everything (100), deny the rest (*), both ways."""
    return [
        acl_entry(100, "allow", egress=False),
        acl_entry(32767, "deny", egress=False),
        acl_entry(100, "allow", egress=True),
        acl_entry(32767, "deny", egress=True),
    ]


def healthy() -> Facts:
    """A chain with nothing wrong on the network."""
    facts = Facts(target="shop/orders", owned=False, region=REGION)
    facts.vpcs[VPC] = {"VpcId": VPC, "CidrBlock": "10.0.0.0/16"}
    for sid, cidr in (("subnet-a", "10.0.1.0/24"), ("subnet-b", "10.0.2.0/24")):
        facts.subnets[sid] = {"SubnetId": sid, "VpcId": VPC, "CidrBlock": cidr}
    facts.subnets[PUBLIC] = {"SubnetId": PUBLIC, "VpcId": VPC, "CidrBlock": "10.0.101.0/24"}
    facts.security_groups["sg-nlb"] = group("sg-nlb", [tcp(80, cidr="10.0.0.0/16")])
    facts.security_groups["sg-task"] = group(
        "sg-task", [tcp(8000, cidr="10.0.0.0/16"), tcp(8000, group="sg-nlb")]
    )
    facts.security_groups["sg-vpce"] = group("sg-vpce", [tcp(443, cidr="10.0.0.0/16")])
    facts.load_balancers[NLB_ARN] = {
        "LoadBalancerArn": NLB_ARN,
        "LoadBalancerName": "orders",
        "Type": "network",
        "Scheme": "internal",
        "VpcId": VPC,
        "SecurityGroups": ["sg-nlb"],
        "AvailabilityZones": [{"ZoneName": "eu-west-1a", "SubnetId": s} for s in PRIVATE],
        "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic": "off",
    }
    facts.listeners[NLB_ARN] = [
        {"ListenerArn": LISTENER_ARN, "LoadBalancerArn": NLB_ARN, "Port": 80, "Protocol": "TCP"}
    ]
    facts.target_groups[TG_ARN] = {
        "TargetGroupArn": TG_ARN,
        "TargetType": "ip",
        "Protocol": "TCP",
        "Port": 8000,
        "HealthCheckPort": "traffic-port",
        "LoadBalancerArns": [NLB_ARN],
        "VpcId": VPC,
    }
    facts.tg_attributes[TG_ARN] = {"deregistration_delay.timeout_seconds": "30"}
    facts.vpc_links["vl-1"] = {"id": "vl-1", "targetArns": [NLB_ARN], "status": "AVAILABLE"}
    facts.services[SERVICE_ARN] = {
        "serviceArn": SERVICE_ARN,
        "serviceName": "orders",
        "clusterArn": CLUSTER_ARN,
        "taskDefinition": TASKDEF_ARN,
        "launchType": "FARGATE",
        "loadBalancers": [
            {"targetGroupArn": TG_ARN, "containerName": "app", "containerPort": 8000}
        ],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(PRIVATE),
                "securityGroups": ["sg-task"],
                "assignPublicIp": "DISABLED",
            }
        },
    }
    facts.task_definitions[TASKDEF_ARN] = {
        "taskDefinitionArn": TASKDEF_ARN,
        "networkMode": "awsvpc",
        "containerDefinitions": [
            {
                "name": "app",
                "image": IMAGE,
                "portMappings": [{"containerPort": 8000}],
                "logConfiguration": {"logDriver": "awslogs", "options": {}},
            }
        ],
    }
    facts.route_tables = [
        {
            "RouteTableId": "rtb-main",
            "VpcId": VPC,
            "Associations": [{"Main": True, "RouteTableId": "rtb-main"}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}],
        },
        {
            "RouteTableId": "rtb-private",
            "VpcId": VPC,
            "Associations": [{"Main": False, "SubnetId": s} for s in PRIVATE],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"},
            ],
        },
        {
            "RouteTableId": "rtb-public",
            "VpcId": VPC,
            "Associations": [{"Main": False, "SubnetId": PUBLIC}],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"},
            ],
        },
    ]
    facts.network_acls = [
        {
            "NetworkAclId": "acl-default",
            "VpcId": VPC,
            "IsDefault": True,
            "Associations": [{"SubnetId": s} for s in (*PRIVATE, PUBLIC)],
            "Entries": default_acl_entries(),
        }
    ]
    return facts


def add_endpoints(facts: Facts, *suffixes: str, dns: bool = True) -> None:
    """Interface endpoints (group sg-vpce) for `suffixes`, plus the s3 gateway on rtb-private."""
    for suffix in suffixes:
        facts.vpc_endpoints.append(
            {
                "VpcEndpointId": f"vpce-{suffix.replace('.', '')}",
                "VpcId": VPC,
                "ServiceName": f"com.amazonaws.{REGION}.{suffix}",
                "VpcEndpointType": "Interface",
                "PrivateDnsEnabled": dns,
                "Groups": [{"GroupId": "sg-vpce"}],
                "SubnetIds": list(PRIVATE),
                "State": "available",
            }
        )
    facts.vpc_endpoints.append(
        {
            "VpcEndpointId": "vpce-s3",
            "VpcId": VPC,
            "ServiceName": f"com.amazonaws.{REGION}.s3",
            "VpcEndpointType": "Gateway",
            "RouteTableIds": ["rtb-private"],
            "State": "available",
        }
    )


def without_nat(facts: Facts) -> None:
    """The private route table loses its NAT route."""
    table = facts.route_tables[1]
    table["Routes"] = [r for r in table["Routes"] if "NatGatewayId" not in r]
