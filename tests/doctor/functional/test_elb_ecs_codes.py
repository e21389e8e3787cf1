"""Functional tests of the `elb` and `ecs` doctor checks on the sandbox: build a chain (with psctl,
or with plain boto3 as Terraform would), break one thing behind psctl's back, and expect exactly
that finding code from `psctl doctor ... -o json` (`controller.cli.main`), with the fix a spec
change for a chain a spec owns and an AWS CLI command for one it does not.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.aws.session import AwsContext, AwsSettings
from controller.cli import main
from controller.reconcile.runner import Reconciler
from controller.spec.loader import parse_object

EXAMPLES = Path(__file__).parents[3] / "examples"


# --- helpers ---------------------------------------------------------------------------------


def _example(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return doc


def _apply(aws: Any, doc: dict[str, Any], tmp_path: Path) -> Path:
    """Apply `doc` until converged on the sandbox and return its file (for `doctor -f`)."""
    loaded = parse_object(doc, "<test>")
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    ctx = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    result = Reconciler(loaded.spec, ctx, max_requeue=0.2).apply(90)
    assert result.converged, result.reason
    path = tmp_path / f"{doc['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """`psctl doctor ARGV -o json`: the exit status and the JSON document."""
    capsys.readouterr()
    status = main(["doctor", *argv, "-o", "json"])
    out = capsys.readouterr()
    assert out.out, out.err
    document: dict[str, Any] = json.loads(out.out)
    document["stderr"] = out.err
    return status, document


def _codes(doc: dict[str, Any]) -> list[str]:
    return sorted(f["code"] for chain in doc["chains"] for f in chain["findings"])


def _findings(doc: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for chain in doc["chains"] for f in chain["findings"] if f["code"] == code]


def _service(aws: Any, cluster: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = aws.client("ecs").describe_services(cluster=cluster, services=[name])[
        "services"
    ][0]
    return found


def _healthy(aws: Any, tg_arn: str, count: int, timeout: float = 60) -> None:
    """Wait until the sandbox's ECS agent has `count` healthy targets in the group."""
    elb = aws.client("elbv2")
    deadline = time.monotonic() + timeout
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        healthy = [d for d in health if d["TargetHealth"]["State"] == "healthy"]
        if len(healthy) == count:
            return
        assert time.monotonic() < deadline, health
        time.sleep(0.2)


def _wait_empty(aws: Any, tg_arn: str, timeout: float = 60) -> None:
    elb = aws.client("elbv2")
    deadline = time.monotonic() + timeout
    while elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def _orders(access: Any, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(_example("orders-rest-nlb.yaml")))
    return path, _service(access, "shop", "ps-shop-orders")


@pytest.fixture
def orders(orders_chain: Any, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """examples/orders-rest-nlb.yaml applied, its two tasks healthy in the target group (kept
    by the worker's sandbox, put back after the test: `orders_chain`); returns the spec file and
    the service as DescribeServices gives it."""
    return _orders(orders_chain, tmp_path)


@pytest.fixture
def orders_spent(orders_chain_spent: Any, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """`orders` for a test that leaves resources or stopped tasks behind (rebuilt after)."""
    return _orders(orders_chain_spent, tmp_path)


# --- tests -----------------------------------------------------------------------------------


def test_applied_orders_chain_has_no_elb_or_ecs_finding(
    capsys: pytest.CaptureFixture[str], orders: tuple[Path, dict[str, Any]]
) -> None:
    """The example as psctl builds it: doctor exits 0 with no finding at all (so each test below
    sees only the code its break provokes)."""
    path, _ = orders
    status, doc = _doctor(capsys, "-f", str(path))
    assert (status, _codes(doc)) == (0, [])


def test_long_deregistration_delay_is_a_warning_with_the_spec_fix(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: tuple[Path, dict[str, Any]]
) -> None:
    """Someone sets the target group's deregistration delay back to AWS's 300 s: exactly
    `deregistration-delay-long` (a warning: exit 0), fixed by the spec's field."""
    aws = orders_chain
    path, service = orders
    tg_arn = service["loadBalancers"][0]["targetGroupArn"]
    aws.client("elbv2").modify_target_group_attributes(
        TargetGroupArn=tg_arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}],
    )
    status, doc = _doctor(capsys, "-f", str(path))
    assert (status, _codes(doc)) == (0, ["deregistration-delay-long"])
    (found,) = _findings(doc, "deregistration-delay-long")
    assert (found["severity"], found["hop"], found["resource"]) == (
        "warning",
        "nlb-target-group",
        tg_arn,
    )
    assert found["fix"].startswith("spec.loadBalancer.targetGroup.deregistrationDelaySeconds: 30")


