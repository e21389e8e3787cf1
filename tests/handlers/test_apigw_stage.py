"""DeploymentHandler and StageHandler against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from support import context, desired

from controller.aws import tags as ownership
from controller.handlers.apigw_stage import DeploymentHandler, StageHandler
from controller.handlers.base import Desired

OWNER = "default/orders"
NAME = "default/orders"


def make_api(aws: Any, tags: dict[str, str]) -> str:
    """A REST API with one method (AWS refuses to deploy an API without methods)."""
    apigw = aws.client("apigateway")
    api = apigw.create_rest_api(name=NAME, tags=tags)
    apigw.put_method(
        restApiId=api["id"],
        resourceId=api["rootResourceId"],
        httpMethod="ANY",
        authorizationType="NONE",
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=api["rootResourceId"],
        httpMethod="ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri="http://backend.example:80/",
    )
    return str(api["id"])


@pytest.fixture
def api_id(aws: Any) -> str:
    return make_api(aws, ownership.owner_tags(OWNER, "rest-api", {}))


@pytest.fixture
def deployments(aws: Any) -> DeploymentHandler:
    return DeploymentHandler(context(aws))


@pytest.fixture
def stages(aws: Any) -> StageHandler:
    return StageHandler(context(aws))


def deployment_desired(api_id: str, fingerprint: str) -> Desired:
    return desired(
        "deployment",
        "apigw.deployment",
        "rest-api",
        {"restApiId": api_id, "fingerprint": fingerprint},
    )


def deployment_ids(aws: Any, api_id: str) -> set[str]:
    items = aws.client("apigateway").get_deployments(restApiId=api_id)["items"]
    return {d["id"] for d in items}


# --- deployments ----------------------------------------------------------------------------


def test_deployment_lifecycle(aws: Any, deployments: DeploymentHandler, api_id: str) -> None:
    want = deployment_desired(api_id, "0123456789abcdef")
    assert deployments.observe(want) is None

    made = deployments.create(want)
    assert made.outputs == {"id": made.id}
    have = deployments.observe(want)
    assert have is not None
    assert have.id == made.id
    assert deployments.diff(want, have) == []
    assert have.owned_by(OWNER)  # through the REST API's tags
    deployment = aws.client("apigateway").get_deployment(restApiId=api_id, deploymentId=made.id)
    assert deployment["description"] == "privateservice fingerprint=0123456789abcdef"
    assert deployments.create(want).id == made.id  # a retried create makes nothing new

    other = deployment_desired(api_id, "fedcba9876543210")
    assert deployments.observe(other) is None  # another fingerprint is another deployment
    second = deployments.create(other)
    assert second.id != made.id

    deployments.delete(have)
    assert deployments.observe(want) is None
    deployments.delete(have)  # twice is fine
    assert deployment_ids(aws, api_id) == {second.id}


def test_deployment_in_foreign_api_is_not_ours(aws: Any, deployments: DeploymentHandler) -> None:
    foreign = make_api(aws, {"team": "other"})
    want = deployment_desired(foreign, "0123456789abcdef")
    aws.client("apigateway").create_deployment(
        restApiId=foreign, description="privateservice fingerprint=0123456789abcdef"
    )
    have = deployments.observe(want)
    assert have is not None
    assert not have.owned_by(OWNER)


def test_deployment_of_missing_api_is_absent(deployments: DeploymentHandler) -> None:
    assert deployments.observe(deployment_desired("nosuchapi", "0123456789abcdef")) is None


# --- stage ----------------------------------------------------------------------------------


def stage_desired(api_id: str, deployment_id: str, throttle: dict[str, Any] | None) -> Desired:
    return desired(
        "stage",
        "apigw.stage",
        "stage",
        {
            "restApiId": api_id,
            "stageName": "prod",
            "deploymentId": deployment_id,
            "throttle": throttle,
        },
    )


def test_stage_lifecycle(
    aws: Any, deployments: DeploymentHandler, stages: StageHandler, api_id: str
) -> None:
    first = deployments.create(deployment_desired(api_id, "1111111111111111"))
    throttle = {"rateLimit": 100.0, "burstLimit": 200}
    want = stage_desired(api_id, first.id, throttle)
    assert stages.observe(want) is None

    made = stages.create(want)
    assert made.outputs == {
        "id": "prod",
        "name": "prod",
        "invokeUrl": f"https://{api_id}.execute-api.{stages.aws.region}.amazonaws.com/prod",
    }
    have = stages.observe(want)
    assert have is not None
    assert stages.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert have.tags[ownership.COMPONENT] == "stage"
    assert stages.create(want).id == "prod"  # a retried create changes nothing

    second = deployments.create(deployment_desired(api_id, "2222222222222222"))
    moved = stage_desired(api_id, second.id, throttle)
    deltas = stages.diff(moved, have)
    assert [(d.path, d.desired, d.actual) for d in deltas] == [
        ("deploymentId", second.id, first.id)
    ]
    updated = stages.update(moved, have, deltas)
    assert stages.diff(moved, updated) == []
    assert deployment_ids(aws, api_id) == {second.id}  # the old one went with the move

    faster = stage_desired(api_id, second.id, {"rateLimit": 50.5, "burstLimit": 200})
    deltas = stages.diff(faster, updated)
    assert [(d.path, d.desired, d.actual) for d in deltas] == [("throttle.rateLimit", 50.5, 100.0)]
    updated = stages.update(faster, updated, deltas)
    assert stages.diff(faster, updated) == []
    again = stages.observe(faster)
    assert again is not None
    assert stages.diff(faster, again) == []

    stages.delete(again)
    assert stages.observe(want) is None
    stages.delete(again)  # twice is fine


def test_stage_without_throttle(
    deployments: DeploymentHandler, stages: StageHandler, api_id: str
) -> None:
    deployment = deployments.create(deployment_desired(api_id, "1111111111111111"))
    want = stage_desired(api_id, deployment.id, None)
    made = stages.create(want)
    assert made.props["throttle"] is None
    assert stages.diff(want, made) == []

    throttled = stage_desired(api_id, deployment.id, {"rateLimit": 10.0, "burstLimit": 20})
    deltas = stages.diff(throttled, made)
    assert sorted(d.path for d in deltas) == ["throttle.burstLimit", "throttle.rateLimit"]
    have = stages.update(throttled, made, deltas)
    assert stages.diff(throttled, have) == []


def test_stage_throttle_removed(
    deployments: DeploymentHandler, stages: StageHandler, api_id: str
) -> None:
    deployment = deployments.create(deployment_desired(api_id, "1111111111111111"))
    throttled = stage_desired(api_id, deployment.id, {"rateLimit": 10.0, "burstLimit": 20})
    have = stages.create(throttled)
    unthrottled = stage_desired(api_id, deployment.id, None)
    deltas = stages.diff(unthrottled, have)
    assert [(d.path, d.desired) for d in deltas] == [("throttle", None)]
    have = stages.update(unthrottled, have, deltas)
    assert have.props["throttle"] is None


def test_stage_without_owner_tag_is_not_ours(aws: Any, stages: StageHandler, api_id: str) -> None:
    apigw = aws.client("apigateway")
    deployment = apigw.create_deployment(restApiId=api_id, description="by hand")
    apigw.create_stage(
        restApiId=api_id, stageName="prod", deploymentId=deployment["id"], tags={"team": "other"}
    )
    have = stages.observe(stage_desired(api_id, deployment["id"], None))
    assert have is not None
    assert not have.owned_by(OWNER)


def test_stage_move_keeps_deployments_that_are_not_ours(
    aws: Any,
    deployments: DeploymentHandler,
    stages: StageHandler,
    api_id: str,
) -> None:
    apigw = aws.client("apigateway")
    manual = apigw.create_deployment(restApiId=api_id, description="by hand")["id"]
    first = deployments.create(deployment_desired(api_id, "1111111111111111"))
    second = deployments.create(deployment_desired(api_id, "2222222222222222"))
    have = stages.create(stage_desired(api_id, first.id, None))
    moved = stage_desired(api_id, second.id, None)
    stages.update(moved, have, stages.diff(moved, have))
    assert deployment_ids(aws, api_id) == {manual, second.id}
