"""The HTTP API layer of the desired stack (rule 6): VPC Link v2 -> HTTP API -> integration on
the listener -> routes -> auto-deployed stage, and the load balancer's group admitting the link."""

from __future__ import annotations

from typing import Any

import pytest

from controller.model.build import build_stack
from controller.model.http_api import add_http_api
from controller.model.network import Network
from controller.model.stack import Ref, Resource, Stack
from controller.model.support import unsupported
from controller.spec.loader import load_text
from controller.spec.models import PrivateService

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
  api:
    type: HTTP
    stageName: prod
"""
THROTTLE = "    throttle: {rateLimit: 100, burstLimit: 200}\n"
ALB = "  loadBalancer: {alb: {listenerPort: 8081}}\n"


def _spec(text: str) -> PrivateService:
    (doc,) = load_text(text)
    assert doc.spec is not None, [str(p) for p in doc.problems]
    return doc.spec


def _stack(text: str) -> Stack:
    return build_stack(_spec(text), NET)


def _props(stack: Stack, key: str) -> Any:
    return stack.resources[key].props


def test_http_api_is_no_longer_refused():
    """`api.type: HTTP` is built by this version (support gate lifted)."""
    assert unsupported(_spec(BASE + THROTTLE)) == []


@pytest.mark.parametrize(
    ("key", "kind", "component", "deps"),
    [
        ("vpc-link-sg", "ec2.security_group", "vpc-link-sg", set()),
        ("vpc-link-v2", "apigwv2.vpc_link", "vpc-link", {"vpc-link-sg"}),
        ("http-api", "apigwv2.api", "http-api", set()),
        (
            "http-integration",
            "apigwv2.integration",
            "http-api",
            {"http-api", "vpc-link-v2", "listener"},
        ),
        ("http-route/proxy", "apigwv2.route", "http-api", {"http-api", "http-integration"}),
        ("http-route/default", "apigwv2.route", "http-api", {"http-api", "http-integration"}),
        (
            "http-stage",
            "apigwv2.stage",
            "stage",
            {"http-api", "http-route/proxy", "http-route/default"},
        ),
    ],
)
def test_http_layer_resources_kinds_components_and_dependencies(key, kind, component, deps):
    """Each resource of the layer, its handler kind, ownership component and what it waits for."""
    res = _stack(BASE).resources[key]
    assert (res.kind, res.component, res.deps) == (kind, component, deps)


def test_no_rest_resources_for_an_http_api():
    """An HTTP API builds no v1 link, REST API, deployment or usage plan."""
    kinds = {r.kind for r in _stack(BASE).resources.values()}
    assert not {k for k in kinds if k.startswith("apigw.")}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "vpc-link-v2",
            {
                "name": "shop/orders",
                "subnetIds": ["subnet-a", "subnet-b"],
                "securityGroupIds": [Ref("vpc-link-sg")],
            },
        ),
        (
            "http-api",
            {
                "name": "shop/orders",
                "description": "privateservice shop/orders",
                "protocolType": "HTTP",
                "disableExecuteApiEndpoint": False,
            },
        ),
        (
            "http-integration",
            {
                "apiId": Ref("http-api"),
                "integrationType": "HTTP_PROXY",
                "integrationMethod": "ANY",
                "connectionType": "VPC_LINK",
                "connectionId": Ref("vpc-link-v2"),
                "integrationUri": Ref("listener", "arn"),
                "payloadFormatVersion": "1.0",
                "requestParameters": {"overwrite:path": "$request.path"},
            },
        ),
        (
            "http-route/proxy",
            {
                "apiId": Ref("http-api"),
                "routeKey": "ANY /{proxy+}",
                "integrationId": Ref("http-integration"),
                "authorizationType": "NONE",
            },
        ),
        (
            "http-route/default",
            {
                "apiId": Ref("http-api"),
                "routeKey": "$default",
                "integrationId": Ref("http-integration"),
                "authorizationType": "NONE",
            },
        ),
    ],
)
def test_http_layer_props(key, expected):
    """Link in the spec's subnets behind its own group; integration on the NLB listener."""
    assert dict(_props(_stack(BASE), key)) == expected


