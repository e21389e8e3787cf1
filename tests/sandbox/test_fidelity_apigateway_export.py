"""API Gateway v1 GetExport of a stage over HTTP: the deployed API, integrations included.

AWS (API Gateway API reference, GetExport): "Exports a deployed version of a RestApi in a
specified format"; `parameters` extensions='integrations' adds the `x-amazon-apigateway-
integration` of each method (ANY as `x-amazon-apigateway-any-method`). An integration changed
after the deployment is exported as the stage runs it until the stage is redeployed.
"""

from __future__ import annotations

import json
from typing import Any

ANY = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"


def _export(build: Any, api_id: str, extensions: str | None = "integrations") -> dict[str, Any]:
    params = {"extensions": extensions} if extensions else {}
    body = build.apigateway.get_export(
        restApiId=api_id, stageName="prod", exportType="oas30", parameters=params
    )["body"].read()
    result: dict[str, Any] = json.loads(body)
    return result


def _api(build: Any, uri: str) -> tuple[str, str]:
    api_id, root_id = build.rest_api_method("ANY")
    build.apigateway.put_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri=uri,
    )
    return api_id, root_id


def test_a_stage_exports_the_integration_it_runs_until_redeployed(build: Any) -> None:
    """The export shows the integration URI of the stage's deployment: an UpdateIntegration is
    not in it until a new deployment is on the stage."""
    api_id, root_id = _api(build, "http://backend.example:80/")
    build.apigateway.create_deployment(restApiId=api_id, stageName="prod")
    build.apigateway.update_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="ANY",
        patchOperations=[
            {"op": "replace", "path": "/uri", "value": "http://backend.example:8080/"}
        ],
    )
    before = _export(build, api_id)["paths"]["/"][ANY][INTEGRATION]
    assert (before["type"], before["uri"]) == ("http_proxy", "http://backend.example:80/")
    build.apigateway.create_deployment(restApiId=api_id, stageName="prod")
    after = _export(build, api_id)["paths"]["/"][ANY][INTEGRATION]
    assert after["uri"] == "http://backend.example:8080/"


def test_without_the_extension_the_export_has_no_integrations(build: Any) -> None:
    """Integrations are exported only when asked for."""
    api_id, _ = _api(build, "http://backend.example:80/")
    build.apigateway.create_deployment(restApiId=api_id, stageName="prod")
    method = _export(build, api_id, extensions=None)["paths"]["/"][ANY]
    assert INTEGRATION not in method
