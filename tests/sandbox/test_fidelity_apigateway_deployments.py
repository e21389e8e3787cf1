"""API Gateway v1 deployments over HTTP: a snapshot of the API, and a stage that keeps its tags.

AWS (API Gateway API reference): Deployment.apiSummary is "A summary of the RestApi at the date
and time that the deployment resource was created", returned by GetDeployment with
embed=["apisummary"]; CreateDeployment on an existing stage points that stage at the new
deployment (its tags and settings stay).
"""

from __future__ import annotations


def _api_with_get(build) -> tuple[str, str]:
    api_id, root_id = build.rest_api_method("GET")
    build.apigateway.put_integration(
        restApiId=api_id, resourceId=root_id, httpMethod="GET", type="MOCK"
    )
    return api_id, root_id


def test_get_deployment_embeds_the_api_as_it_was_deployed(build):
    """apiSummary lists each path's methods with authorizationType and apiKeyRequired as they
    were at CreateDeployment; a method added later is not in it."""
    api_id, root_id = _api_with_get(build)
    deployment_id = build.apigateway.create_deployment(restApiId=api_id)["id"]
    build.apigateway.put_method(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="POST",
        authorizationType="NONE",
        apiKeyRequired=True,
    )
    got = build.apigateway.get_deployment(
        restApiId=api_id, deploymentId=deployment_id, embed=["apisummary"]
    )
    assert got["apiSummary"] == {
        "/": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}
    }
    later = build.apigateway.create_deployment(restApiId=api_id)["id"]
    summary = build.apigateway.get_deployment(
        restApiId=api_id, deploymentId=later, embed=["apisummary"]
    )["apiSummary"]
    assert summary["/"]["POST"] == {"authorizationType": "NONE", "apiKeyRequired": True}


def test_get_deployment_without_embed_has_no_summary(build):
    """AWS returns apiSummary only when asked for it."""
    api_id, _ = _api_with_get(build)
    deployment_id = build.apigateway.create_deployment(restApiId=api_id)["id"]
    got = build.apigateway.get_deployment(restApiId=api_id, deploymentId=deployment_id)
    assert "apiSummary" not in got
    assert got["id"] == deployment_id


def test_create_deployment_on_an_existing_stage_keeps_the_stage(build):
    """Redeploying to a stage moves its deploymentId; its tags, description and method settings
    stay, and variables given are set on it."""
    api_id, _ = _api_with_get(build)
    first = build.apigateway.create_deployment(restApiId=api_id)["id"]
    build.apigateway.create_stage(
        restApiId=api_id,
        stageName="prod",
        deploymentId=first,
        description="the stage",
        variables={"a": "1"},
        tags={"team": "shop"},
    )
    build.apigateway.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50"}],
    )
    second = build.apigateway.create_deployment(
        restApiId=api_id, stageName="prod", variables={"b": "2"}
    )["id"]
    stage = build.apigateway.get_stage(restApiId=api_id, stageName="prod")
    assert stage["deploymentId"] == second != first
    assert stage["tags"] == {"team": "shop"}
    assert stage["description"] == "the stage"
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 50.0
    assert stage["variables"] == {"a": "1", "b": "2"}


def test_create_deployment_with_a_new_stage_name_creates_it(build):
    """A stage name that does not exist yet is created, pointing at the new deployment."""
    api_id, _ = _api_with_get(build)
    deployment_id = build.apigateway.create_deployment(restApiId=api_id, stageName="beta")["id"]
    stage = build.apigateway.get_stage(restApiId=api_id, stageName="beta")
    assert stage["deploymentId"] == deployment_id
