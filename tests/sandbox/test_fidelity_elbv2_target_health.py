"""ELBv2 over HTTP: target health as AWS decides it from the security groups (field report 000).

AWS: the targets' groups "must allow traffic from the load balancer using the health check port
and health check protocol" (NLB guide, "Troubleshoot your Network Load Balancer"); an NLB's
unhealthy target reports `Target.FailedHealthChecks` ("Health checks failed"), an ALB's a timeout
as `Target.Timeout` ("Request timed out") (the guides' "Health check reason codes").
"""

from __future__ import annotations

import json

import pytest

NLB_FAILED = ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")
ALB_TIMEOUT = ("unhealthy", "Target.Timeout", "Request timed out")


def _health(build, tg_arn: str, wait_until) -> set[tuple[str, str | None, str | None]]:
    def described():
        found = build.elbv2.describe_target_health(TargetGroupArn=tg_arn)
        return found["TargetHealthDescriptions"]

    targets = wait_until(described)
    return {
        (
            t["TargetHealth"]["State"],
            t["TargetHealth"].get("Reason"),
            t["TargetHealth"].get("Description"),
        )
        for t in targets
    }


def _task_group(build) -> str:
    service = build.ecs.describe_services(cluster="cluster", services=["svc"])["services"][0]
    return service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"][0]


def _allow(build, group: str, port: int, *, source_group: str = "", cidr: str = "") -> None:
    permission: dict = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if source_group:
        permission["UserIdGroupPairs"] = [{"GroupId": source_group}]
    else:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    build.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])


def _nlb_chain(build, sandbox, nlb_groups: list[str], **target_group: object) -> tuple[str, str]:
    """NLB -> ip target group (port 8080) -> one Fargate task; returns (TG ARN, task group)."""
    nlb = build.nlb(security_groups=nlb_groups)
    tg_arn = build.target_group(**target_group)["TargetGroupArn"]
    build.listener(nlb["LoadBalancerArn"], tg_arn)
    build.fargate_service(tg_arn, desired=1)
    sandbox.agent.tick()
    return tg_arn, _task_group(build)


def test_task_group_admitting_nothing_fails_the_nlb_health_check(build, sandbox, wait_until):
    """Field report 000: the tasks' group does not admit the NLB: Target.FailedHealthChecks."""
    tg_arn, _ = _nlb_chain(build, sandbox, [build.security_group("nlb")])
    assert _health(build, tg_arn, wait_until) == {NLB_FAILED}


def test_a_rule_referencing_the_nlb_group_admits_its_health_checks(build, sandbox, wait_until):
    """The fix of 000: the tasks' group admits the port from the NLB's group."""
    nlb_group = build.security_group("nlb")
    tg_arn, task_group = _nlb_chain(build, sandbox, [nlb_group])
    _allow(build, task_group, 8080, source_group=nlb_group)
    assert _health(build, tg_arn, wait_until) == {("healthy", None, None)}


@pytest.mark.parametrize(
    ("cidr", "state"),
    [
        ("10.0.0.0/16", "healthy"),  # the VPC CIDR: the NLB guide's recommended source
        ("10.0.1.0/24", "unhealthy"),  # one of the NLB's three subnets: the other nodes fail
        ("10.0.1.0/28", "unhealthy"),  # part of a subnet: the node may sit anywhere in it
    ],
)
def test_an_nlb_without_groups_is_admitted_by_cidrs_covering_its_subnets(
    build, sandbox, wait_until, cidr, state
):
    """AWS (NLB without security groups): "the security groups for your targets must use IP
    addresses to allow traffic from the load balancer"; its nodes live in its subnets."""
    tg_arn, task_group = _nlb_chain(build, sandbox, [])
    _allow(build, task_group, 8080, cidr=cidr)
    assert {h[0] for h in _health(build, tg_arn, wait_until)} == {state}


def test_the_health_check_port_is_the_one_that_must_be_open(build, sandbox, wait_until):
    """A health check port other than the traffic port must be admitted itself."""
    nlb_group = build.security_group("nlb")
    tg_arn, task_group = _nlb_chain(build, sandbox, [nlb_group], HealthCheckPort="9000")
    _allow(build, task_group, 8080, source_group=nlb_group)
    assert _health(build, tg_arn, wait_until) == {NLB_FAILED}
    _allow(build, task_group, 9000, source_group=nlb_group)
    assert _health(build, tg_arn, wait_until) == {("healthy", None, None)}


