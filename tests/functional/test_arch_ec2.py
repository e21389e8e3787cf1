"""Field report 004: ECS on EC2 with a fixed host port, behind the NLB, over HTTP on the sandbox.

The container instances and their security group are someone else's (made here with plain EC2
and ECS calls, as a platform team would): the controller adds only its own tagged rules to that
group, finds them again when one is revoked, and removes only them on delete.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from chain import EXAMPLES, apply, delete, mutating_since, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

OWNER = "finance/billing"
CLUSTER = "finance-ec2"
HOST_PORT = 10000


def billing(**service: Any) -> dict[str, Any]:
    """examples/billing-ec2-fixed-ports.yaml without the custom domain (another issue)."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "billing-ec2-fixed-ports.yaml").read_text())
    doc["spec"]["api"].pop("customDomain", None)
    doc["spec"]["service"].update(service)
    return doc


def _instances(aws: Any, count: int = 2) -> tuple[str, list[str]]:
    """The platform team's cluster: EC2 instances in the private subnets, registered with ECS.

    Returns their security group (which also admits SSH from the VPC: a rule that is not ours).
    """
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    group = ec2.create_security_group(
        GroupName="ecs-instances", Description="ECS container instances", VpcId=aws.network.vpc_id
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": aws.network.cidr}],
            }
        ],
    )
    ecs.create_cluster(clusterName=CLUSTER)
    ids = []
    for i in range(count):
        instance = ec2.run_instances(
            ImageId="ami-0ecs0000000000000",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.small",
            SubnetId=aws.network.private_subnet_ids[i % len(aws.network.private_subnet_ids)],
            SecurityGroupIds=[group],
        )["Instances"][0]
        ecs.register_container_instance(
            cluster=CLUSTER,
            instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
        )
        ids.append(instance["InstanceId"])
    return group, ids


def _rules(aws: Any, group: str) -> list[dict[str, Any]]:
    return aws.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group]}]
    )["SecurityGroupRules"]


def _ours(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rules if ownership.from_list(r.get("Tags")).get(ownership.OWNER) == OWNER]


def _nlb_group(aws: Any) -> str:
    groups = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["ps-finance-billing-nlb"]}]
    )["SecurityGroups"]
    return str(groups[0]["GroupId"])


def _planned(ctx: AwsContext, doc: dict[str, Any]) -> dict[str, list[str]]:
    outcome = Reconciler(spec(doc), ctx).plan()
    assert not outcome.errors, outcome.errors
    return {
        c.key: [d.path for d in c.deltas] or [str(c.action)]
        for c in outcome.changes
        if c.action is not Action.NOOP
    }


@pytest.fixture
def cluster(aws: Any) -> tuple[str, list[str]]:
    """Two container instances in `finance-ec2` and their security group."""
    return _instances(aws)


@pytest.fixture
def applied(ctx: AwsContext, cluster: tuple[str, list[str]]) -> AwsContext:
    result = apply(spec(billing()), ctx)
    assert result.converged, result.reason
    return ctx


def test_ec2_chain_converges_with_bridge_tasks_instance_targets_and_our_rules(
    aws: Any, applied: AwsContext, cluster: tuple[str, list[str]]
):
    """Task definition bridge with the host port, service EC2 without awsvpc, targets by
    instance on the host port, and our tagged rules admitting it on the instances' group."""
    group, instance_ids = cluster
    ecs, elb = aws.client("ecs"), aws.client("elbv2")
    td = ecs.describe_task_definition(taskDefinition="ps-finance-billing")["taskDefinition"]
    assert td["networkMode"] == "bridge"
    assert td["requiresCompatibilities"] == ["EC2"]
    assert td["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 8080, "hostPort": HOST_PORT, "protocol": "tcp"}
    ]
    svc = ecs.describe_services(cluster=CLUSTER, services=["ps-finance-billing"])["services"][0]
    assert svc["launchType"] == "EC2"
    assert not svc.get("networkConfiguration")
    tg = elb.describe_target_groups(TargetGroupArns=[svc["loadBalancers"][0]["targetGroupArn"]])[
        "TargetGroups"
    ][0]
    assert (tg["TargetType"], tg["Port"]) == ("instance", HOST_PORT)
    assert svc["loadBalancers"][0]["containerPort"] == 8080
    health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    assert sorted(
        (d["Target"]["Id"], d["Target"]["Port"]) for d in health["TargetHealthDescriptions"]
    ) == sorted((i, HOST_PORT) for i in instance_ids)

    ours = _ours(_rules(aws, group))
    sources = {r.get("CidrIpv4") or r["ReferencedGroupInfo"]["GroupId"] for r in ours}
    assert sources == {aws.network.cidr, _nlb_group(aws)}
    assert {(r["FromPort"], r["ToPort"], r["IpProtocol"]) for r in ours} == {
        (HOST_PORT, HOST_PORT, "tcp")
    }
    tags = ownership.from_list(ours[0]["Tags"])
    assert tags[ownership.COMPONENT] == "instance-sg-rules"

    before = applied.counter.mutating()
    again = apply(spec(billing()), applied)
    assert again.converged, again.reason
    assert mutating_since(applied, before) == {}


