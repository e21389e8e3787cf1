"""The REST API layer of the stack: PRIVATE policy and endpoint, authorizer, custom domain."""

from __future__ import annotations

from typing import Any

import pytest

from controller.model.network import Network
from controller.model.rest_api import add_rest_api, authorizer_uri, private_policy
from controller.model.stack import Ref, Stack
from controller.spec.loader import load_text

NET = Network(vpc_id="vpc-1", cidr="10.0.0.0/16", subnet_ids=("subnet-b", "subnet-a"))
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:auth"
BASE = """
apiVersion: privateservice.io/v1alpha1
kind: PrivateService
metadata: {name: ledger, namespace: finance}
spec:
  network: {vpcId: vpc-0abc, subnetIds: [subnet-0a]}
  container: {image: nginx, port: 8000}
  service: {cluster: shop}
  api:
"""


def _stack(api: str) -> Stack:
    (doc,) = load_text(BASE + "".join(f"    {line}\n" for line in api.strip().splitlines()))
    assert doc.spec is not None, [str(p) for p in doc.problems]
    assert doc.spec.spec.api is not None
    stack = Stack(owner=doc.spec.owner, tags={})
    add_rest_api(stack, doc.spec, doc.spec.spec.api, NET)
    return stack


@pytest.mark.parametrize(
    ("api", "present", "absent"),
    [
        pytest.param(
            "endpointType: REGIONAL",
            {"rest-api", "proxy", "stage"},
            {"vpc-endpoint", "vpce-sg", "authorizer", "authorizer-permission", "domain-name"},
            id="regional: nothing extra",
        ),
        pytest.param(
            "endpointType: PRIVATE",
            {"vpc-endpoint", "vpce-sg"},
            {"authorizer"},
            id="private without ids: the VPC's endpoint (found or created) and its group",
        ),
        pytest.param(
            "endpointType: PRIVATE\nvpcEndpointIds: [vpce-0b, vpce-0a]",
            set(),
            {"vpc-endpoint", "vpce-sg"},
            id="private with ids: no endpoint of ours",
        ),
        pytest.param(
            f"authorizer: {{lambdaArn: '{ARN}'}}",
            {"authorizer", "authorizer-permission"},
            {"vpc-endpoint"},
            id="authorizer: it and the Lambda permission",
        ),
        pytest.param(
            "customDomain: {domainName: api.example.com, certificateArn: 'arn:aws:acm:x'}",
            {"domain-name", "base-path-mapping"},
            {"authorizer"},
            id="custom domain: the domain and its mapping",
        ),
    ],
)
def test_resources_follow_the_spec(api: str, present: set[str], absent: set[str]):
    """Each optional part adds exactly its resources."""
    keys = set(_stack(api).resources)
    assert present <= keys
    assert not absent & keys


@pytest.mark.parametrize(
    ("api", "sources"),
    [
        pytest.param(
            "endpointType: PRIVATE\nvpcEndpointIds: [vpce-0b, vpce-0a]",
            ["vpce-0a", "vpce-0b"],
            id="given ids, sorted",
        ),
        pytest.param("endpointType: PRIVATE", Ref("vpc-endpoint", "ids"), id="the VPC's endpoints"),
    ],
)
def test_private_policy_admits_only_the_endpoints(api: str, sources: Any):
    """Invoke is allowed only when aws:SourceVpce is one of the endpoints, denied otherwise."""
    policy = _stack(api).resources["rest-api"].props["policy"]
    assert policy == private_policy(sources)
    effects = {s["Effect"]: s["Condition"] for s in policy["Statement"]}
    assert effects["Allow"] == {"StringEquals": {"aws:SourceVpce": sources}}
    assert effects["Deny"] == {"StringNotEquals": {"aws:SourceVpce": sources}}


def test_regional_api_has_no_policy():
    """A REGIONAL API carries no resource policy (one added behind our back is drift)."""
    assert _stack("endpointType: REGIONAL").resources["rest-api"].props["policy"] is None


def test_created_endpoint_has_private_dns_its_group_and_the_subnets():
    """Private DNS on (so the standard invoke URL works in the VPC), 443 from the VPC only."""
    stack = _stack("endpointType: PRIVATE")
    endpoint = stack.resources["vpc-endpoint"].props
    assert endpoint == {
        "vpcId": "vpc-1",
        "service": "execute-api",
        "subnetIds": ["subnet-a", "subnet-b"],
        "securityGroupIds": [Ref("vpce-sg")],
        "privateDnsEnabled": True,
    }
    (rule,) = stack.resources["vpce-sg"].props["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["cidr"]) == (443, 443, "10.0.0.0/16")


@pytest.mark.parametrize(
    ("authorizer", "method"),
    [
        pytest.param(None, ("NONE", None), id="no authorizer: NONE"),
        pytest.param(ARN, ("CUSTOM", Ref("authorizer")), id="authorizer: CUSTOM with its id"),
    ],
)
def test_proxy_methods_use_the_authorizer(authorizer: str | None, method: tuple[Any, Any]):
    """Both proxy methods (one resource) carry CUSTOM and the authorizer's id when there is one."""
    api = f"authorizer: {{lambdaArn: '{authorizer}'}}" if authorizer else "stageName: prod"
    proxy = _stack(api).resources["proxy"].props
    assert (proxy["authorizationType"], proxy["authorizerId"]) == method


def test_authorizer_and_permission_props():
    """Type, identity source, TTL, URI in the function's region; the permission names our API."""
    stack = _stack(
        f"authorizer: {{lambdaArn: '{ARN}', type: REQUEST,"
        " identitySource: method.request.header.x-api-key, resultTtlSeconds: 60}"
    )
    auth = stack.resources["authorizer"].props
    assert (auth["type"], auth["identitySource"], auth["resultTtlSeconds"]) == (
        "REQUEST",
        "method.request.header.x-api-key",
        60,
    )
    assert (
        auth["authorizerUri"]
        == authorizer_uri(ARN)
        == (f"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{ARN}/invocations")
    )
    permission = stack.resources["authorizer-permission"].props
    assert permission["functionArn"] == ARN
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["restApiId"] == Ref("rest-api")


@pytest.mark.parametrize(
    ("second", "same"),
    [
        pytest.param("stageName: prod", True, id="same spec: same deployment"),
        pytest.param(
            f"authorizer: {{lambdaArn: '{ARN}', resultTtlSeconds: 10}}",
            False,
            id="authorizer settings need a new deployment",
        ),
        pytest.param("endpointType: PRIVATE", False, id="a resource policy needs a new deployment"),
    ],
)
def test_deployment_fingerprint_covers_what_a_deployment_snapshots(second: str, same: bool):
    """Policy and authorizer changes only take effect through a new deployment."""
    first = _stack("stageName: prod").resources["deployment"].props["fingerprint"]
    other = _stack(second).resources["deployment"].props["fingerprint"]
    assert (first == other) is same


def test_custom_domain_maps_base_path_to_the_stage():
    """REGIONAL domain with the certificate; the mapping names our API and stage."""
    stack = _stack(
        "customDomain: {domainName: api.example.com, certificateArn: 'arn:aws:acm:x',"
        " basePath: billing}"
    )
    assert stack.resources["domain-name"].props == {
        "domainName": "api.example.com",
        "certificateArn": "arn:aws:acm:x",
        "endpointType": "REGIONAL",
        "securityPolicy": "TLS_1_2",
    }
    assert stack.resources["base-path-mapping"].props == {
        "domainName": Ref("domain-name", "name"),
        "basePath": "billing",
        "restApiId": Ref("rest-api"),
        "stage": Ref("stage", "name"),
    }
