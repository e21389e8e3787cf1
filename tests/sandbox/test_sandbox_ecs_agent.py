"""The sandbox's ECS agent, seen over HTTP: tasks run, their IPs become healthy targets."""

from __future__ import annotations

import ipaddress


def _targets(build, tg_arn: str) -> dict[str, str]:
    described = build.elbv2.describe_target_health(TargetGroupArn=tg_arn)
    return {
        f"{d['Target']['Id']}:{d['Target']['Port']}": d["TargetHealth"]["State"]
        for d in described["TargetHealthDescriptions"]
    }


def _service(build) -> dict:
    return build.ecs.describe_services(cluster="cluster", services=["svc"])["services"][0]


def test_agent_registers_task_ips_on_its_own(build, wait_until):
    """ECS registers each running task's IP and containerPort in the service's target group,
    and the target group reports them healthy; the service's runningCount reaches desiredCount."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=2)
    targets = wait_until(lambda: t if len(t := _targets(build, tg_arn)) == 2 else None)
    assert set(targets.values()) == {"healthy"}
    assert {key.split(":")[1] for key in targets} == {"8080"}
    service = _service(build)
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"


def test_task_ips_come_from_the_service_subnets(build, sandbox):
    """Each awsvpc task's IP lies in one of the service's subnets, spread across them."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=3)
    sandbox.agent.tick()
    subnets = build.ec2.describe_subnets(SubnetIds=list(build.aws.network.private_subnet_ids))
    cidrs = [ipaddress.ip_network(s["CidrBlock"]) for s in subnets["Subnets"]]
    ips = [ipaddress.ip_address(key.split(":")[0]) for key in _targets(build, tg_arn)]
    assert sorted(next(i for i, c in enumerate(cidrs) if ip in c) for ip in ips) == [0, 1, 2]


def test_scale_in_deregisters_and_scale_out_registers(build, sandbox):
    """ECS stops tasks on scale-in (their targets are deregistered) and keeps the others."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=3)
    sandbox.agent.tick()
    before = set(_targets(build, tg_arn))
    build.ecs.update_service(cluster="cluster", service="svc", desiredCount=1)
    sandbox.agent.tick()
    after = set(_targets(build, tg_arn))
    assert len(after) == 1
    assert after < before
    assert _service(build)["runningCount"] == 1
    build.ecs.update_service(cluster="cluster", service="svc", desiredCount=2)
    sandbox.agent.tick()
    assert len(_targets(build, tg_arn)) == 2


def test_scale_to_zero_and_delete_deregister_everything(build, sandbox):
    """ECS deregisters every task of a service scaled to 0, and of a deleted service."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=2)
    sandbox.agent.tick()
    build.ecs.update_service(cluster="cluster", service="svc", desiredCount=0)
    sandbox.agent.tick()
    assert _targets(build, tg_arn) == {}
    build.ecs.update_service(cluster="cluster", service="svc", desiredCount=2)
    sandbox.agent.tick()
    assert len(_targets(build, tg_arn)) == 2
    build.ecs.delete_service(cluster="cluster", service="svc", force=True)
    sandbox.agent.tick()
    assert _targets(build, tg_arn) == {}
    assert build.ecs.list_tasks(cluster="cluster")["taskArns"] == []


def test_new_task_definition_replaces_tasks(build, sandbox):
    """ECS rolls a service onto a new task definition: new tasks (new IPs) replace the old."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=2)
    sandbox.agent.tick()
    before = set(_targets(build, tg_arn))
    revision = build.task_definition(image="app:2")
    build.ecs.update_service(cluster="cluster", service="svc", taskDefinition=revision)
    sandbox.agent.tick()
    after = set(_targets(build, tg_arn))
    assert len(after) == 2
    assert not after & before


def test_tasks_are_listed_and_described(build, sandbox):
    """ListTasks/DescribeTasks show the service's tasks RUNNING, in group "service:NAME", with
    an ENI attachment carrying the registered private IP."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=2)
    sandbox.agent.tick()
    arns = build.ecs.list_tasks(cluster="cluster", serviceName="svc")["taskArns"]
    tasks = build.ecs.describe_tasks(cluster="cluster", tasks=arns)["tasks"]
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}
    assert {t["group"] for t in tasks} == {"service:svc"}
    ips = {
        d["value"]
        for t in tasks
        for d in t["attachments"][0]["details"]
        if d["name"] == "privateIPv4Address"
    }
    assert ips == {key.split(":")[0] for key in _targets(build, tg_arn)}