def test_revoked_host_port_rule_is_planned_and_put_back(
    aws: Any, applied: AwsContext, cluster: tuple[str, list[str]]
):
    """Drift on a group that is not ours: plan finds our missing rule, apply restores it."""
    group, _ = cluster
    ec2 = aws.client("ec2")
    cidr_rule = next(r for r in _ours(_rules(aws, group)) if r.get("CidrIpv4"))
    ec2.revoke_security_group_ingress(
        GroupId=group, SecurityGroupRuleIds=[cidr_rule["SecurityGroupRuleId"]]
    )
    assert _planned(applied, billing()) == {"instance-sg-rules": ["ingress"]}
    before = applied.counter.mutating()
    result = apply(spec(billing()), applied)
    assert result.converged, result.reason
    assert set(mutating_since(applied, before)) == {("ec2", "AuthorizeSecurityGroupIngress")}
    assert len(_ours(_rules(aws, group))) == 2
    assert _planned(applied, billing()) == {}


def test_explicit_instance_groups_are_used_instead_of_discovery(
    aws: Any, ctx: AwsContext, cluster: tuple[str, list[str]]
):
    """`instanceSecurityGroupIds` names the groups: our rules go there, and only there."""
    group, _ = cluster
    other = (
        aws.client("ec2")
        .create_security_group(
            GroupName="extra-hosts", Description="other hosts", VpcId=aws.network.vpc_id
        )
        .get("GroupId")
    )
    result = apply(spec(billing(instanceSecurityGroupIds=[other])), ctx)
    assert result.converged, result.reason
    assert len(_ours(_rules(aws, other))) == 2
    assert _ours(_rules(aws, group)) == []


def test_delete_revokes_only_our_rules_and_keeps_the_instances_group(
    aws: Any, applied: AwsContext, cluster: tuple[str, list[str]]
):
    """The instances' group and its SSH rule stay; no rule of ours is left anywhere."""
    group, _ = cluster
    result = delete(spec(billing()), applied)
    assert result.converged, result.reason
    rules = _rules(aws, group)
    assert _ours(rules) == []
    assert [(r["FromPort"], r.get("CidrIpv4")) for r in rules if not r["IsEgress"]] == [
        (22, aws.network.cidr)
    ]
    ec2 = aws.client("ec2")
    assert ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    assert (
        ec2.describe_security_group_rules(
            Filters=[{"Name": f"tag:{ownership.OWNER}", "Values": [OWNER]}]
        )["SecurityGroupRules"]
        == []
    )


def test_empty_cluster_waits_with_a_message_instead_of_failing(ctx: AwsContext):
    """No container instances and no instanceSecurityGroupIds: a wait saying what to do."""
    result = Reconciler(spec(billing()), ctx, max_requeue=0.2).apply(3)
    assert not result.converged
    assert result.reason is not None
    assert "no container instances in cluster finance-ec2" in result.reason
    waits = {c.key: c for c in result.outcome.changes if c.action is Action.WAIT}
    assert "instance-sg-rules" in waits
    message = waits["instance-sg-rules"].message or ""
    assert "spec.service.instanceSecurityGroupIds" in message
    assert not result.outcome.errors
