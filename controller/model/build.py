"""spec + discovered network -> the desired Stack (pure: no boto3, no I/O).

The rules of the contract hold here by construction: the target group is `ip` (rule 1), the task
security group admits the container port from the NLB's group and the VPC CIDR and nothing from
anywhere (rule 2), an NLB behind a VPC Link has PrivateLink enforcement off and admits the
listener port from the VPC CIDR (rule 3), tasks never get a public IP (rule 4), every API key is
in its plan and every plan on the stage (rule 5), REST APIs go through a VPC Link v1 to the NLB
(rule 6), and a grace period and a short deregistration delay are always set (rule 7).
Neighbours: `controller.spec` (input), `controller.model.stack` (output types).
"""

from __future__ import annotations

from typing import Any

from controller.model import iam, names
from controller.model.network import Network
from controller.model.rest_api import add_rest_api
from controller.model.stack import Ref, Resource, Stack
from controller.spec.models import PrivateService

CONTAINER = "app"
ALL_TRAFFIC_EGRESS = [{"protocol": "-1", "fromPort": -1, "toPort": -1, "cidr": "0.0.0.0/0"}]


def tcp_from(
    port: int, *, cidr: str | None = None, group: Ref | None = None, why: str
) -> dict[str, Any]:
    """One TCP ingress rule on `port` from a CIDR or a security group, with its description."""
    rule: dict[str, Any] = {"protocol": "tcp", "fromPort": port, "toPort": port, "description": why}
    if group is not None:
        rule["sourceGroup"] = group
    else:
        rule["cidr"] = cidr
    return rule


