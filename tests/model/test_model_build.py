"""The desired stack holds the contract's rules by construction (rules 1-7), and stays pure."""

import re
from pathlib import Path
from typing import Any

import pytest

from controller.model.build import build_stack
from controller.model.network import Network
from controller.model.stack import Ref, Stack
from controller.spec.loader import load_text

NET = Network(vpc_id="vpc-1", cidr="10.0.0.0/16", subnet_ids=("subnet-b", "subnet-a"))

BASE = """
apiVersion: privateservice.io/v1alpha1
kind: PrivateService
metadata: {name: orders, namespace: shop}
spec:
  network: {vpcId: vpc-0abc, subnetIds: [subnet-0a]}
  container: {image: nginx, port: 8000}
  service: {cluster: shop}
  tags: {team: shop}
"""
API = """
  api:
    apiKeyRequired: true
    usagePlans:
      - {name: gold, apiKeys: [a, b]}
      - {name: silver, apiKeys: [b]}
"""


def _stack(text: str) -> Stack:
    (doc,) = load_text(text)
    assert doc.spec is not None, [str(p) for p in doc.problems]
    return build_stack(doc.spec, NET)


def _props(stack: Stack, key: str) -> Any:
    return stack.resources[key].props


def test_task_security_group_admits_nlb_group_and_vpc_cidr_only():
    """Rule 2: the container port from the NLB group and the VPC CIDR, nothing from anywhere."""
    ingress = _props(_stack(BASE), "task-sg")["ingress"]
    sources = {(r["fromPort"], str(r.get("sourceGroup") or r.get("cidr"))) for r in ingress}
    assert sources == {(8000, str(Ref("nlb-sg"))), (8000, "10.0.0.0/16")}
    assert not any(r.get("cidr") in ("0.0.0.0/0", "::/0") for r in ingress)


@pytest.mark.parametrize(
    ("extra", "enforce"),
    [
        pytest.param(API, "off", id="api-in-front: PrivateLink enforcement off (rule 3)"),
        pytest.param("", "on", id="no-api: AWS default kept"),
    ],
)
def test_nlb_privatelink_enforcement_follows_the_api(extra: str, enforce: str):
    """Rule 3: an NLB behind a VPC Link has enforcement off and admits the listener from the VPC."""
    stack = _stack(BASE + extra)
    assert _props(stack, "nlb")["enforcePrivateLinkInboundRules"] == enforce
    assert _props(stack, "nlb-sg")["ingress"][0] | {"description": ""} == {
        "protocol": "tcp",
        "fromPort": 80,
        "toPort": 80,
        "cidr": "10.0.0.0/16",
        "description": "",
    }


def test_target_group_service_and_timings():
    """Rules 1, 4, 7: ip targets, no public IP, 30 s deregistration delay, a grace period."""
    stack = _stack(BASE)
    tg, svc = _props(stack, "target-group"), _props(stack, "ecs-service")
    assert tg["targetType"] == "ip"
    assert tg["attributes"]["deregistration_delay.timeout_seconds"] == "30"
    assert svc["assignPublicIp"] == "DISABLED"
    assert svc["healthCheckGracePeriodSeconds"] == 30
    assert svc["subnets"] == ["subnet-a", "subnet-b"]
    assert svc["deployment"]["circuitBreaker"] == {"enable": True, "rollback": True}
    assert "listener" in stack.resources["ecs-service"].deps


def test_every_key_in_its_plan_and_every_plan_on_the_stage():
    """Rule 5: one usage-plan key per (plan, key); a key shared by two plans is created once."""
    stack = _stack(BASE + API)
    keys = sorted(k for k in stack.resources if k.startswith("api-key/"))
    links = sorted(k for k in stack.resources if k.startswith("usage-plan-key/"))
    assert keys == ["api-key/a", "api-key/b"]
    assert links == ["usage-plan-key/gold/a", "usage-plan-key/gold/b", "usage-plan-key/silver/b"]
    for plan in ("gold", "silver"):
        assert _props(stack, f"usage-plan/{plan}")["apiStages"] == [
            {"apiId": Ref("rest-api"), "stage": Ref("stage", "name")}
        ]


def test_rest_api_goes_through_a_vpc_link_to_the_nlb():
    """Rule 6: VPC Link v1 targets the NLB; the proxy integration uses that link."""
    stack = _stack(BASE + API)
    assert _props(stack, "vpc-link")["targetArns"] == [Ref("nlb", "arn")]
    integration = _props(stack, "proxy")["integration"]
    assert integration["connectionType"] == "VPC_LINK"
    assert integration["connectionId"] == Ref("vpc-link")


def test_no_api_means_no_api_gateway_resources():
    """`api` absent: an internal NLB only."""
    assert not any(r.kind.startswith("apigw.") for r in _stack(BASE).resources.values())


def test_deployment_fingerprint_changes_only_with_the_api():
    """A new deployment only when what it snapshots changes (not for a desired count)."""

    def fp(text: str) -> str:
        return str(_props(_stack(text), "deployment")["fingerprint"])

    same = fp(BASE.replace("cluster: shop}", "cluster: shop, desiredCount: 5}") + API)
    assert fp(BASE + API) == same
    assert fp(BASE + API) != fp(BASE + API.replace("apiKeyRequired: true", "apiKeyRequired: false"))


def test_model_package_never_imports_boto3():
    """The model is pure: no boto3 or botocore anywhere in controller/model."""
    root = Path(__file__).parents[2] / "controller" / "model"
    imports = re.compile(r"^\s*(import|from)\s+(boto3|botocore)\b", re.MULTILINE)
    offenders = [p.name for p in root.glob("*.py") if imports.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize(
    ("extra", "role"),
    [
        pytest.param("", True, id="no executionRoleArn: an owned role is made and used"),
        pytest.param(
            "    executionRoleArn: arn:aws:iam::123456789012:role/mine\n",
            False,
            id="executionRoleArn given: used as it is",
        ),
    ],
)
def test_execution_role_is_created_only_when_not_given(extra: str, role: bool):
    """Fargate needs an execution role for awslogs; the spec's own role wins."""
    text = BASE.replace("  service: {cluster: shop}\n", "  service:\n    cluster: shop\n" + extra)
    text = text.replace(
        "port: 8000}", "port: 8000, secrets: {DB: 'arn:aws:secretsmanager:us-east-1:1:secret:db'}}"
    )
    stack = _stack(text)
    assert ("execution-role" in stack.resources) is role
    task_role = _props(stack, "task-definition")["executionRoleArn"]
    if role:
        assert task_role == Ref("execution-role", "arn")
        inline = _props(stack, "execution-role")["inlinePolicy"]
        assert inline["Statement"] == [
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": ["arn:aws:secretsmanager:us-east-1:1:secret:db"],
            }
        ]
    else:
        assert task_role == "arn:aws:iam::123456789012:role/mine"
