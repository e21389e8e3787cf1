"""The service layer of the stack: the task definition (and its execution role when the spec
gives none) and the ECS service attached to the target group (rules 4 and 7). Pure.
Neighbours: `controller.model.build` (calls `add_service`), `controller.handlers.ecs_*`.
"""

from __future__ import annotations

from typing import Any

from controller.model import iam, names
from controller.model.common import CONTAINER
from controller.model.network import Network
from controller.model.stack import Ref, Resource, Stack
from controller.spec.models import PrivateService


def add_service(stack: Stack, ps: PrivateService, net: Network) -> None:
    """Execution role (if needed), task definition and ECS service."""
    ns, nm, spec = ps.metadata.namespace, ps.metadata.name, ps.spec
    c, svc = spec.container, spec.service
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
