"""Field report 000 end to end over HTTP: apply builds the chain right, idempotently.

Every assertion reads AWS back through its own clients, never through the controller.
"""

from __future__ import annotations

from typing import Any

import pytest
from chain import OWNER, apply, mutating_since, orders, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.runner import Reconciler


@pytest.fixture
def applied(kept_chain: Any, ctx: AwsContext) -> AwsContext:
    """The orders example applied and converged, kept by the worker's sandbox across tests
    (`kept_chain` in conftest.py): `aws` and `ctx` are that sandbox."""
    del kept_chain
    return ctx


def _tags_ok(tags: dict[str, str], component: str) -> bool:
    return (
        tags.get(ownership.OWNER) == OWNER
        and tags.get(ownership.COMPONENT) == component
        and tags.get("team") == "shop"
    )


def test_apply_builds_the_private_chain_of_field_report_000(aws: Any, applied: AwsContext):
    """NLB, groups, target group, service, VPC link, API, stage, plans, keys: as the rules say."""
    elb, ec2, ecs, apigw = (aws.client(s) for s in ("elbv2", "ec2", "ecs", "apigateway"))
    net = aws.network

    (nlb,) = elb.describe_load_balancers(Names=["ps-shop-orders-nlb"])["LoadBalancers"]
    assert nlb["Scheme"] == "internal"
    assert nlb["Type"] == "network"
    assert nlb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"  # rule 3
    nlb_sg = nlb["SecurityGroups"][0]
    nlb_rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [nlb_sg]}]
    )["SecurityGroupRules"]
    assert {(r["FromPort"], r.get("CidrIpv4")) for r in nlb_rules if not r["IsEgress"]} == {
        (80, net.cidr)
    }

    (tg,) = elb.describe_target_groups(Names=["ps-shop-orders-tg"])["TargetGroups"]
    assert tg["TargetType"] == "ip"
    assert tg["HealthCheckPath"] == "/healthz"
    attrs = {
        a["Key"]: a["Value"]
        for a in elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])[
            "Attributes"
        ]
    }
    assert attrs["deregistration_delay.timeout_seconds"] == "30"  # rule 7

    svc = ecs.describe_services(cluster="shop", services=["ps-shop-orders"], include=["TAGS"])[
        "services"
    ][0]
    vpc = svc["networkConfiguration"]["awsvpcConfiguration"]
    assert sorted(vpc["subnets"]) == sorted(net.private_subnet_ids)  # rule 4
    assert vpc["assignPublicIp"] == "DISABLED"
    assert svc["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert svc["healthCheckGracePeriodSeconds"] == 30
    assert svc["launchType"] == "FARGATE"
    assert svc["runningCount"] == 2

    task_sg = vpc["securityGroups"][0]
    ingress = [
        r
        for r in ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [task_sg]}]
        )["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    sources = {
        (
            r["FromPort"],
            r.get("CidrIpv4") or r.get("CidrIpv6") or r["ReferencedGroupInfo"]["GroupId"],
        )
        for r in ingress
    }
    assert sources == {(8000, nlb_sg), (8000, net.cidr)}  # rule 2

    (link,) = apigw.get_vpc_links()["items"]
    assert link["targetArns"] == [nlb["LoadBalancerArn"]]
    assert link["status"] == "AVAILABLE"
    (api,) = apigw.get_rest_apis()["items"]
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    resources = apigw.get_resources(restApiId=api["id"])["items"]
    proxy = next(r for r in resources if r["path"] == "/{proxy+}")
    integration = apigw.get_integration(
        restApiId=api["id"], resourceId=proxy["id"], httpMethod="ANY"
    )
    assert integration["connectionType"] == "VPC_LINK"
    assert integration["connectionId"] == link["id"]
    assert integration["type"] == "HTTP_PROXY"
    assert nlb["DNSName"] in integration["uri"]
    stage = apigw.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["deploymentId"]

    (plan,) = apigw.get_usage_plans()["items"]  # rule 5
    assert plan["apiStages"] == [{"apiId": api["id"], "stage": "prod"}]
    assert plan["throttle"] == {"rateLimit": 50.0, "burstLimit": 100}
    keys = {k["name"]: k["id"] for k in apigw.get_api_keys()["items"]}
    assert set(keys) == {"shop/orders/partner-a", "shop/orders/partner-b"}
    in_plan = {k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]}
    assert in_plan == set(keys.values())

    # the owner and component tags on every resource that takes tags
    elb_tags = {
        d["ResourceArn"]: ownership.from_list(d["Tags"])
        for d in elb.describe_tags(ResourceArns=[nlb["LoadBalancerArn"], tg["TargetGroupArn"]])[
            "TagDescriptions"
        ]
    }
    assert _tags_ok(elb_tags[nlb["LoadBalancerArn"]], "nlb")
    assert _tags_ok(elb_tags[tg["TargetGroupArn"]], "target-group")
    for group, component in ((nlb_sg, "nlb-sg"), (task_sg, "task-sg")):
        (g,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
        assert _tags_ok(ownership.from_list(g["Tags"]), component)
    assert _tags_ok(ownership.from_list(svc["tags"]), "ecs-service")
    assert _tags_ok(link["tags"], "vpc-link")
    assert _tags_ok(api["tags"], "rest-api")
    assert _tags_ok(plan["tags"], "usage-plan")
    for key in apigw.get_api_keys()["items"]:
        assert _tags_ok(key["tags"], "api-key")
    assert _tags_ok(stage["tags"], "stage")

    # Fargate ships awslogs only with an execution role: the controller made one and uses it
    iam = aws.client("iam")
    role = iam.get_role(RoleName="ps-shop-orders-exec")["Role"]
    assert _tags_ok(ownership.from_list(role["Tags"]), "execution-role")
    attached = iam.list_attached_role_policies(RoleName="ps-shop-orders-exec")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonECSTaskExecutionRolePolicy"]
    task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    assert task["executionRoleArn"] == role["Arn"]
    assert task["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"] == (
        "/privateservice/shop/orders"
    )


def test_second_apply_makes_zero_mutating_calls(applied: AwsContext):
    """Idempotence: the same spec again changes nothing, and plan says so."""
    before = applied.counter.mutating()
    result = apply(spec(orders()), applied)
    assert result.converged
    assert result.passes == 1
    assert mutating_since(applied, before) == {}
    assert not Reconciler(spec(orders()), applied).plan().mutated


def test_network_discovery_is_not_repeated_on_every_pass(applied: AwsContext):
    """A reconciler reuses the VPC and subnets it discovered (two EC2 reads saved per resync)."""
    rec = Reconciler(spec(orders()), applied)
    before = applied.counter.snapshot()
    rec.plan()
    rec.plan()
    calls = applied.counter.snapshot() - before
    assert calls[("ec2", "DescribeVpcs")] == 1
    assert calls[("ec2", "DescribeSubnets")] == 1
