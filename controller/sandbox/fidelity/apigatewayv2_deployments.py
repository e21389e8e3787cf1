"""API Gateway v2 GetDeployments (GET /v2/apis/{apiId}/deployments).

Restores (AWS API reference, API Gateway v2 GetDeployments: "Gets the Deployments for an API",
answering `Items` of AutoDeployed, CreatedDate, DeploymentId, DeploymentStatus, Description;
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments.html):
moto has no such route, so the read answers an HTML 404 that no client can parse. moto keeps no
deployments of HTTP APIs (an auto-deployed stage records none), so the list is empty for an API
that exists; an unknown API is NotFoundException, as GetApi says. `psctl doctor --http-api` reads
it for the stage-stale check. Neighbours: `patching`, `apigatewayv2_stage`.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway import urls as apigw_urls
from moto.apigatewayv2 import responses as v2_responses
from moto.apigatewayv2 import urls as v2_urls

from controller.sandbox.fidelity.patching import add, add_item


def apply() -> None:
    """Route GET /v2/apis/{apiId}/deployments and install GetDeployments. Both API Gateway
    host tables get the route: moto's v1 table copied v2's at import and serves the shared host."""
    route = "{0}/v2/apis/(?P<api_id>[^/]+)/deployments$"
    for table in (v2_urls.url_paths, apigw_urls.url_paths):
        add_item(table, route, v2_responses.ApiGatewayV2Response.dispatch)
    add(v2_responses.ApiGatewayV2Response, "get_deployments", _get_deployments)


def _get_deployments(self: Any) -> tuple[int, dict[str, Any], str]:
    api_id = self.path.split("/")[-2]
    self.apigatewayv2_backend.get_api(api_id)  # NotFoundException for an unknown API
    return 200, {}, json.dumps({"items": []})