def test_service_scaled_to_zero_leaves_no_healthy_targets_with_its_counts(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: tuple[Path, dict[str, Any]]
) -> None:
    """Someone scales the service to 0: the group empties and doctor says exactly
    `no-healthy-targets` with desired 0 / running 0; from the service (a chain it does not
    own) the fix is the `aws ecs update-service` command."""
    aws = orders_chain
    path, service = orders
    tg_arn = service["loadBalancers"][0]["targetGroupArn"]
    aws.client("ecs").update_service(cluster="shop", service="ps-shop-orders", desiredCount=0)
    _wait_empty(aws, tg_arn)
    status, doc = _doctor(capsys, "-f", str(path))
    assert (status, _codes(doc)) == (1, ["no-healthy-targets"])
    (found,) = _findings(doc, "no-healthy-targets")
    assert found["resource"] == tg_arn
    assert "desired 0, running 0" in found["message"]
    assert found["fix"] == "spec.service.desiredCount: 1 or more"
    status, doc = _doctor(capsys, "--ecs-service", "shop/ps-shop-orders")
    assert (status, _codes(doc)) == (1, ["no-healthy-targets"])
    assert _findings(doc, "no-healthy-targets")[0]["fix"].startswith(
        "aws ecs update-service --cluster shop --service ps-shop-orders --desired-count 1"
    )


def test_task_group_admitting_nothing_leaves_targets_unhealthy_with_their_reason(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: tuple[Path, dict[str, Any]]
) -> None:
    """Someone revokes every ingress rule of the task group (field report 000's first trap):
    the NLB's health checks fail, each target is `unhealthy` with Target.FailedHealthChecks
    (an NLB's reason), and `no-healthy-targets` lists them with the service's counts beside the
    network findings that name the group; from the service, its fix admits the port on it."""
    aws = orders_chain
    _, service = orders
    tg_arn = service["loadBalancers"][0]["targetGroupArn"]
    (group,) = service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    ec2 = aws.client("ec2")
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    ingress = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"]]
    ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=ingress)
    status, doc = _doctor(capsys, "--ecs-service", "shop/ps-shop-orders")
    assert (status, _codes(doc)) == (1, ["health-check-blocked", "no-healthy-targets"]), doc
    (found,) = _findings(doc, "no-healthy-targets")
    assert found["resource"] == tg_arn
    assert found["message"].count("unhealthy (Target.FailedHealthChecks)") == 2
    assert "desired 2, running 2" in found["message"]
    assert found["fix"].startswith(
        f"aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port 8000"
    )


