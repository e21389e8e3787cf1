"""RestApiHandler and ProxyHandler against the sandbox over HTTP."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support import context, desired

from controller.handlers.apigw_proxy import ProxyHandler
from controller.handlers.apigw_rest_api import RestApiHandler
from controller.handlers.base import Desired

OWNER = "default/orders"
NAME = "default/orders"


def api_props(**over: Any) -> dict[str, Any]:
    return {
        "name": NAME,
        "description": f"privateservice {OWNER}",
        "endpointType": "REGIONAL",
        "apiKeySource": "HEADER",
    } | over


@pytest.fixture
def rest_handler(aws: Any) -> RestApiHandler:
    return RestApiHandler(context(aws))


@pytest.fixture
def proxy_handler(aws: Any) -> ProxyHandler:
    return ProxyHandler(context(aws))


@pytest.fixture
def nlb(aws: Any) -> dict[str, str]:
    lb = aws.client("elbv2").create_load_balancer(
        Name="ps-default-orders-nlb",
        Type="network",
        Scheme="internal",
        Subnets=list(aws.network.private_subnet_ids[:2]),
    )["LoadBalancers"][0]
    return {"arn": lb["LoadBalancerArn"], "dns": lb["DNSName"]}


@pytest.fixture
def link_id(aws: Any, nlb: dict[str, str]) -> str:
    link = aws.client("apigateway").create_vpc_link(name=NAME, targetArns=[nlb["arn"]])
    return str(link["id"])


# --- REST API -------------------------------------------------------------------------------


def test_rest_api_lifecycle(rest_handler: RestApiHandler) -> None:
    want = desired("rest-api", "apigw.rest_api", "rest-api", api_props())
    assert rest_handler.observe(want) is None

    made = rest_handler.create(want)
    assert made.outputs["id"] == made.id
    assert made.outputs["rootResourceId"]
    have = rest_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert rest_handler.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert have.tags["team"] == "payments"
    assert rest_handler.create(want).id == made.id  # a retried create makes nothing new

    changed = desired("rest-api", "apigw.rest_api", "rest-api", api_props(description="new"))
    deltas = rest_handler.diff(changed, have)
    assert [(d.path, d.desired, d.actual) for d in deltas] == [
        ("description", "new", f"privateservice {OWNER}")
    ]
    updated = rest_handler.update(changed, have, deltas)
    assert rest_handler.diff(changed, updated) == []
    again = rest_handler.observe(changed)
    assert again is not None
    assert rest_handler.diff(changed, again) == []

    private = desired(
        "rest-api",
        "apigw.rest_api",
        "rest-api",
        api_props(description="new", endpointType="PRIVATE", apiKeySource="AUTHORIZER"),
    )
    deltas = rest_handler.diff(private, again)
    assert sorted(d.path for d in deltas) == ["apiKeySource", "endpointType"]
    rest_handler.update(private, again, deltas)
    final = rest_handler.observe(private)
    assert final is not None
    assert rest_handler.diff(private, final) == []

    assert [(o.key, o.id) for o in rest_handler.list_owned(OWNER)] == [("rest-api", made.id)]
    rest_handler.delete(final)
    assert rest_handler.observe(want) is None
    assert rest_handler.list_owned(OWNER) == []


def test_rest_api_delete_twice(aws: Any) -> None:
    handler = RestApiHandler(context(aws, max_attempts=1))
    want = desired("rest-api", "apigw.rest_api", "rest-api", api_props())
    have = handler.create(want)
    handler.delete(have)
    handler.delete(have)
    assert handler.observe(want) is None


def test_rest_api_same_name_without_owner_tag(aws: Any, rest_handler: RestApiHandler) -> None:
    apigw = aws.client("apigateway")
    foreign = apigw.create_rest_api(name=NAME, tags={"team": "other"})
    want = desired("rest-api", "apigw.rest_api", "rest-api", api_props())
    have = rest_handler.observe(want)
    assert have is not None
    assert have.id == foreign["id"]
    assert not have.owned_by(OWNER)
    assert rest_handler.list_owned(OWNER) == []

    mine = apigw.create_rest_api(name=NAME, tags=dict(want.tags))
    have = rest_handler.observe(want)
    assert have is not None
    assert have.id == mine["id"]  # ours wins over a same-named foreign one


# --- proxy methods --------------------------------------------------------------------------


def proxy_props(rest_api_id: str, link_id: str, dns: str, **over: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "restApiId": rest_api_id,
        "apiKeyRequired": False,
        "authorizationType": "NONE",
        "integration": {
            "type": "HTTP_PROXY",
            "httpMethod": "ANY",
            "uri": {"nlbDnsName": dns, "port": 80, "scheme": "http"},
            "connectionType": "VPC_LINK",
            "connectionId": link_id,
        },
    }
    return props | over


def proxy_desired(props: dict[str, Any]) -> Desired:
    return desired("proxy", "apigw.proxy", "rest-api", props)


@pytest.fixture
def rest_api(rest_handler: RestApiHandler) -> dict[str, str]:
    have = rest_handler.create(desired("rest-api", "apigw.rest_api", "rest-api", api_props()))
    return {"id": have.id, "root": have.outputs["rootResourceId"]}


def resource_ids(aws: Any, rest_api_id: str) -> dict[str, str]:
    items = aws.client("apigateway").get_resources(restApiId=rest_api_id)["items"]
    return {item["path"]: item["id"] for item in items}


def test_proxy_lifecycle(
    aws: Any,
    proxy_handler: ProxyHandler,
    rest_api: dict[str, str],
    nlb: dict[str, str],
    link_id: str,
) -> None:
    apigw = aws.client("apigateway")
    props = proxy_props(rest_api["id"], link_id, nlb["dns"])
    want = proxy_desired(props)
    assert proxy_handler.observe(want) is None

    made = proxy_handler.create(want)
    ids = resource_ids(aws, rest_api["id"])
    assert made.id == ids["/{proxy+}"]
    assert made.outputs == {"id": made.id}
    assert proxy_handler.diff(want, made) == []
    assert made.owned_by(OWNER)  # through the REST API's tags

    proxy = apigw.get_integration(restApiId=rest_api["id"], resourceId=made.id, httpMethod="ANY")
    assert proxy["uri"] == f"http://{nlb['dns']}:80/{{proxy}}"
    assert proxy["connectionId"] == link_id
    assert proxy["requestParameters"] == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }
    method = apigw.get_method(restApiId=rest_api["id"], resourceId=made.id, httpMethod="ANY")
    assert method["requestParameters"] == {"method.request.path.proxy": True}
    root = apigw.get_integration(
        restApiId=rest_api["id"], resourceId=rest_api["root"], httpMethod="ANY"
    )
    assert root["uri"] == f"http://{nlb['dns']}:80/"
    assert root["connectionId"] == link_id
    assert proxy_handler.create(want).id == made.id  # a retried create makes nothing new

    keyed = proxy_desired(props | {"apiKeyRequired": True})
    deltas = proxy_handler.diff(keyed, made)
    assert [(d.path, d.desired, d.actual) for d in deltas] == [("apiKeyRequired", True, False)]
    updated = proxy_handler.update(keyed, made, deltas)
    assert proxy_handler.diff(keyed, updated) == []
    for resource_id in (made.id, rest_api["root"]):
        assert (
            apigw.get_method(restApiId=rest_api["id"], resourceId=resource_id, httpMethod="ANY")[
                "apiKeyRequired"
            ]
            is True
        )

    moved = copy.deepcopy(keyed.props)
    moved["integration"]["uri"]["port"] = 8443
    moved["integration"]["uri"]["scheme"] = "https"
    moved_want = proxy_desired(moved)
    deltas = proxy_handler.diff(moved_want, updated)
    assert sorted(d.path for d in deltas) == ["integration.uri.port", "integration.uri.scheme"]
    proxy_handler.update(moved_want, updated, deltas)
    have = proxy_handler.observe(moved_want)
    assert have is not None
    assert proxy_handler.diff(moved_want, have) == []
    root = apigw.get_integration(
        restApiId=rest_api["id"], resourceId=rest_api["root"], httpMethod="ANY"
    )
    assert root["uri"] == f"https://{nlb['dns']}:8443/"

    proxy_handler.delete(have)
    assert proxy_handler.observe(moved_want) is None
    assert resource_ids(aws, rest_api["id"]) == {"/": rest_api["root"]}
    root_methods = apigw.get_resource(restApiId=rest_api["id"], resourceId=rest_api["root"])
    assert "ANY" not in root_methods.get("resourceMethods", {})
    proxy_handler.delete(have)  # twice is fine


def test_proxy_root_drift_is_reported_and_fixed(
    aws: Any,
    proxy_handler: ProxyHandler,
    rest_api: dict[str, str],
    nlb: dict[str, str],
    link_id: str,
) -> None:
    apigw = aws.client("apigateway")
    want = proxy_desired(proxy_props(rest_api["id"], link_id, nlb["dns"]))
    made = proxy_handler.create(want)

    apigw.update_integration(
        restApiId=rest_api["id"],
        resourceId=rest_api["root"],
        httpMethod="ANY",
        patchOperations=[{"op": "replace", "path": "/uri", "value": "http://elsewhere:81/"}],
    )
    have = proxy_handler.observe(want)
    assert have is not None
    assert sorted((d.path, d.actual) for d in proxy_handler.diff(want, have)) == [
        ("integration.uri.nlbDnsName", "elsewhere"),
        ("integration.uri.port", 81),
    ]
    fixed = proxy_handler.update(want, have, proxy_handler.diff(want, have))
    assert proxy_handler.diff(want, fixed) == []

    apigw.delete_method(restApiId=rest_api["id"], resourceId=rest_api["root"], httpMethod="ANY")
    have = proxy_handler.observe(want)
    assert have is not None
    assert {d.path for d in proxy_handler.diff(want, have)} >= {
        "apiKeyRequired",
        "integration.type",
        "integration.uri.nlbDnsName",
    }
    fixed = proxy_handler.update(want, have, proxy_handler.diff(want, have))
    assert proxy_handler.diff(want, fixed) == []
    assert fixed.id == made.id


def test_proxy_without_path_mapping_is_drift(
    aws: Any,
    proxy_handler: ProxyHandler,
    rest_api: dict[str, str],
    nlb: dict[str, str],
    link_id: str,
) -> None:
    apigw = aws.client("apigateway")
    want = proxy_desired(proxy_props(rest_api["id"], link_id, nlb["dns"]))
    made = proxy_handler.create(want)
    apigw.update_integration(
        restApiId=rest_api["id"],
        resourceId=made.id,
        httpMethod="ANY",
        patchOperations=[
            {"op": "remove", "path": "/requestParameters/integration.request.path.proxy"}
        ],
    )
    have = proxy_handler.observe(want)
    assert have is not None
    assert "integration.uri.nlbDnsName" in {d.path for d in proxy_handler.diff(want, have)}
    fixed = proxy_handler.update(want, have, proxy_handler.diff(want, have))
    assert proxy_handler.diff(want, fixed) == []


def test_proxy_in_foreign_api_is_not_ours(
    aws: Any, proxy_handler: ProxyHandler, nlb: dict[str, str], link_id: str
) -> None:
    foreign = aws.client("apigateway").create_rest_api(name=NAME, tags={"team": "other"})
    want = proxy_desired(proxy_props(foreign["id"], link_id, nlb["dns"]))
    made = proxy_handler.create(want)  # the engine would never call this: see the tags
    have = proxy_handler.observe(want)
    assert have is not None
    assert have.id == made.id
    assert not have.owned_by(OWNER)
    assert have.tags == {"team": "other"}


def test_proxy_of_missing_api_is_absent(proxy_handler: ProxyHandler) -> None:
    want = proxy_desired(proxy_props("nosuchapi", "link", "nlb.example"))
    assert proxy_handler.observe(want) is None
