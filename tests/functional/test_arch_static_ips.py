"""Seed 003 over HTTP: internet-facing NLB with one Elastic IP per public subnet -> internal ALB
-> Fargate tasks in private subnets, no API.

Apply puts the NLB in the public subnets on tagged Elastic IPs (reported in its outputs), the
tasks stay private; a tag of ours changed on an Elastic IP is found by plan and put back; delete
releases the addresses, and `deletionPolicy: Retain` keeps them.
"""

from __future__ import annotations

from typing import Any

import yaml
from chain import EXAMPLES, apply, delete, mutating_since, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

OWNER = "web/storefront"


def storefront(**spec_changes: Any) -> dict[str, Any]:
    """examples/storefront-public-nlb.yaml, with top-level spec fields replaced."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "storefront-public-nlb.yaml").read_text())
    doc["spec"].update(spec_changes)
    return doc


def _addresses(aws: Any) -> list[dict[str, Any]]:
    found = aws.client("ec2").describe_addresses(
        Filters=[{"Name": f"tag:{ownership.OWNER}", "Values": [OWNER]}]
    )["Addresses"]
    return sorted(found, key=lambda a: a["AllocationId"])


def test_nlb_is_public_on_one_tagged_elastic_ip_per_subnet_and_tasks_stay_private(
    aws: Any, ctx: AwsContext
):
    """Public subnets, an EIP per subnet in the subnet mappings, listener open to the internet
    on the NLB's group only; tasks in private subnets admit the container port from the ALB."""
    result = apply(spec(storefront()), ctx)
    assert result.converged, result.reason
    public = sorted(aws.network.public_subnet_ids)
    addresses = _addresses(aws)
    assert len(addresses) == len(public)
    for address in addresses:
        tags = ownership.from_list(address["Tags"])
        assert tags[ownership.COMPONENT] == "nlb-eip"
        assert tags["Name"].startswith("ps-web-storefront-eip-subnet-")

    elb, ec2 = aws.client("elbv2"), aws.client("ec2")
    nlb = elb.describe_load_balancers(Names=["ps-web-storefront-nlb"])["LoadBalancers"][0]
    assert nlb["Scheme"] == "internet-facing"
    mapped = {
        az["SubnetId"]: az["LoadBalancerAddresses"][0]["AllocationId"]
        for az in nlb["AvailabilityZones"]
    }
    assert sorted(mapped) == public
    assert sorted(mapped.values()) == [a["AllocationId"] for a in addresses]
    ips = result.outcome.outputs["nlb"]["staticIps"]
    assert sorted(ips) == sorted(a["PublicIp"] for a in addresses)

    def ingress(name: str) -> set[tuple[int, str]]:
        group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group["SecurityGroups"][0]["GroupId"]]}]
        )["SecurityGroupRules"]
        return {
            (r["FromPort"], r.get("CidrIpv4") or r["ReferencedGroupInfo"]["GroupId"])
            for r in rules
            if not r["IsEgress"]
        }

    assert ingress("ps-web-storefront-nlb") == {(80, "0.0.0.0/0")}
    (task_rule,) = ingress("ps-web-storefront-task")
    assert task_rule[1].startswith("sg-")

    ecs = aws.client("ecs")
    (svc_arn,) = ecs.list_services(cluster="web")["serviceArns"]
    svc = ecs.describe_services(cluster="web", services=[svc_arn])["services"][0]
    vpc = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["assignPublicIp"] == "DISABLED"
    assert sorted(vpc["subnets"]) == sorted(aws.network.private_subnet_ids)

    before = ctx.counter.mutating()
    assert apply(spec(storefront()), ctx).converged
    assert mutating_since(ctx, before) == {}

    done = delete(spec(storefront()), ctx)
    assert done.converged, done.reason
    assert _addresses(aws) == []
    assert elb.describe_load_balancers()["LoadBalancers"] == []


def test_an_elastic_ip_tag_changed_behind_our_back_is_planned_and_put_back(
    aws: Any, ctx: AwsContext
):
    """The component tag of one address is overwritten: plan names that tag, apply retags."""
    doc = storefront(tags={"team": "web"})
    assert apply(spec(doc), ctx).converged
    victim = _addresses(aws)[0]
    aws.client("ec2").create_tags(
        Resources=[victim["AllocationId"]],
        Tags=[
            {"Key": ownership.COMPONENT, "Value": "someone-else"},
            {"Key": "team", "Value": "other"},
        ],
    )
    outcome = Reconciler(spec(doc), ctx).plan()
    changed = {
        c.key: sorted(d.path for d in c.deltas)
        for c in outcome.changes
        if c.action is not Action.NOOP
    }
    (key,) = changed
    assert key.startswith("nlb-eip/subnet-")
    assert changed[key] == [f"tags.{ownership.COMPONENT}", "tags.team"]
    before = ctx.counter.mutating()
    assert apply(spec(doc), ctx).converged
    assert set(mutating_since(ctx, before)) == {("ec2", "CreateTags")}
    tags = ownership.from_list(
        next(a for a in _addresses(aws) if a["AllocationId"] == victim["AllocationId"])["Tags"]
    )
    assert (tags[ownership.COMPONENT], tags["team"]) == ("nlb-eip", "web")


def test_retain_keeps_the_elastic_ips(aws: Any, ctx: AwsContext):
    """deletionPolicy: Retain: delete releases nothing."""
    doc = storefront(deletionPolicy="Retain")
    assert apply(spec(doc), ctx).converged
    held = _addresses(aws)
    result = delete(spec(doc), ctx)
    assert result.converged, result.reason
    assert {c.action for c in result.outcome.changes} == {Action.RETAIN}
    assert _addresses(aws) == held
