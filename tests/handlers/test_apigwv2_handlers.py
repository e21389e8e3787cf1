"""API Gateway v2 handlers against the sandbox over HTTP: lifecycle, waits, drift, ownership."""

from __future__ import annotations

import time
from typing import Any

import pytest

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.errors import PermanentError
from controller.handlers.apigwv2_api import HttpApiHandler
from controller.handlers.apigwv2_integration import IntegrationHandler
from controller.handlers.apigwv2_route import RouteHandler, integration_of
from controller.handlers.apigwv2_stage import HttpStageHandler, route_settings, throttle_of
from controller.handlers.apigwv2_vpc_link import VpcLinkV2Handler
from controller.handlers.base import Desired, Handler, Observed
from controller.model.stack import Resource

OWNER = "default/orders"
NAME = "default/orders"


def desired(kind: str, component: str, props: dict[str, Any], owner: str = OWNER) -> Desired:
    tags = ownership.owner_tags(owner, component, {"team": "payments"})
    return Desired(Resource(component, kind, component, props), props, tags, owner)


@pytest.fixture
def ctx(aws: Any) -> AwsContext:
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))


@pytest.fixture
def api_id(ctx: AwsContext) -> str:
    want = desired(
        "apigwv2.api",
        "http-api",
        {
            "name": NAME,
            "description": "d",
            "protocolType": "HTTP",
            "disableExecuteApiEndpoint": False,
        },
    )
    return HttpApiHandler(ctx).create(want).id


