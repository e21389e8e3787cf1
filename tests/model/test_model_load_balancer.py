"""The load-balancing layer: NLB placement, target group types, the ALB tier and the security
group chain (rules 1-3, seeds 001 and 003), table-driven over spec variants."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controller.model.build import build_stack
from controller.model.load_balancer import (
    add_load_balancer,
    attach_service,
    service_dependency_key,
    service_target_group_key,
    task_security_group_key,
)
from controller.model.network import Network
from controller.model.stack import Ref, Stack
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService

NET = Network(
    vpc_id="vpc-1",
    cidr="10.0.0.0/16",
    subnet_ids=("subnet-b", "subnet-a"),
    public_subnet_ids=("subnet-e", "subnet-d"),
)
BASE: dict[str, Any] = {
    "apiVersion": "privateservice.io/v1alpha1",
    "kind": "PrivateService",
    "metadata": {"name": "shop", "namespace": "web"},
    "spec": {
        "network": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a"]},
        "container": {"image": "nginx", "port": 8000},
        "service": {"cluster": "web"},
    },
}
Spec = dict[str, dict[str, Any]]
ALB: Spec = {
    "loadBalancer": {
        "alb": {
            "listenerPort": 81,
            "rules": [
                {"pathPattern": "/b/*", "priority": 9},
                {"pathPattern": "/a/*", "priority": 2},
            ],
        }
    }
}
PUBLIC: Spec = {
    "loadBalancer": {"scheme": "internet-facing", "staticIps": True},
    "network": {"publicSubnetIds": ["subnet-0e"]},
}
TCP_CHECK: Spec = {"loadBalancer": {"targetGroup": {"healthCheck": {"protocol": "TCP"}}}}
EC2: Spec = {"container": {"hostPort": 9000}, "service": {"launchType": "EC2"}}


def _merge(*parts: Spec) -> Spec:
    """Spec sections merged one level deep (the variants above never overlap deeper)."""
    out: Spec = {}
    for part in parts:
        for section, fields in part.items():
            out[section] = {**out.get(section, {}), **fields}
    return out


def _ps(extra: Spec | None = None) -> PrivateService:
    doc = copy.deepcopy(BASE)
    for section, fields in (extra or {}).items():
        doc["spec"].setdefault(section, {}).update(fields)
    loaded = parse_object(doc, "<test>")
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    return loaded.spec


def _lb(extra: Spec | None = None) -> Stack:
    """Only this layer (works for EC2, whose service layer is not built yet)."""
    ps = _ps(extra)
    stack = Stack(owner=ps.owner, tags={})
    add_load_balancer(stack, ps, NET)
    return stack


def _sources(rules: list[dict[str, Any]]) -> set[tuple[int, str]]:
    return {(r["fromPort"], str(r.get("sourceGroup") or r.get("cidr"))) for r in rules}


@pytest.mark.parametrize(
    ("extra", "sources"),
    [
        pytest.param(
            {},
            {(8000, str(Ref("nlb-sg"))), (8000, "10.0.0.0/16")},
            id="nlb-only: health checks from the NLB group, traffic from the VPC (rule 2)",
        ),
        pytest.param(ALB, {(8000, str(Ref("alb-sg")))}, id="alb: from the ALB group only"),
        pytest.param(
            _merge(ALB, PUBLIC),
            {(8000, str(Ref("alb-sg")))},
            id="public-nlb+alb: tasks stay private",
        ),
    ],
)
def test_task_group_admits_the_container_port_from_the_tier_in_front_only(
    extra: Spec, sources: set[tuple[int, str]]
):
    """Rule 2; never 0.0.0.0/0 or ::/0, whatever the NLB's scheme."""
    ingress = _lb(extra).resources["task-sg"].props["ingress"]
    assert _sources(ingress) == sources
    assert not any(r.get("cidr") in ("0.0.0.0/0", "::/0") for r in ingress)


@pytest.mark.parametrize(
    ("extra", "source", "subnets"),
    [
        pytest.param({}, "10.0.0.0/16", ["subnet-a", "subnet-b"], id="internal: VPC CIDR (rule 3)"),
        pytest.param(
            PUBLIC, "0.0.0.0/0", ["subnet-d", "subnet-e"], id="internet-facing: public subnets"
        ),
    ],
)
def test_nlb_group_and_subnets_follow_the_scheme(extra: Spec, source: str, subnets: list[str]):
    """Only the NLB's own group may be open to the internet, and only on the listener port."""
    stack = _lb(extra)
    assert _sources(stack.resources["nlb-sg"].props["ingress"]) == {(80, source)}
    assert stack.resources["nlb"].props["subnets"] == subnets


