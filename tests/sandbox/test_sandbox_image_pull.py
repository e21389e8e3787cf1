"""The sandbox's ECS agent pulls images as AWS does: no route to the registry, no running task.

AWS: "When a Fargate task is launched, its elastic network interface requires a route to the
internet to pull container images. If you receive an error similar to the following when
launching a task, it's because a route to the internet doesn't exist: CannotPullContainerError:
API error (500): Get https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/: net/http: request
canceled while waiting for connection"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html).
"""

from __future__ import annotations

import pytest

from controller.sandbox import ecs_agent

REGION_ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"


@pytest.fixture(autouse=True)
def _retry_at_once(monkeypatch, sandbox):
    """Each tick may retry a place where a launch failed (ECS backs off; tests do not wait).
    The agent's own thread is held for the test: only the test's ticks run, so the number of
    stopped tasks does not depend on how many background ticks a loaded machine fits in."""
    monkeypatch.setattr(ecs_agent, "RETRY_SECONDS", 0.0)
    with sandbox.agent.paused():
        yield


def _isolated_subnet(build, cidr: str = "10.0.50.0/24") -> str:
    """A subnet of the sandbox VPC on a route table of its own with only the local route."""
    ec2, vpc_id = build.ec2, build.aws.network.vpc_id
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone="us-east-1a")[
        "Subnet"
    ]["SubnetId"]
    table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
    return subnet_id


def _service(build, subnets: list[str], image: str = "app:1", public_ip: bool = False) -> str:
    build.ecs.create_cluster(clusterName="cluster")
    task_definition = build.ecs.register_task_definition(
        family="app",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": image, "portMappings": [{"containerPort": 8080}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    group = build.security_group("tasks")
    build.ecs.create_service(
        cluster="cluster",
        serviceName="svc",
        taskDefinition=task_definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [group],
                "assignPublicIp": "ENABLED" if public_ip else "DISABLED",
            }
        },
    )
    return group


def _running(build) -> int:
    return build.ecs.describe_services(cluster="cluster", services=["svc"])["services"][0][
        "runningCount"
    ]


def _stopped(build) -> list[dict]:
    arns = build.ecs.list_tasks(cluster="cluster", serviceName="svc", desiredStatus="STOPPED")[
        "taskArns"
    ]
    return build.ecs.describe_tasks(cluster="cluster", tasks=arns)["tasks"] if arns else []


def test_a_task_without_a_route_to_its_registry_stops_with_cannot_pull(build, sandbox):
    """No default route: the task stops with AWS's CannotPullContainerError (naming the image's
    registry), stopCode TaskFailedToStart, the container's reason; nothing runs, nothing is
    listed as RUNNING, and the service's events say it cannot start tasks."""
    _service(build, [_isolated_subnet(build)], image="public.ecr.aws/nginx/nginx:1.27")
    sandbox.agent.tick()
    reason = (
        "CannotPullContainerError: API error (500): Get https://public.ecr.aws/v2/:"
        " net/http: request canceled while waiting for connection"
    )
    (task,) = _stopped(build)
    assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert (task["stopCode"], task["stoppedReason"]) == ("TaskFailedToStart", reason)
    assert [c["reason"] for c in task["containers"]] == [reason]
    assert task["group"] == "service:svc"
    assert _running(build) == 0
    assert build.ecs.list_tasks(cluster="cluster", serviceName="svc")["taskArns"] == []
    events = build.ecs.describe_services(cluster="cluster", services=["svc"])["services"][0][
        "events"
    ]
    assert events[0]["message"] == "service svc is unable to consistently start tasks successfully."


def test_the_seeded_private_subnets_pull_through_their_nat_gateway(build, sandbox):
    """The seeded private subnets route to a NAT gateway: the same task runs there."""
    _service(build, list(build.aws.network.private_subnet_ids), image="public.ecr.aws/x/y:1")
    sandbox.agent.tick()
    assert _running(build) == 1
    assert _stopped(build) == []