def _alb_chain(build, sandbox) -> tuple[str, str, str]:
    """ALB (own group) -> HTTP ip target group -> one task: (TG ARN, ALB group, task group)."""
    alb_group = build.security_group("alb")
    alb = build.elbv2.create_load_balancer(
        Name="alb",
        Type="application",
        Scheme="internal",
        Subnets=list(build.aws.network.private_subnet_ids),
        SecurityGroups=[alb_group],
    )["LoadBalancers"][0]
    tg_arn = build.elbv2.create_target_group(
        Name="alb-tg",
        Protocol="HTTP",
        Port=8080,
        VpcId=build.aws.network.vpc_id,
        TargetType="ip",
        HealthCheckPath="/healthz",
    )["TargetGroups"][0]["TargetGroupArn"]
    build.elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )
    build.fargate_service(tg_arn, desired=1)
    sandbox.agent.tick()
    return tg_arn, alb_group, _task_group(build)


def test_an_alb_whose_checks_are_not_admitted_reports_a_timeout(build, sandbox, wait_until):
    """An ALB's health check that the target's group drops times out: Target.Timeout; admitted
    from the ALB's group, the target is healthy."""
    tg_arn, alb_group, task_group = _alb_chain(build, sandbox)
    assert _health(build, tg_arn, wait_until) == {ALB_TIMEOUT}
    _allow(build, task_group, 8080, source_group=alb_group)
    assert _health(build, tg_arn, wait_until) == {("healthy", None, None)}


def test_the_load_balancers_egress_must_let_the_check_out(build, sandbox, wait_until):
    """AWS (ALB guide): the load balancer's groups must allow traffic to the targets on the
    health check port; with its egress revoked, the check fails although the target admits it."""
    tg_arn, alb_group, task_group = _alb_chain(build, sandbox)
    _allow(build, task_group, 8080, source_group=alb_group)
    build.ec2.revoke_security_group_egress(
        GroupId=alb_group,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    assert _health(build, tg_arn, wait_until) == {ALB_TIMEOUT}


def test_an_alb_target_of_an_nlb_must_admit_the_nlb(build, wait_until):
    """NLB -> alb target group: the ALB's group is the target's; it must admit the NLB."""
    nlb_group = build.security_group("nlb")
    alb_group = build.security_group("alb")
    nlb = build.nlb(security_groups=[nlb_group])
    alb = build.elbv2.create_load_balancer(
        Name="alb",
        Type="application",
        Scheme="internal",
        Subnets=list(build.aws.network.private_subnet_ids),
        SecurityGroups=[alb_group],
    )["LoadBalancers"][0]
    build.elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}],
    )
    tg_arn = build.elbv2.create_target_group(
        Name="to-alb", Protocol="TCP", Port=80, VpcId=build.aws.network.vpc_id, TargetType="alb"
    )["TargetGroups"][0]["TargetGroupArn"]
    build.listener(nlb["LoadBalancerArn"], tg_arn)
    build.elbv2.register_targets(
        TargetGroupArn=tg_arn, Targets=[{"Id": alb["LoadBalancerArn"], "Port": 80}]
    )
    assert _health(build, tg_arn, wait_until) == {NLB_FAILED}
    _allow(build, alb_group, 80, source_group=nlb_group)
    assert _health(build, tg_arn, wait_until) == {("healthy", None, None)}


def test_instance_targets_are_judged_by_their_instances_groups(build, sandbox, wait_until):
    """ECS on EC2 behind an NLB: the container instance's group must admit the host port."""
    nlb_group, host_group = build.security_group("nlb"), build.security_group("hosts")
    build.ecs.create_cluster(clusterName="cluster")
    instance = build.ec2.run_instances(
        ImageId="ami-0ecs0000000000000",
        MinCount=1,
        MaxCount=1,
        SubnetId=build.aws.network.private_subnet_ids[0],
        SecurityGroupIds=[host_group],
    )["Instances"][0]
    build.ecs.register_container_instance(
        cluster="cluster",
        instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
    )
    nlb = build.nlb(security_groups=[nlb_group])
    tg_arn = build.elbv2.create_target_group(
        Name="hosts", Protocol="TCP", Port=10000, VpcId=build.aws.network.vpc_id
    )["TargetGroups"][0]["TargetGroupArn"]
    build.listener(nlb["LoadBalancerArn"], tg_arn)
    build.elbv2.register_targets(
        TargetGroupArn=tg_arn, Targets=[{"Id": instance["InstanceId"], "Port": 10000}]
    )
    assert _health(build, tg_arn, wait_until) == {NLB_FAILED}
    _allow(build, host_group, 10000, source_group=nlb_group)
    assert _health(build, tg_arn, wait_until) == {("healthy", None, None)}


def test_an_address_no_interface_holds_keeps_the_registered_answer(build, wait_until):
    """A target the sandbox cannot place (no interface holds the address) is left as moto
    reports it: the sandbox does not guess."""
    nlb = build.nlb(security_groups=[build.security_group("nlb")])
    tg_arn = build.target_group()["TargetGroupArn"]
    build.listener(nlb["LoadBalancerArn"], tg_arn)
    build.elbv2.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "10.0.1.200"}])
    assert _health(build, tg_arn, wait_until) == {("healthy", None, None)}