def test_fargate_service_moved_to_an_instance_group_is_a_target_type_mismatch(
    orders_chain_spent: Any,
    capsys: pytest.CaptureFixture[str],
    orders_spent: tuple[Path, dict[str, Any]],
) -> None:
    """Someone replaces the NLB's ip target group with an `instance` one and points the Fargate
    service at it: exactly `target-type-mismatch` on that group, discovered from the NLB (a
    chain doctor does not own: the fix is the CLI commands that replace the group)."""
    aws = orders_chain_spent
    _, service = orders_spent
    elb = aws.client("elbv2")
    old = elb.describe_target_groups(
        TargetGroupArns=[service["loadBalancers"][0]["targetGroupArn"]]
    )["TargetGroups"][0]
    new = elb.create_target_group(
        Name="orders-by-instance",
        Protocol="TCP",
        Port=old["Port"],
        VpcId=old["VpcId"],
        TargetType="instance",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(
        TargetGroupArn=new,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    (listener,) = elb.describe_listeners(LoadBalancerArn=old["LoadBalancerArns"][0])["Listeners"]
    elb.modify_listener(
        ListenerArn=listener["ListenerArn"],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": new}],
    )
    binding = dict(service["loadBalancers"][0], targetGroupArn=new)
    aws.client("ecs").update_service(
        cluster="shop", service="ps-shop-orders", loadBalancers=[binding]
    )
    _healthy(aws, new, service["desiredCount"])  # the move done (else no-healthy-targets too)
    status, doc = _doctor(capsys, "--load-balancer", old["LoadBalancerArns"][0])
    assert (status, _codes(doc)) == (1, ["target-type-mismatch"]), doc
    (found,) = _findings(doc, "target-type-mismatch")
    assert (found["hop"], found["resource"]) == ("nlb-target-group", new)
    assert "--target-type ip" in found["fix"]
    assert f"--listener-arn {listener['ListenerArn']}" in found["fix"]


# --- ECS on EC2 (field report 004) -----------------------------------------------------------

EC2_CLUSTER = "finance-ec2"
HOST_PORT = 10000


def _rolled_off(aws: Any, tg_arn: str, port: int, timeout: float = 60) -> None:
    """Wait until no target of the group is on `port` any more and some target is."""
    elb = aws.client("elbv2")
    deadline = time.monotonic() + timeout
    while True:
        health = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        if health and all(d["Target"].get("Port") != port for d in health):
            return
        assert time.monotonic() < deadline, health
        time.sleep(0.2)


def _container_instances(aws: Any, count: int = 2) -> str:
    """The platform team's cluster (as in tests/functional/test_arch_ec2.py): EC2 instances in
    the private subnets registered with ECS; returns their security group."""
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    group: str = ec2.create_security_group(
        GroupName="ecs-instances", Description="ECS container instances", VpcId=aws.network.vpc_id
    )["GroupId"]
    ecs.create_cluster(clusterName=EC2_CLUSTER)
    subnets = aws.network.private_subnet_ids
    for i in range(count):
        instance = ec2.run_instances(
            ImageId="ami-0ecs0000000000000",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.small",
            SubnetId=subnets[i % len(subnets)],
            SecurityGroupIds=[group],
        )["Instances"][0]
        ecs.register_container_instance(
            cluster=EC2_CLUSTER,
            instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
        )
    return group


def test_ec2_task_definition_with_host_port_0_is_a_dynamic_host_port(
    aws: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """examples/billing-ec2-fixed-ports.yaml applied (without its custom domain), then someone
    registers a task definition mapping host port 0 and deploys it: `dynamic-host-port` on the
    tasks hop (with the `host-port-blocked` it causes), fixed by `spec.container.hostPort`."""
    _container_instances(aws)
    doc = _example("billing-ec2-fixed-ports.yaml")
    doc["spec"]["api"].pop("customDomain")
    path = _apply(aws, doc, tmp_path)
    service = _service(aws, EC2_CLUSTER, "ps-finance-billing")
    _healthy(aws, service["loadBalancers"][0]["targetGroupArn"], 2)
    status, baseline = _doctor(capsys, "-f", str(path))
    assert (status, _codes(baseline)) == (0, [])

    ecs = aws.client("ecs")
    td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    for mapping in td["containerDefinitions"][0]["portMappings"]:
        mapping["hostPort"] = 0
    kept = ("family", "networkMode", "requiresCompatibilities", "containerDefinitions", "cpu")
    revision = {k: td[k] for k in (*kept, "memory", "executionRoleArn", "taskRoleArn") if k in td}
    dynamic = ecs.register_task_definition(**revision)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=EC2_CLUSTER, service="ps-finance-billing", taskDefinition=dynamic)
    _rolled_off(aws, service["loadBalancers"][0]["targetGroupArn"], HOST_PORT)
    status, doc = _doctor(capsys, "-f", str(path))
    # The tasks are now registered on a port the instances' group does not admit (on AWS an
    # ephemeral one; the sandbox's agent uses the container port), so, as on AWS, the group
    # blocks that port (`host-port-blocked`) and the health checks fail (`no-healthy-targets`).
    assert (status, _codes(doc)) == (
        1,
        ["dynamic-host-port", "host-port-blocked", "no-healthy-targets"],
    ), doc
    (found,) = _findings(doc, "dynamic-host-port")
    assert (found["hop"], found["resource"]) == ("tasks", dynamic)
    assert found["fix"].startswith("spec.container.hostPort: 10000")


def _stopped(aws: Any, cluster: str, service: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Wait for the service's first stopped task and return its stopped tasks."""
    ecs = aws.client("ecs")
    deadline = time.monotonic() + timeout
    while True:
        arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED")[
            "taskArns"
        ]
        if arns:
            found: list[dict[str, Any]] = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
            return found
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_tasks_that_cannot_pull_their_image_are_tasks_failing(
    orders_chain_spent: Any,
    capsys: pytest.CaptureFixture[str],
    orders_spent: tuple[Path, dict[str, Any]],
) -> None:
    """Someone deletes the private subnets' route to the NAT gateway and the service scales
    out: the new task cannot pull public.ecr.aws/nginx and stops with CannotPullContainerError,
    which doctor quotes as `tasks-failing` on the tasks hop (with `no-route-to-ecr`, the
    network finding that explains it); the two running tasks stay healthy."""
    aws = orders_chain_spent
    path, service = orders_spent
    ec2 = aws.client("ec2")
    private = set(aws.network.private_subnet_ids)
    for table in ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [aws.network.vpc_id]}]
    )["RouteTables"]:
        if {a.get("SubnetId") for a in table.get("Associations", [])} & private:
            for route in table["Routes"]:
                if route.get("DestinationCidrBlock") == "0.0.0.0/0":
                    ec2.delete_route(
                        RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0"
                    )
    aws.client("ecs").update_service(cluster="shop", service="ps-shop-orders", desiredCount=3)
    stopped = _stopped(aws, "shop", "ps-shop-orders")
    assert "CannotPullContainerError" in stopped[0]["stoppedReason"]
    status, doc = _doctor(capsys, "-f", str(path))
    assert (status, _codes(doc)) == (1, ["no-route-to-ecr", "tasks-failing"]), doc
    (found,) = _findings(doc, "tasks-failing")
    assert (found["hop"], found["resource"]) == ("tasks", service["taskDefinition"])
    assert "CannotPullContainerError" in found["message"]
    assert "desired 3, running 2" in found["message"]


