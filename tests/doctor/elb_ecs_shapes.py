"""Hand-written boto3 response shapes for the `elb` and `ecs` doctor checks' unit tests: one
healthy chain (internal NLB -> ip target group -> Fargate service), and builders for the parts a
test changes (an ECS-on-EC2 service, an internet-facing NLB with Elastic IPs, an ALB tier).
Shapes follow the AWS API references (DescribeLoadBalancers, DescribeTargetGroups,
DescribeTargetHealth, DescribeServices, DescribeTaskDefinition, DescribeTasks).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from controller.doctor.facts import Facts
from controller.doctor.model import HopRef

REGION = "eu-west-2"
ACCOUNT = "123456789012"
VPC = "vpc-0a1"
NLB = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/orders-nlb/50dc6c495c0c9188"
)
ALB = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/orders-alb/73e2d6bc24d8a067"
)
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-tg/6d0ecf831eec9f09"
ALB_TG = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-alb-tg/9a0e1c4b2f3d5e6a"
)
LISTENER = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/net/orders-nlb/50dc6c495c0c9188"
    "/f2f7dc8efc522ab2"
)
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shop"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/shop/orders"
TASK_DEF = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/shop-orders:3"
TASK_SG = "sg-0task"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
DEPLOYED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def nlb(
    arn: str = NLB, scheme: str = "internal", allocations: list[str | None] | None = None
) -> dict[str, Any]:
    """DescribeLoadBalancers item of an NLB in the three subnets; `allocations[i]` is the Elastic
    IP allocation of subnet i (None: an address ELB chose, reported without AllocationId)."""
    zones = []
    for i, subnet in enumerate(SUBNETS):
        zone: dict[str, Any] = {"ZoneName": f"{REGION}{'abc'[i]}", "SubnetId": subnet}
        if allocations is not None:
            allocation = allocations[i]
            address: dict[str, Any] = {"IpAddress": f"203.0.113.{10 + i}"}
            if allocation:
                address["AllocationId"] = allocation
            zone["LoadBalancerAddresses"] = [address]
        zones.append(zone)
    return {
        "LoadBalancerArn": arn,
        "LoadBalancerName": arn.split("/")[-2],
        "Type": "network",
        "Scheme": scheme,
        "VpcId": VPC,
        "AvailabilityZones": zones,
    }


def alb(arn: str = ALB) -> dict[str, Any]:
    """DescribeLoadBalancers item of an internal ALB with its security group."""
    return {
        "LoadBalancerArn": arn,
        "LoadBalancerName": arn.split("/")[-2],
        "Type": "application",
        "Scheme": "internal",
        "VpcId": VPC,
        "SecurityGroups": ["sg-0alb"],
        "AvailabilityZones": [{"ZoneName": f"{REGION}a", "SubnetId": SUBNETS[0]}],
    }


def target_group(
    arn: str = TG,
    target_type: str = "ip",
    port: int = 8080,
    lbs: tuple[str, ...] = (NLB,),
    protocol: str = "TCP",
    health_check_port: str = "traffic-port",
) -> dict[str, Any]:
    """DescribeTargetGroups item."""
    return {
        "TargetGroupArn": arn,
        "TargetGroupName": arn.split("/")[-2],
        "Protocol": protocol,
        "Port": port,
        "VpcId": VPC,
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": health_check_port,
        "HealthCheckPath": "/healthz",
        "TargetType": target_type,
        "LoadBalancerArns": list(lbs),
    }


def target(ident: str, port: int | None, state: str, reason: str | None = None) -> dict[str, Any]:
    """DescribeTargetHealth TargetHealthDescription."""
    health: dict[str, Any] = {"State": state}
    if reason:
        health["Reason"] = reason
        health["Description"] = reason
    described: dict[str, Any] = {"Target": {"Id": ident}, "TargetHealth": health}
    if port is not None:
        described["Target"]["Port"] = port
    return described


def fargate_service(
    tg_arn: str = TG, desired: int = 2, running: int = 2, **extra: Any
) -> dict[str, Any]:
    """DescribeServices item of a Fargate service behind `tg_arn`."""
    service = {
        "serviceArn": SERVICE,
        "serviceName": "orders",
        "clusterArn": CLUSTER,
        "status": "ACTIVE",
        "launchType": "FARGATE",
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": 0,
        "taskDefinition": TASK_DEF,
        "loadBalancers": [
            {"targetGroupArn": tg_arn, "containerName": "app", "containerPort": 8080}
        ],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": SUBNETS[:2],
                "securityGroups": [TASK_SG],
                "assignPublicIp": "DISABLED",
            }
        },
        "deployments": [
            {
                "id": "ecs-svc/1",
                "status": "PRIMARY",
                "createdAt": DEPLOYED,
                "rolloutState": "COMPLETED",
            }
        ],
        "events": [],
    }
    service.update(extra)
    return service


def task_definition(
    arn: str = TASK_DEF,
    mode: str | None = "awsvpc",
    port_mapping: dict[str, Any] | None = None,
    **container: Any,
) -> dict[str, Any]:
    """DescribeTaskDefinition `taskDefinition` with one container `app`."""
    app: dict[str, Any] = {
        "name": "app",
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders:1.4.2",
        "essential": True,
        "portMappings": [port_mapping or {"containerPort": 8080, "hostPort": 8080}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/privateservice/shop/orders"},
        },
    }
    app.update(container)
    td: dict[str, Any] = {
        "taskDefinitionArn": arn,
        "family": arn.rsplit("/", 1)[-1].split(":", maxsplit=1)[0],
        "revision": int(arn.rsplit(":", 1)[-1]),
        "containerDefinitions": [app],
    }
    if mode is not None:
        td["networkMode"] = mode
    return td


def stopped_task(
    task_id: str,
    stopped_reason: str,
    stop_code: str = "TaskFailedToStart",
    container_reason: str | None = None,
    exit_code: int | None = None,
    minutes_after_deploy: int = 5,
) -> dict[str, Any]:
    """DescribeTasks item of a stopped task of the service."""
    app: dict[str, Any] = {"name": "app", "lastStatus": "STOPPED"}
    if container_reason:
        app["reason"] = container_reason
    if exit_code is not None:
        app["exitCode"] = exit_code
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/shop/{task_id}",
        "lastStatus": "STOPPED",
        "stopCode": stop_code,
        "stoppedReason": stopped_reason,
        "stoppedAt": DEPLOYED + timedelta(minutes=minutes_after_deploy),
        "containers": [app],
    }


def event(message: str, minutes_after_deploy: int = 5) -> dict[str, Any]:
    """DescribeServices `events` item."""
    return {
        "id": str(abs(hash(message))),
        "createdAt": DEPLOYED + timedelta(minutes=minutes_after_deploy),
        "message": message,
    }


def healthy_chain() -> Facts:
    """A clean chain: internal NLB -> listener -> ip target group (two healthy tasks, 30 s
    deregistration delay) -> Fargate service with a 30 s stop timeout."""
    return Facts(
        target="shop/orders",
        owned=False,
        region=REGION,
        hops=[
            HopRef("nlb", NLB),
            HopRef("nlb-listener", LISTENER),
            HopRef("nlb-target-group", TG),
            HopRef("service", SERVICE),
            HopRef("tasks", TASK_DEF),
        ],
        load_balancers={NLB: nlb()},
        listeners={
            NLB: [
                {
                    "ListenerArn": LISTENER,
                    "LoadBalancerArn": NLB,
                    "Port": 80,
                    "Protocol": "TCP",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": TG}],
                }
            ]
        },
        target_groups={TG: target_group()},
        tg_attributes={TG: {"deregistration_delay.timeout_seconds": "30"}},
        target_health={
            TG: [target("10.0.1.10", 8080, "healthy"), target("10.0.2.11", 8080, "healthy")]
        },
        services={SERVICE: fargate_service()},
        task_definitions={TASK_DEF: task_definition()},
        stopped_tasks={SERVICE: []},
        vpcs={VPC: {"VpcId": VPC, "CidrBlock": "10.0.0.0/16"}},
    )