@pytest.mark.parametrize(
    ("extra", "throttle"),
    [
        pytest.param(THROTTLE, {"rateLimit": 100.0, "burstLimit": 200}, id="throttled"),
        pytest.param("", None, id="no-throttle"),
    ],
)
def test_stage_is_auto_deployed_with_the_spec_throttle(extra, throttle):
    """The stage deploys itself and carries `api.throttle` (a spec path for ignoreFields)."""
    stage = _stack(BASE + extra).resources["http-stage"]
    assert dict(stage.props) == {
        "apiId": Ref("http-api"),
        "stageName": "prod",
        "autoDeploy": True,
        "throttle": throttle,
    }
    assert stage.spec_paths == {"throttle": "api.throttle"}


def test_link_group_egress_to_the_vpc_on_the_listener_port_only():
    """The link's group opens nothing inbound and reaches only the listener port in the VPC."""
    sg = _props(_stack(BASE), "vpc-link-sg")
    assert sg["vpcId"] == "vpc-1"
    assert sg["ingress"] == []
    assert sg["egress"] == [
        {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidr": "10.0.0.0/16"}
    ]


def test_nlb_group_admits_the_listener_from_the_link_group_and_the_vpc():
    """Rule 3 keeps the VPC CIDR; the link's group is admitted on the listener port too."""
    ingress = _props(_stack(BASE), "nlb-sg")["ingress"]
    sources = {(r["fromPort"], str(r.get("sourceGroup") or r.get("cidr"))) for r in ingress}
    assert sources == {(80, "10.0.0.0/16"), (80, str(Ref("vpc-link-sg")))}
    assert _props(_stack(BASE), "nlb")["enforcePrivateLinkInboundRules"] == "off"


def _alb_stack(ps: PrivateService) -> Stack:
    """A stack with stand-ins for the ALB layer (built by its own module) and the HTTP layer."""
    stack = Stack(owner=ps.owner, tags={})
    stack.add(Resource("nlb-sg", "ec2.security_group", "nlb-sg", {"ingress": []}))
    stack.add(Resource("alb-sg", "ec2.security_group", "alb-sg", {"ingress": []}))
    stack.add(Resource("listener", "elbv2.listener", "listener", {}))
    stack.add(Resource("alb-listener", "elbv2.listener", "alb-listener", {}))
    assert ps.spec.api is not None
    add_http_api(stack, ps, NET, ps.spec.api)
    return stack


def test_with_an_alb_tier_the_integration_and_rule_go_to_the_alb():
    """`loadBalancer.alb`: integration on the ALB listener; the ALB group admits the link."""
    stack = _alb_stack(_spec(BASE + ALB))
    assert _props(stack, "http-integration")["integrationUri"] == Ref("alb-listener", "arn")
    assert _props(stack, "alb-sg")["ingress"] == [
        {
            "protocol": "tcp",
            "fromPort": 8081,
            "toPort": 8081,
            "sourceGroup": Ref("vpc-link-sg"),
            "description": "listener from the API's VPC link",
        }
    ]
    assert _props(stack, "nlb-sg")["ingress"] == []
    assert _props(stack, "vpc-link-sg")["egress"][0]["fromPort"] == 8081


def test_every_level_is_resolvable():
    """The whole stack orders without cycles or dangling references."""
    levels = _stack(BASE + THROTTLE).levels()
    order = [r.key for level in levels for r in level]
    assert order.index("vpc-link-sg") < order.index("nlb-sg")
    assert order.index("http-route/proxy") < order.index("http-stage")


def test_with_the_alb_layer_built_the_link_reaches_the_alb_listener():
    """The whole stack with `loadBalancer.alb`: the ALB's group admits the link on its port."""
    stack = _stack(BASE + ALB)
    assert _props(stack, "http-integration")["integrationUri"] == Ref("alb-listener", "arn")
    from_link = [
        r for r in _props(stack, "alb-sg")["ingress"] if r.get("sourceGroup") == Ref("vpc-link-sg")
    ]
    assert [(r["fromPort"], r["toPort"]) for r in from_link] == [(8081, 8081)]
    assert not [
        r for r in _props(stack, "nlb-sg")["ingress"] if r.get("sourceGroup") == Ref("vpc-link-sg")
    ]
    stack.levels()  # no cycle, nothing dangling
