"""API Gateway v2 GetAuthorizers (GET /v2/apis/{apiId}/authorizers).

Restores (AWS API reference, API Gateway v2 GetAuthorizers: "Gets the Authorizers for an API",
answering `{"items": [Authorizer, ...], "nextToken"}`; an unknown API is NotFoundException):
moto routes the URL but has no `get_authorizers`, so in server mode the call is an HTML 500 that
botocore retries, and `psctl doctor --http-api` (which reads every authorizer of the API) could
not read any HTTP API. Every authorizer is returned in one page (no nextToken), as moto does for
GetIntegrations and GetRoutes.
Neighbours: `patching`, `apigatewayv2_stage`.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigatewayv2 import responses as v2_responses

from controller.sandbox.fidelity.patching import add


def apply() -> None:
    """Install GetAuthorizers on moto's API Gateway v2 responses."""
    add(v2_responses.ApiGatewayV2Response, "get_authorizers", _get_authorizers)


def _get_authorizers(self: Any) -> tuple[int, dict[str, Any], str]:
    api_id = self.path.rstrip("/").split("/")[-2]
    api = self.apigatewayv2_backend.get_api(api_id)
    items = [a.to_json() for a in api.authorizers.values()]
    return 200, {}, json.dumps({"items": items})
