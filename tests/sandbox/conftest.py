"""Builders for the sandbox's own tests: the resources of the chain, created over HTTP with boto3.

`build` (function fixture) wraps the `aws` fixture of `tests/conftest.py` and creates what most
sandbox tests need: security groups, an internal NLB in the seeded private subnets, an ip target
group, a listener, a Fargate service behind the target group, a REST API with a GET method.
`wait_until` (fixture) is the one polling helper: short period, hard deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from controller.sandbox import SandboxAccess


def _wait_until(check: Callable[[], Any], timeout: float = 5.0, period: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s (last value {result!r})")
        time.sleep(period)


class Builder:
    """Creates chain resources in the sandbox and remembers the clients."""

    def __init__(self, aws: SandboxAccess) -> None:
        self.aws = aws
        self.ec2 = aws.client("ec2")
        self.elbv2 = aws.client("elbv2")
        self.ecs = aws.client("ecs")
        self.apigateway = aws.client("apigateway")

    def security_group(self, name: str = "sg") -> str:
        return self.ec2.create_security_group(
            GroupName=name, Description=name, VpcId=self.aws.network.vpc_id
        )["GroupId"]

    def nlb(self, name: str = "nlb", security_groups: list[str] | None = None) -> dict[str, Any]:
        return self.elbv2.create_load_balancer(
            Name=name,
            Type="network",
            Scheme="internal",
            Subnets=list(self.aws.network.private_subnet_ids),
            SecurityGroups=security_groups if security_groups is not None else [],
        )["LoadBalancers"][0]

    def target_group(
        self, name: str = "tg", port: int = 8080, health_check: str = "HTTP", **extra: Any
    ) -> dict[str, Any]:
        settings: dict[str, Any] = {"HealthCheckProtocol": health_check, **extra}
        if health_check in ("HTTP", "HTTPS"):
            settings.setdefault("HealthCheckPath", "/healthz")
        return self.elbv2.create_target_group(
            Name=name,
            Protocol="TCP",
            Port=port,
            VpcId=self.aws.network.vpc_id,
            TargetType="ip",
            **settings,
        )["TargetGroups"][0]

    def listener(self, lb_arn: str, tg_arn: str, port: int = 80) -> dict[str, Any]:
        return self.elbv2.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="TCP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
        )["Listeners"][0]

    def task_definition(self, image: str = "app:1", port: int = 8080) -> str:
        return self.ecs.register_task_definition(
            family="app",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {"name": "app", "image": image, "portMappings": [{"containerPort": port}]}
            ],
        )["taskDefinition"]["taskDefinitionArn"]

    def fargate_service(
        self, tg_arn: str | None, desired: int = 2, name: str = "svc", **extra: Any
    ) -> dict[str, Any]:
        self.ecs.create_cluster(clusterName="cluster")
        task_definition = self.task_definition()
        if tg_arn is not None:
            extra["loadBalancers"] = [
                {"targetGroupArn": tg_arn, "containerName": "app", "containerPort": 8080}
            ]
        return self.ecs.create_service(
            cluster="cluster",
            serviceName=name,
            taskDefinition=task_definition,
            desiredCount=desired,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(self.aws.network.private_subnet_ids),
                    "securityGroups": [self.security_group(f"{name}-tasks")],
                    "assignPublicIp": "DISABLED",
                }
            },
            **extra,
        )["service"]

    def rest_api_method(self, http_method: str = "GET") -> tuple[str, str]:
        api_id = self.apigateway.create_rest_api(
            name="api", endpointConfiguration={"types": ["REGIONAL"]}
        )["id"]
        root_id = self.apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        self.apigateway.put_method(
            restApiId=api_id, resourceId=root_id, httpMethod=http_method, authorizationType="NONE"
        )
        return api_id, root_id


@pytest.fixture
def build(aws: SandboxAccess) -> Builder:
    """A `Builder` on a freshly reset sandbox."""
    return Builder(aws)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """`wait_until(check, timeout=5.0)`: poll `check` until truthy, fail at the deadline."""
    return _wait_until
