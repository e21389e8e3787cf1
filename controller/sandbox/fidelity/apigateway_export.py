"""API Gateway v1: GetExport of a stage exports what the stage runs, integrations included.

Restores (API Gateway API reference, GetExport: "Exports a deployed version of a RestApi in a
specified format", https://docs.aws.amazon.com/apigateway/latest/api/API_GetExport.html; its
`parameters` "extensions='integrations'" adds the API Gateway integrations; "Export a REST API
from API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/
api-gateway-export-api.html; the `x-amazon-apigateway-integration` object and
`x-amazon-apigateway-any-method` for ANY: https://docs.aws.amazon.com/apigateway/latest/
developerguide/api-gateway-swagger-extensions.html): moto ignores the stage and exports the API as
it is now, without integrations, so what a stage's deployment forwards to (the port of a VPC-link
integration, before and after a redeployment) could not be read. Each CreateDeployment keeps a
copy of the API's integrations; a stage's export with `extensions=integrations` carries the
integrations of the deployment the stage runs, by path and method.
Neighbours: `patching`, `apigateway_deployment_snapshot` (the same CreateDeployment).
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import unquote

from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses

from controller.sandbox.fidelity.patching import wrap

ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"


def apply() -> None:
    """Install the integrations' snapshot and the stage's export of it."""
    wrap(apigw_models.RestAPI, "create_deployment")(_create_deployment)
    wrap(apigw_responses.APIGatewayResponse, "get_export")(_get_export)


def integrations(api: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The API's integrations now: path -> HTTP method -> the integration as an export shows
    it (`type` in lower case, `uri`, `httpMethod`, `connectionType`, `connectionId`)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in list(api.resources.values()):
        for verb, method in resource.resource_methods.items():
            integ = method.method_integration
            if integ is None:
                continue
            entry = {
                "type": str(integ.integration_type or "").lower(),
                "uri": integ.uri,
                "httpMethod": integ.http_method,
                "connectionType": integ.connection_type or "INTERNET",
                "connectionId": getattr(integ, "connection_id", None),
                "requestParameters": copy.deepcopy(integ.request_parameters or {}),
            }
            out.setdefault(resource.get_path(), {})[verb] = {
                k: v for k, v in entry.items() if v not in (None, {})
            }
    return out


def _create_deployment(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    deployment = original(self, *args, **kwargs)
    deployment.integrations = integrations(self)
    return deployment


def _get_export(original: Any, self: Any) -> Any:
    status, headers, body = original(self)
    parts = self.path.split("/")
    rest_api_id, stage_name = parts[-5], unquote(parts[-3])
    wanted = [
        e.strip().lower()
        for value in self.querystring.get("parameters[extensions]", [])
        + self.querystring.get("extensions", [])
        for e in value.split(",")
    ]
    api = self.backend.get_rest_api(rest_api_id)
    stage = api.stages.get(stage_name)
    deployment = api.deployments.get(getattr(stage, "deployment_id", None) or "")
    snapshot = getattr(deployment, "integrations", None)
    if snapshot is None:
        return status, headers, body
    answer = json.loads(body)
    paths: dict[str, Any] = {}
    for path, methods in snapshot.items():  # what the stage runs, not what the API is now
        item = paths.setdefault(path, {})
        for verb, integ in methods.items():
            operation: dict[str, Any] = {"responses": {}}
            if "integrations" in wanted:
                operation[INTEGRATION] = copy.deepcopy(integ)
            item[ANY_METHOD if verb == "ANY" else verb.lower()] = operation
    answer["paths"] = paths
    return status, headers, json.dumps(answer).encode("utf-8")
