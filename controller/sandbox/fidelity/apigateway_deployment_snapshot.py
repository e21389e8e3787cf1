"""API Gateway v1 deployments keep a snapshot of the API: GetDeployment(embed=apisummary).

Restores (API Gateway API reference, Deployment: "An immutable representation of a RestApi
resource that can be called by users using Stages"; `apiSummary`: "A summary of the RestApi at
the date and time that the deployment resource was created", a map of resource path -> HTTP
method -> MethodSnapshot {authorizationType, apiKeyRequired}; GetDeployment `embed`: "Currently,
this request supports only retrieval of the embedded API summary this way. Hence, the parameter
value must be a single-valued list containing only the "apisummary" string"): moto keeps no
snapshot and returns no `apiSummary`, so what a stage runs could not be told from what the API
now is (doctor's `stage-stale`). The snapshot is taken when CreateDeployment runs; GetDeployments
and a GetDeployment without `embed` do not carry it, as on AWS.
Neighbours: `patching`, `apigateway_deployment_stage` (the same CreateDeployment).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the snapshot and its retrieval."""
    wrap(apigw_models.RestAPI, "create_deployment")(_create_deployment)
    wrap(apigw_responses.APIGatewayResponse, "get_deployment")(_get_deployment)


def api_summary(api: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The API's methods now: path -> HTTP method -> {authorizationType, apiKeyRequired}."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in list(api.resources.values()):
        methods = {
            verb: {
                "authorizationType": method.authorization_type or "NONE",
                "apiKeyRequired": bool(method.api_key_required),
            }
            for verb, method in resource.resource_methods.items()
        }
        if methods:
            summary[resource.get_path()] = methods
    return summary


def _create_deployment(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    deployment = original(self, *args, **kwargs)
    deployment.api_summary = copy.deepcopy(api_summary(self))
    return deployment


def _get_deployment(original: Any, self: Any) -> Any:
    body = original(self)
    embed = [v.lower() for value in self.querystring.get("embed", []) for v in value.split(",")]
    if "apisummary" not in embed:
        return body
    deployment_id = self.path.split("/")[4]
    api = self.backend.get_rest_api(self.path.split("/")[2])
    snapshot = getattr(api.deployments.get(deployment_id), "api_summary", None)
    answer = json.loads(body)
    answer["apiSummary"] = snapshot if snapshot is not None else {}
    return json.dumps(answer)
