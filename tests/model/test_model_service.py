"""The service layer: task definition, ECS service, the instance rules of ECS on EC2 (seed 004)
and Service Connect (seed 001), table-driven over spec variants."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controller.model.build import build_stack
from controller.model.network import Network
from controller.model.stack import Ref, Stack
from controller.model.support import unsupported
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService

NET = Network(vpc_id="vpc-1", cidr="10.0.0.0/16", subnet_ids=("subnet-b", "subnet-a"))
BASE: dict[str, Any] = {
    "apiVersion": "privateservice.io/v1alpha1",
    "kind": "PrivateService",
    "metadata": {"name": "billing", "namespace": "finance"},
    "spec": {
        "network": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a"]},
        "container": {"image": "billing:2", "port": 8080},
        "service": {"cluster": "finance"},
    },
}
Spec = dict[str, dict[str, Any]]
EC2: Spec = {
    "container": {"hostPort": 10000, "cpu": 128, "memory": 128},
    "service": {"launchType": "EC2"},
}
EC2_GROUPS: Spec = {
    "container": EC2["container"],
    "service": {"launchType": "EC2", "instanceSecurityGroupIds": ["sg-0b", "sg-0a"]},
}
SC: Spec = {
    "service": {"serviceConnect": {"namespace": "finance.internal", "discoveryName": "billing"}}
}
SC_GRPC: Spec = {
    "service": {
        "serviceConnect": {
            "namespace": "finance.internal",
            "discoveryName": "bills",
            "port": 8080,
            "appProtocol": "grpc",
        }
    }
}
ALB_SC: Spec = {
    "service": SC_GRPC["service"],
    "loadBalancer": {"alb": {"listenerPort": 80, "rules": [{"pathPattern": "/*", "priority": 1}]}},
}


def _ps(extra: Spec | None = None) -> PrivateService:
    doc = copy.deepcopy(BASE)
    for section, fields in (extra or {}).items():
        doc["spec"].setdefault(section, {}).update(fields)
    sc = doc["spec"]["service"].get("serviceConnect")
    if sc is not None:
        sc.setdefault("port", doc["spec"]["container"]["port"])
    loaded = parse_object(doc, "<test>")
    assert loaded.spec is not None, [str(p) for p in loaded.problems]
    return loaded.spec


def _stack(extra: Spec | None = None) -> Stack:
    return build_stack(_ps(extra), NET)


def _props(stack: Stack, key: str) -> dict[str, Any]:
    return dict(stack.resources[key].props)


@pytest.mark.parametrize(
    ("extra", "mode", "compat", "mapping"),
    [
        pytest.param(
            {},
            "awsvpc",
            ["FARGATE"],
            {"containerPort": 8080, "protocol": "tcp"},
            id="fargate: awsvpc, no host port",
        ),
        pytest.param(
            EC2,
            "bridge",
            ["EC2"],
            {"containerPort": 8080, "protocol": "tcp", "hostPort": 10000},
            id="ec2: bridge with the fixed host port (seed 004)",
        ),
        pytest.param(
            SC,
            "awsvpc",
            ["FARGATE"],
            {"containerPort": 8080, "protocol": "tcp", "name": "app", "appProtocol": "http"},
            id="service connect: the port mapping is named, appProtocol defaults to http",
        ),
        pytest.param(
            SC_GRPC,
            "awsvpc",
            ["FARGATE"],
            {"containerPort": 8080, "protocol": "tcp", "name": "app", "appProtocol": "grpc"},
            id="service connect: appProtocol grpc",
        ),
    ],
)
def test_task_definition_network_mode_and_port_mapping(
    extra: Spec, mode: str, compat: list[str], mapping: dict[str, Any]
):
    td = _props(_stack(extra), "task-definition")
    assert td["networkMode"] == mode
    assert td["requiresCompatibilities"] == compat
    assert td["container"]["portMappings"] == [mapping]


@pytest.mark.parametrize(
    ("extra", "present", "absent"),
    [
        pytest.param(
            {},
            {"subnets": ["subnet-a", "subnet-b"], "assignPublicIp": "DISABLED"},
            set(),
            id="fargate: awsvpc in the private subnets, no public IP (rule 4)",
        ),
        pytest.param(
            EC2,
            {"launchType": "EC2"},
            {"subnets", "securityGroups", "assignPublicIp", "platformVersion"},
            id="ec2: no awsvpc configuration, no platform version",
        ),
    ],
)
def test_service_network_configuration(extra: Spec, present: dict[str, Any], absent: set[str]):
    svc = _props(_stack(extra), "ecs-service")
    assert {k: svc[k] for k in present} == present
    assert absent.isdisjoint(svc)
    assert svc["loadBalancer"]["containerPort"] == 8080  # ECS maps it to the host port itself
    assert svc["loadBalancer"]["targetGroupArn"] == Ref("target-group", "arn")


@pytest.mark.parametrize(
    ("extra", "groups"),
    [
        pytest.param(EC2, [], id="groups found from the cluster's container instances"),
        pytest.param(EC2_GROUPS, ["sg-0a", "sg-0b"], id="groups given by the spec, sorted"),
    ],
)
def test_ec2_rules_admit_the_host_port_from_the_nlb_and_the_vpc(extra: Spec, groups: list[str]):
    stack = _stack(extra)
    rules = _props(stack, "instance-sg-rules")
    assert stack.resources["instance-sg-rules"].kind == "ec2.sg_rules"
    assert rules["groupIds"] == groups
    assert rules["cluster"] == Ref("ecs-cluster", "name")
    assert {
        (r["protocol"], r["fromPort"], r["toPort"], str(r.get("sourceGroup") or r.get("cidr")))
        for r in rules["ingress"]
    } == {("tcp", 10000, 10000, str(Ref("nlb-sg"))), ("tcp", 10000, 10000, "10.0.0.0/16")}
    assert all(r.get("cidr") not in ("0.0.0.0/0", "::/0") for r in rules["ingress"])
    assert "task-sg" not in stack.resources


@pytest.mark.parametrize(
    ("extra", "keys"),
    [
        pytest.param({}, set(), id="fargate"),
        pytest.param(EC2, {"instance-sg-rules"}, id="ec2"),
        pytest.param(SC, {"service-connect-namespace"}, id="service connect"),
    ],
)
def test_what_each_variant_adds(extra: Spec, keys: set[str]):
    optional = {"instance-sg-rules", "service-connect-namespace"}
    assert set(_stack(extra).resources) & optional == keys


@pytest.mark.parametrize(
    ("extra", "discovery"),
    [pytest.param(SC, "billing", id="http"), pytest.param(SC_GRPC, "bills", id="grpc")],
)
def test_service_connect_configuration(extra: Spec, discovery: str):
    stack = _stack(extra)
    assert _props(stack, "service-connect-namespace") == {
        "name": "finance.internal",
        "type": "HTTP",
    }
    assert _props(stack, "ecs-service")["serviceConnect"] == {
        "enabled": True,
        "namespace": Ref("service-connect-namespace", "arn"),
        "services": [
            {
                "portName": "app",
                "discoveryName": discovery,
                "clientAliases": [{"port": 8080, "dnsName": discovery}],
            }
        ],
    }


def test_without_service_connect_the_service_wants_it_off():
    assert _props(_stack(), "ecs-service")["serviceConnect"] == {"enabled": False}


@pytest.mark.parametrize(
    ("extra", "cidr_rules"),
    [
        pytest.param(SC, 1, id="nlb only: rule 2 already admits the VPC, nothing added"),
        pytest.param(ALB_SC, 1, id="alb tier: the VPC CIDR rule is added for Service Connect"),
        pytest.param(
            {"loadBalancer": ALB_SC["loadBalancer"]}, 0, id="alb tier without Service Connect"
        ),
    ],
)
def test_service_connect_clients_reach_the_port_from_the_vpc(extra: Spec, cidr_rules: int):
    ingress = _props(_stack(extra), "task-sg")["ingress"]
    from_vpc = [r for r in ingress if r.get("cidr") == "10.0.0.0/16" and r["fromPort"] == 8080]
    assert len(from_vpc) == cidr_rules


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        pytest.param(EC2, [], id="ec2 is built"),
        pytest.param(SC, [], id="service connect on fargate is built"),
        pytest.param(
            {"container": EC2["container"], "service": {**EC2["service"], **SC["service"]}},
            ["spec.service.serviceConnect"],
            id="service connect on ec2 (bridge) is refused",
        ),
    ],
)
def test_support(extra: Spec, refused: list[str]):
    assert [p.split(":")[0] for p in unsupported(_ps(extra))] == refused