@pytest.mark.parametrize(
    ("extra", "target_type", "port", "protocol", "check"),
    [
        pytest.param({}, "ip", 8000, "TCP", "HTTP", id="fargate: ip on the container port"),
        pytest.param(ALB, "alb", 81, "TCP", "HTTP", id="alb tier: alb on the ALB listener port"),
        pytest.param(
            _merge(ALB, TCP_CHECK), "alb", 81, "TCP", "HTTP", id="alb tier checks the ALB over HTTP"
        ),
        pytest.param(EC2, "instance", 9000, "TCP", "HTTP", id="ec2: instance on hostPort"),
    ],
)
def test_nlb_target_group_type_follows_what_is_behind_it(
    extra: Spec, target_type: str, port: int, protocol: str, check: str
):
    """Rule 1: ip for Fargate, alb in front of an ALB, instance on EC2's fixed host port."""
    tg = _lb(extra).resources["target-group"].props
    assert (tg["targetType"], tg["port"], tg["protocol"]) == (target_type, port, protocol)
    assert tg["healthCheck"]["protocol"] == check


def test_ec2_has_no_task_group():
    """Tasks on EC2 use their container instance's network: no task security group."""
    assert "task-sg" not in _lb(EC2).resources
    assert task_security_group_key(_ps(EC2)) is None


def test_static_ips_put_one_elastic_ip_in_each_public_subnet_mapping():
    """Seed 003: one Elastic IP per public subnet; the NLB maps each subnet to its allocation."""
    stack = _lb(PUBLIC)
    eips = {k: r for k, r in stack.resources.items() if r.kind == "ec2.elastic_ip"}
    assert sorted(eips) == ["nlb-eip/subnet-d", "nlb-eip/subnet-e"]
    assert {r.component for r in eips.values()} == {"nlb-eip"}
    assert stack.resources["nlb"].props["subnetMappings"] == [
        {"subnetId": "subnet-d", "allocationId": Ref("nlb-eip/subnet-d", "id")},
        {"subnetId": "subnet-e", "allocationId": Ref("nlb-eip/subnet-e", "id")},
    ]
    assert "subnetMappings" not in _lb({}).resources["nlb"].props


def test_alb_tier_chains_groups_rules_and_registration():
    """The ALB admits its listener port from the NLB's group; rules by priority forward to the ip
    group; unmatched paths get a 404; the ALB is registered once its listener exists."""
    res = _lb(ALB).resources
    assert _sources(res["alb-sg"].props["ingress"]) == {(81, str(Ref("nlb-sg")))}
    assert res["alb"].props["type"] == "application"
    assert res["alb"].props["scheme"] == "internal"
    assert res["alb"].props["subnets"] == ["subnet-a", "subnet-b"]
    assert res["alb-listener"].props["defaultAction"] == {
        "type": "fixed-response",
        "statusCode": "404",
    }
    assert [(r["priority"], r["pathPattern"]) for r in res["alb-rules"].props["rules"]] == [
        (2, "/a/*"),
        (9, "/b/*"),
    ]
    assert res["alb-target-group"].props["targetType"] == "ip"
    assert res["alb-target-group"].props["protocol"] == "HTTP"
    assert res["alb-targets"].props["targets"] == [{"id": Ref("alb", "arn"), "port": 81}]
    assert res["alb-targets"].deps == {"target-group", "alb", "alb-listener"}


@pytest.mark.parametrize(
    ("extra", "target_group", "dependency"),
    [
        pytest.param({}, "target-group", "listener", id="nlb-only"),
        pytest.param(ALB, "alb-target-group", "alb-rules", id="alb tier"),
    ],
)
def test_service_attaches_to_the_target_group_in_front_of_the_tasks(
    extra: Spec, target_group: str, dependency: str
):
    """The ECS service registers in the group next to the tasks and waits for what uses it."""
    ps = _ps(extra)
    assert service_target_group_key(ps) == target_group
    assert service_dependency_key(ps) == dependency
    stack = build_stack(ps, NET)
    attach_service(stack, ps)
    attach_service(stack, ps)  # idempotent
    svc = stack.resources["ecs-service"]
    assert svc.props["loadBalancer"]["targetGroupArn"] == Ref(target_group, "arn")
    assert dependency in svc.deps
    assert stack.levels()  # no dangling reference, no cycle
