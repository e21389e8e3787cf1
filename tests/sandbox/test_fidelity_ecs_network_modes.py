"""ECS over HTTP: CreateService checks the task definition's network mode (bridge vs awsvpc)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _bridge_task_definition(build) -> str:
    return build.ecs.register_task_definition(
        family="bridge",
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[
            {
                "name": "app",
                "image": "app:1",
                "memory": 128,
                "portMappings": [{"containerPort": 8080, "hostPort": 10000}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]


def _create(build, task_definition: str, **extra):
    build.ecs.create_cluster(clusterName="cluster")
    return build.ecs.create_service(
        cluster="cluster",
        serviceName="svc",
        taskDefinition=task_definition,
        desiredCount=0,
        launchType="EC2",
        **extra,
    )


def _error(caught) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_bridge_service_with_network_configuration_is_refused(build):
    """AWS: networkConfiguration "isn't supported for other network modes" than awsvpc."""
    with pytest.raises(ClientError) as caught:
        _create(
            build,
            _bridge_task_definition(build),
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": list(build.aws.network.private_subnet_ids)}
            },
        )
    assert _error(caught) == (
        "InvalidParameterException",
        "Network Configuration is not valid for the given networkMode of this task definition.",
    )


def test_bridge_service_on_an_ip_target_group_is_refused(build):
    """AWS: bridge tasks are registered by instance; an `ip` target group is incompatible."""
    tg = build.target_group()
    with pytest.raises(ClientError) as caught:
        _create(
            build,
            _bridge_task_definition(build),
            loadBalancers=[
                {
                    "targetGroupArn": tg["TargetGroupArn"],
                    "containerName": "app",
                    "containerPort": 8080,
                }
            ],
        )
    code, message = _error(caught)
    assert code == "InvalidParameterException"
    assert "has target type ip, which is incompatible with the bridge network mode" in message


def test_bridge_service_on_an_instance_target_group_is_created(build):
    """The combination ECS on EC2 with a fixed host port uses (seed 004)."""
    tg = build.elbv2.create_target_group(
        Name="hosts",
        Protocol="TCP",
        Port=10000,
        VpcId=build.aws.network.vpc_id,
        TargetType="instance",
        HealthCheckProtocol="TCP",
    )["TargetGroups"][0]
    created = _create(
        build,
        _bridge_task_definition(build),
        loadBalancers=[
            {"targetGroupArn": tg["TargetGroupArn"], "containerName": "app", "containerPort": 8080}
        ],
    )["service"]
    assert created["status"] == "ACTIVE"