def build_stack(ps: PrivateService, net: Network) -> Stack:
    """The desired resources for `ps` in `net`, with their dependencies."""
    meta, spec = ps.metadata, ps.spec
    ns, nm = meta.namespace, meta.name
    stack = Stack(owner=ps.owner, tags=dict(spec.tags))
    c, lb, svc = spec.container, spec.load_balancer, spec.service

    stack.add(
        Resource(
            "log-group",
            "logs.log_group",
            "log-group",
            {
                "name": names.log_group_name(ns, nm),
                "retentionDays": c.log_retention_days,
            },
            {"retentionDays": "container.logRetentionDays"},
        )
    )

    stack.add(Resource("ecs-cluster", "ecs.cluster", "ecs-cluster", {"name": svc.cluster}))

    nlb_sg = stack.add(
        Resource(
            "nlb-sg",
            "ec2.security_group",
            "nlb-sg",
            {
                "name": names.aws_name(ns, nm, "nlb", 255),
                "description": f"privateservice {ps.owner}: NLB",
                "vpcId": net.vpc_id,
                # Rule 3: the VPC Link's traffic arrives from addresses in the VPC.
                "ingress": [
                    tcp_from(
                        lb.listener.port, cidr=net.cidr, why="listener from the VPC (VPC Link)"
                    )
                ],
                "egress": ALL_TRAFFIC_EGRESS,
            },
            {"ingress": "loadBalancer.listener.port"},
        )
    )

    stack.add(
        Resource(
            "task-sg",
            "ec2.security_group",
            "task-sg",
            {
                "name": names.aws_name(ns, nm, "task", 255),
                "description": f"privateservice {ps.owner}: tasks",
                "vpcId": net.vpc_id,
                # Rule 2: health checks come from the NLB's nodes (its group); requests keep the
                # client's source address, which is inside the VPC. Never 0.0.0.0/0 or ::/0.
                "ingress": sorted(
                    [
                        tcp_from(c.port, group=nlb_sg, why="health checks from the NLB"),
                        tcp_from(
                            c.port, cidr=net.cidr, why="traffic through the NLB (source preserved)"
                        ),
                    ],
                    key=lambda r: "sourceGroup" in r,
                ),
                "egress": ALL_TRAFFIC_EGRESS,
            },
            {"ingress": "container.port"},
        )
    )

    attributes = {"load_balancing.cross_zone.enabled": str(lb.cross_zone).lower()}
    stack.add(
        Resource(
            "nlb",
            "elbv2.load_balancer",
            "nlb",
            {
                "name": names.aws_name(ns, nm, "nlb", 32),
                "type": "network",
                "scheme": lb.scheme,
                "subnets": sorted(net.subnet_ids),
                "securityGroups": [nlb_sg],
                "attributes": attributes,
                # Rule 3: VPC Link traffic is PrivateLink traffic; with enforcement on, the
                # NLB's group would have to admit it by rules that cannot name its addresses.
                "enforcePrivateLinkInboundRules": "off" if spec.api is not None else "on",
            },
            {
                "attributes.load_balancing.cross_zone.enabled": "loadBalancer.crossZone",
                "scheme": "loadBalancer.scheme",
            },
        )
    )

    hc = lb.target_group.health_check
    health: dict[str, Any] = {
        "protocol": hc.protocol,
        "port": "traffic-port",
        "intervalSeconds": hc.interval_seconds,
        "timeoutSeconds": hc.timeout_seconds,
        "healthyThreshold": hc.healthy_threshold,
        "unhealthyThreshold": hc.unhealthy_threshold,
    }
    if hc.protocol != "TCP":
        health |= {"path": hc.path, "matcher": hc.matcher}
    stack.add(
        Resource(
            "target-group",
            "elbv2.target_group",
            "target-group",
            {
                "name": names.aws_name(ns, nm, "tg", 32),
                "protocol": "TCP",
                "port": c.port,
                "vpcId": net.vpc_id,
                "targetType": "ip",  # rule 1: awsvpc tasks are reached by IP
                "healthCheck": health,
                "attributes": {
                    "deregistration_delay.timeout_seconds": str(
                        lb.target_group.deregistration_delay_seconds
                    ),
                },
            },
            {
                f"healthCheck.{k}": f"loadBalancer.targetGroup.healthCheck.{v}"
                for k, v in (
                    ("protocol", "protocol"),
                    ("path", "path"),
                    ("intervalSeconds", "intervalSeconds"),
                    ("timeoutSeconds", "timeoutSeconds"),
                    ("healthyThreshold", "healthyThreshold"),
                    ("unhealthyThreshold", "unhealthyThreshold"),
                    ("matcher", "matcher"),
                )
            }
            | {
                "attributes.deregistration_delay.timeout_seconds": (
                    "loadBalancer.targetGroup.deregistrationDelaySeconds"
                )
            },
        )
    )

    listener: dict[str, Any] = {
        "loadBalancerArn": Ref("nlb", "arn"),
        "port": lb.listener.port,
        "protocol": lb.listener.protocol,
        "targetGroupArn": Ref("target-group", "arn"),
    }
    if lb.listener.certificate_arn:
        listener["certificateArn"] = lb.listener.certificate_arn
    stack.add(Resource("listener", "elbv2.listener", "listener", listener))

    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": c.image,
        "essential": True,
        "portMappings": [{"containerPort": c.port, "protocol": "tcp"}],
        "command": list(c.command),
        "environment": dict(sorted(c.environment.items())),
        "secrets": dict(sorted(c.secrets.items())),
        "stopTimeout": c.stop_timeout_seconds,
        "logGroup": Ref("log-group", "name"),
    }
    task: dict[str, Any] = {
        "family": names.aws_name(ns, nm, "", 255),
        "cpu": str(c.cpu),
        "memory": str(c.memory),
        "networkMode": "awsvpc",
        "requiresCompatibilities": [svc.launch_type],
        "executionRoleArn": svc.execution_role_arn or Ref("execution-role", "arn"),
        "taskRoleArn": svc.task_role_arn,
        "container": container,
    }
    if svc.execution_role_arn is None:
        # Fargate pulls images and ships awslogs only with an execution role: make one.
        stack.add(
            Resource(
                "execution-role",
                "iam.role",
                "execution-role",
                {
                    "name": names.aws_name(ns, nm, "exec", 64),
                    "trustPolicy": iam.trust_policy("ecs-tasks.amazonaws.com"),
                    "managedPolicies": [iam.EXECUTION_MANAGED_POLICY],
                    "inlinePolicy": iam.secrets_policy(list(c.secrets.values())),
                },
            )
        )
    stack.add(
        Resource(
            "task-definition",
            "ecs.task_definition",
            "task-definition",
            task,
            {
                "container.image": "container.image",
                "cpu": "container.cpu",
                "memory": "container.memory",
                "container.environment": "container.environment",
                "container.command": "container.command",
            },
        )
    )

    dep = svc.deployment
    stack.add(
        Resource(
            "ecs-service",
            "ecs.service",
            "ecs-service",
            {
                "cluster": Ref("ecs-cluster", "name"),
                "name": names.aws_name(ns, nm, "", 255),
                "taskDefinition": Ref("task-definition", "arn"),
                "desiredCount": svc.desired_count,
                "launchType": svc.launch_type,
                "platformVersion": svc.platform_version,
                "subnets": sorted(net.subnet_ids),
                "securityGroups": [Ref("task-sg")],
                "assignPublicIp": "DISABLED",  # rule 4
                "loadBalancer": {
                    "targetGroupArn": Ref("target-group", "arn"),
                    "containerName": CONTAINER,
                    "containerPort": c.port,
                },
                "healthCheckGracePeriodSeconds": svc.health_check_grace_period_seconds,
                "enableExecuteCommand": svc.enable_execute_command,
                "deployment": {
                    "minimumHealthyPercent": dep.minimum_healthy_percent,
                    "maximumPercent": dep.maximum_percent,
                    "circuitBreaker": {
                        "enable": dep.circuit_breaker.enable,
                        "rollback": dep.circuit_breaker.rollback,
                    },
                },
            },
            {
                "desiredCount": "service.desiredCount",
                "healthCheckGracePeriodSeconds": "service.healthCheckGracePeriodSeconds",
                "enableExecuteCommand": "service.enableExecuteCommand",
                "platformVersion": "service.platformVersion",
            },
            extra_deps=("listener",),
        )
    )  # ECS refuses a target group that no listener uses

    if spec.api is not None:
        add_rest_api(stack, ps, spec.api)
    return stack