# --- static IPs (field report 003) -----------------------------------------------------------


def test_a_zone_enabled_without_an_elastic_ip_is_static_ip_missing(
    aws: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """examples/storefront-public-nlb.yaml (an internet-facing NLB with an Elastic IP per
    subnet, in front of an ALB) applied; then someone enables a fourth Availability Zone on the
    NLB without an Elastic IP (SetSubnets keeps the others): exactly `static-ip-missing` on the
    NLB naming that subnet."""
    path = _apply(aws, _example("storefront-public-nlb.yaml"), tmp_path)
    service = _service(aws, "web", "ps-web-storefront")
    _healthy(aws, service["loadBalancers"][0]["targetGroupArn"], 2)
    status, baseline = _doctor(capsys, "-f", str(path))
    assert (status, _codes(baseline)) == (0, [])

    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    (nlb,) = [
        lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["Type"] == "network"
    ]
    added = ec2.create_subnet(
        VpcId=aws.network.vpc_id, CidrBlock="10.0.60.0/24", AvailabilityZone=f"{aws.region}d"
    )["Subnet"]["SubnetId"]
    mappings = [
        {"SubnetId": z["SubnetId"], "AllocationId": z["LoadBalancerAddresses"][0]["AllocationId"]}
        for z in nlb["AvailabilityZones"]
    ]
    elb.set_subnets(
        LoadBalancerArn=nlb["LoadBalancerArn"], SubnetMappings=[*mappings, {"SubnetId": added}]
    )
    # From the NLB: psctl's own lookup (`-f`) plans to replace an NLB whose subnets changed.
    status, doc = _doctor(capsys, "--load-balancer", nlb["LoadBalancerName"])
    assert (status, _codes(doc)) == (1, ["static-ip-missing"]), doc
    (found,) = _findings(doc, "static-ip-missing")
    assert (found["hop"], found["resource"]) == ("nlb", nlb["LoadBalancerArn"])
    assert added in found["message"]
    assert f"SubnetId={added},AllocationId=$EIP1" in found["fix"]