def test_service_without_load_balancer_runs_tasks(build, sandbox):
    """A Fargate service without loadBalancers still runs desiredCount tasks."""
    build.fargate_service(None, desired=2)
    sandbox.agent.tick()
    assert _service(build)["runningCount"] == 2
    assert len(build.ecs.list_tasks(cluster="cluster", serviceName="svc")["taskArns"]) == 2


def test_deleted_target_group_does_not_stop_the_agent(build, sandbox):
    """A target group deleted under a running service is skipped; the tasks keep running and a
    reset clears everything."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=1)
    sandbox.agent.tick()
    build.elbv2.delete_target_group(TargetGroupArn=tg_arn)
    build.ecs.update_service(cluster="cluster", service="svc", desiredCount=2)
    sandbox.agent.tick()
    assert _service(build)["runningCount"] == 2
    sandbox.reset()
    sandbox.agent.tick()
    assert build.ecs.list_clusters()["clusterArns"] == []


def _bridge_service(build, instances: int, desired: int) -> tuple[str, list[str]]:
    """A bridge service on `instances` container instances behind an instance target group."""
    import json

    group = build.security_group("hosts")
    build.ecs.create_cluster(clusterName="cluster")
    ids = []
    for i in range(instances):
        instance = build.ec2.run_instances(
            ImageId="ami-0ecs0000000000000",
            MinCount=1,
            MaxCount=1,
            SubnetId=build.aws.network.private_subnet_ids[i % 3],
            SecurityGroupIds=[group],
        )["Instances"][0]
        build.ecs.register_container_instance(
            cluster="cluster",
            instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
        )
        ids.append(instance["InstanceId"])
    tg_arn = build.elbv2.create_target_group(
        Name="hosts",
        Protocol="TCP",
        Port=10000,
        VpcId=build.aws.network.vpc_id,
        TargetType="instance",
        HealthCheckProtocol="TCP",
    )["TargetGroups"][0]["TargetGroupArn"]
    task_definition = build.ecs.register_task_definition(
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
    build.ecs.create_service(
        cluster="cluster",
        serviceName="svc",
        taskDefinition=task_definition,
        desiredCount=desired,
        launchType="EC2",
        loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "app", "containerPort": 8080}],
    )
    return tg_arn, ids


def test_bridge_tasks_register_their_instance_on_the_host_port(build, sandbox):
    """ECS on EC2 registers "the container instance ID and port" (the mapped host port)."""
    tg_arn, ids = _bridge_service(build, instances=2, desired=2)
    sandbox.agent.tick()
    assert set(_targets(build, tg_arn)) == {f"{i}:10000" for i in ids}
    assert _service(build)["runningCount"] == 2
    tasks = build.ecs.list_tasks(cluster="cluster", serviceName="svc")["taskArns"]
    assert len(tasks) == 2


def test_a_fixed_host_port_admits_one_task_per_instance(build, sandbox):
    """Two instances, three tasks wanted: the third cannot be placed (port in use)."""
    tg_arn, _ = _bridge_service(build, instances=2, desired=3)
    sandbox.agent.tick()
    assert len(_targets(build, tg_arn)) == 2
    service = _service(build)
    assert (service["runningCount"], service["desiredCount"]) == (2, 3)


def test_a_task_leaves_with_its_instance(build, sandbox):
    """A deregistered container instance takes its task (and target) with it."""
    tg_arn, ids = _bridge_service(build, instances=2, desired=2)
    sandbox.agent.tick()
    arns = build.ecs.list_container_instances(cluster="cluster")["containerInstanceArns"]
    described = build.ecs.describe_container_instances(cluster="cluster", containerInstances=arns)
    leaving = next(c for c in described["containerInstances"] if c["ec2InstanceId"] == ids[0])
    build.ecs.deregister_container_instance(
        cluster="cluster", containerInstance=leaving["containerInstanceArn"], force=True
    )
    sandbox.agent.tick()
    assert set(_targets(build, tg_arn)) == {f"{ids[1]}:10000"}
    assert _service(build)["runningCount"] == 1