def settled(handler: Handler, want: Desired, timeout: float = 10.0) -> Observed:
    """Observe until the resource is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        have = handler.observe(want)
        assert have is not None
        if have.pending is None or time.monotonic() > deadline:
            return have
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("target", "expected"),
    [("integrations/abc", "abc"), ("http://elsewhere", "http://elsewhere"), (None, None)],
)
def test_route_target_is_reported_as_integration_id(target, expected):
    assert integration_of(target) == expected


@pytest.mark.parametrize(
    ("current", "throttle", "expected"),
    [
        (
            None,
            {"rateLimit": 5, "burstLimit": 10},
            {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 10},
        ),
        (
            {"DetailedMetricsEnabled": True, "ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1},
            None,
            {"DetailedMetricsEnabled": True},
        ),
        (
            {"LoggingLevel": "OFF", "ThrottlingRateLimit": 1.0},
            {"rateLimit": 2.5, "burstLimit": 3},
            {"LoggingLevel": "OFF", "ThrottlingRateLimit": 2.5, "ThrottlingBurstLimit": 3},
        ),
    ],
)
def test_stage_route_settings_keep_what_is_not_the_throttle(current, throttle, expected):
    """UpdateStage replaces DefaultRouteSettings whole: other settings are carried over."""
    assert route_settings(current, throttle) == expected
    assert throttle_of(expected) == (
        None
        if throttle is None
        else {
            "rateLimit": expected["ThrottlingRateLimit"],
            "burstLimit": expected["ThrottlingBurstLimit"],
        }
    )


def test_vpc_link_lifecycle_pending_then_available(aws: Any, ctx: AwsContext) -> None:
    ec2 = aws.client("ec2")
    sg = ec2.create_security_group(GroupName="l", Description="l", VpcId=aws.network.vpc_id)
    subnets = sorted(aws.network.private_subnet_ids)
    props = {"name": NAME, "subnetIds": subnets, "securityGroupIds": [sg["GroupId"]]}
    handler, want = VpcLinkV2Handler(ctx), desired("apigwv2.vpc_link", "vpc-link", props)
    assert handler.observe(want) is None
    made = handler.create(want)
    assert made.pending == "vpc link PENDING"
    assert handler.create(want).id == made.id  # a retried create makes nothing new
    have = settled(handler, want)
    assert have.pending is None
    assert handler.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert [o.id for o in handler.list_owned(OWNER)] == [made.id]
    other = desired("apigwv2.vpc_link", "vpc-link", props | {"subnetIds": subnets[:1]})
    assert handler.requires_replacement(handler.diff(other, have))
    handler.delete(have)
    assert handler.observe(want) is None  # DELETING links are not ours to find
    handler.delete(have)  # twice is fine


def test_vpc_link_on_missing_group_fails_permanently(aws: Any, ctx: AwsContext) -> None:
    props = {
        "name": NAME,
        "subnetIds": list(aws.network.private_subnet_ids),
        "securityGroupIds": ["sg-0000000000000000"],
    }
    handler, want = VpcLinkV2Handler(ctx), desired("apigwv2.vpc_link", "vpc-link", props)
    handler.create(want)

    def observe_until_settled() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            handler.observe(want)
            time.sleep(0.1)

    with pytest.raises(PermanentError, match="FAILED"):
        observe_until_settled()
    (failed,) = handler.list_owned(OWNER)  # still listed, so the sweep can delete it
    handler.delete(failed)


def test_http_api_update_and_foreign_same_name(aws: Any, ctx: AwsContext, api_id: str) -> None:
    handler = HttpApiHandler(ctx)
    props = {
        "name": NAME,
        "description": "new",
        "protocolType": "HTTP",
        "disableExecuteApiEndpoint": False,
    }
    want = desired("apigwv2.api", "http-api", props)
    have = handler.observe(want)
    assert have is not None
    assert have.id == api_id
    deltas = handler.diff(want, have)
    assert [d.path for d in deltas] == ["description"]
    updated = handler.update(want, have, deltas)
    assert updated.props["description"] == "new"
    assert updated.owned_by(OWNER)
    assert handler.observe(desired("apigwv2.api", "http-api", props, owner="x/y")).owned_by(OWNER)
    handler.delete(updated)
    handler.delete(updated)
    assert handler.observe(want) is None


def test_integration_route_stage_drift_and_repair(ctx: AwsContext, api_id: str) -> None:
    integ = IntegrationHandler(ctx)
    iprops = {
        "apiId": api_id,
        "integrationType": "HTTP_PROXY",
        "integrationMethod": "ANY",
        "connectionType": "VPC_LINK",
        "connectionId": "abcdefgh",
        "integrationUri": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/1/2",
        "payloadFormatVersion": "1.0",
        "requestParameters": {"overwrite:path": "$request.path"},
    }
    iwant = desired("apigwv2.integration", "http-api", iprops)
    made = integ.create(iwant)
    assert integ.create(iwant).id == made.id
    assert made.owned_by(OWNER)  # the API's tags
    moved = desired(
        "apigwv2.integration",
        "http-api",
        iprops | {"connectionId": "zzzzzzzz", "requestParameters": {"append:header.x": "1"}},
    )
    deltas = integ.diff(moved, made)
    assert {d.path for d in deltas} == {"connectionId", "requestParameters"}
    after = integ.update(moved, made, deltas)
    assert after.props["connectionId"] == "zzzzzzzz"
    assert after.props["requestParameters"] == {"append:header.x": "1"}

    routes = RouteHandler(ctx)
    rwant = desired(
        "apigwv2.route",
        "http-api",
        {
            "apiId": api_id,
            "routeKey": "$default",
            "integrationId": made.id,
            "authorizationType": "NONE",
        },
    )
    route = routes.create(rwant)
    assert routes.diff(rwant, route) == []
    assert routes.create(rwant).id == route.id

    stages = HttpStageHandler(ctx)
    sprops = {
        "apiId": api_id,
        "stageName": "prod",
        "autoDeploy": True,
        "throttle": {"rateLimit": 10.0, "burstLimit": 20},
    }
    swant = desired("apigwv2.stage", "stage", sprops)
    stage = stages.create(swant)
    assert stages.diff(swant, stage) == []
    assert stage.tags[ownership.COMPONENT] == "stage"
    assert (
        stage.outputs["invokeUrl"]
        == f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com/prod"
    )
    unthrottled = desired(
        "apigwv2.stage", "stage", sprops | {"throttle": None, "autoDeploy": False}
    )
    deltas = stages.diff(unthrottled, stage)
    assert {d.path for d in deltas} == {"throttle", "autoDeploy"}
    updated = stages.update(unthrottled, stage, deltas)
    assert updated.props["throttle"] is None
    assert stages.diff(unthrottled, stages.reobserve(unthrottled)) == []

    for handler, have in ((stages, updated), (routes, route), (integ, after)):
        handler.delete(have)
        handler.delete(have)  # NotFound is success
    assert stages.observe(swant) is None
    assert routes.observe(rwant) is None
    assert integ.observe(iwant) is None