def test_a_nat_route_added_later_lets_the_next_attempt_run(build, sandbox):
    """ECS keeps trying: once the subnet's table routes 0.0.0.0/0 to a NAT gateway, it runs."""
    subnet_id = _isolated_subnet(build)
    _service(build, [subnet_id])
    sandbox.agent.tick()
    assert _running(build) == 0
    table_id = build.ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["RouteTables"][0]["RouteTableId"]
    build.ec2.create_route(
        RouteTableId=table_id,
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=build.aws.network.nat_gateway_id,
    )
    sandbox.agent.tick()
    assert _running(build) == 1
    assert len(_stopped(build)) >= 1  # the failed attempts stay visible


@pytest.mark.parametrize(("public_ip", "running"), [(False, 0), (True, 1)])
def test_a_public_subnet_needs_a_public_ip(build, sandbox, public_ip, running):
    """AWS: with an internet gateway, "confirm that the task has a public IP assigned to it"
    (https://repost.aws/knowledge-center/ecs-fargate-pull-container-error)."""
    _service(build, [build.aws.network.public_subnet_ids[0]], public_ip=public_ip)
    sandbox.agent.tick()
    assert _running(build) == running


def _endpoints(build, subnet_id: str, https_open: bool = True) -> None:
    """ecr.api and ecr.dkr interface endpoints with private DNS, and the s3 gateway endpoint on
    the subnet's route table; their group admits 443 from the VPC when `https_open`."""
    ec2, vpc_id = build.ec2, build.aws.network.vpc_id
    group = build.security_group("endpoints")
    if https_open:
        ec2.authorize_security_group_ingress(
            GroupId=group, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.0.0.0/16"
        )
    for name in ("ecr.api", "ecr.dkr"):
        ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=f"com.amazonaws.us-east-1.{name}",
            VpcEndpointType="Interface",
            SubnetIds=[subnet_id],
            SecurityGroupIds=[group],
            PrivateDnsEnabled=True,
        )
    table_id = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["RouteTables"][0]["RouteTableId"]
    ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName="com.amazonaws.us-east-1.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[table_id],
    )


@pytest.mark.parametrize(
    ("image", "https_open", "running"),
    [
        (REGION_ECR, True, 1),  # the region's ECR through its endpoints
        (REGION_ECR, False, 0),  # the endpoints' group does not admit 443 from the task
        ("public.ecr.aws/nginx/nginx:1.27", True, 0),  # no endpoint serves ECR Public
        ("123456789012.dkr.ecr.eu-west-2.amazonaws.com/app:1", True, 0),  # another region
    ],
)
def test_vpc_endpoints_serve_only_the_regions_private_ecr(
    build, sandbox, image, https_open, running
):
    """Without a NAT route, the ecr.api/ecr.dkr interface endpoints (private DNS, 443 open to
    the task) and the s3 gateway endpoint let a task pull from its own region's ECR only."""
    subnet_id = _isolated_subnet(build)
    _endpoints(build, subnet_id, https_open)
    _service(build, [subnet_id], image=image)
    sandbox.agent.tick()
    assert _running(build) == running
    assert len(_stopped(build)) == 1 - running


def test_failed_tasks_are_kept_up_to_a_bound(build, sandbox):
    """Retries add stopped tasks; the agent keeps the latest MAX_STOPPED per service."""
    _service(build, [_isolated_subnet(build)])
    for _ in range(ecs_agent.MAX_STOPPED + 3):
        sandbox.agent.tick()
    assert len(_stopped(build)) == ecs_agent.MAX_STOPPED


def test_a_bridge_task_on_an_instance_without_a_route_stops(build, sandbox):
    """ECS on EC2: the container instance pulls the image; from an isolated subnet it cannot."""
    import json

    subnet_id = _isolated_subnet(build)
    build.ecs.create_cluster(clusterName="cluster")
    instance = build.ec2.run_instances(
        ImageId="ami-0ecs0000000000000", MinCount=1, MaxCount=1, SubnetId=subnet_id
    )["Instances"][0]
    build.ecs.register_container_instance(
        cluster="cluster",
        instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
    )
    task_definition = build.ecs.register_task_definition(
        family="bridge",
        networkMode="bridge",
        containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    build.ecs.create_service(
        cluster="cluster", serviceName="svc", taskDefinition=task_definition, desiredCount=1
    )
    sandbox.agent.tick()
    assert _running(build) == 0
    (task,) = _stopped(build)
    assert task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert task["containerInstanceArn"]
