"""API Gateway v2 UpdateStage (PATCH /v2/apis/{apiId}/stages/{stageName}).

Restores (AWS API reference, API Gateway v2 UpdateStage: "Updates a Stage", taking AutoDeploy,
DefaultRouteSettings, Description, RouteSettings, StageVariables, AccessLogSettings,
ClientCertificateId, DeploymentId, and returning the stage): moto has no UpdateStage at all (in
server mode an HTML 500 that botocore retries). Fields present in the request replace the
stage's; absent ones are kept. A structure such as DefaultRouteSettings is replaced whole, the
way every SDK and CloudFormation send it (throttle limits left out are no longer set). An
unknown API or stage is NotFoundException, as GetStage says.
Neighbours: `patching`, `apigatewayv2_vpclink`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from moto.apigatewayv2 import responses as v2_responses

from controller.sandbox.fidelity.patching import add

_FIELDS = {
    "autoDeploy": "auto_deploy",
    "defaultRouteSettings": "default_route_settings",
    "description": "description",
    "routeSettings": "route_settings",
    "stageVariables": "stage_variables",
    "accessLogSettings": "access_log_settings",
    "clientCertificateId": "client_certificate_id",
}


def apply() -> None:
    """Install UpdateStage on moto's API Gateway v2 responses."""
    add(v2_responses.ApiGatewayV2Response, "update_stage", _update_stage)


def _update_stage(self: Any) -> tuple[int, dict[str, Any], str]:
    parts = self.path.split("/")
    api_id, stage_name = parts[-3], unquote(parts[-1])
    stage = self.apigatewayv2_backend.get_stage(api_id, stage_name)
    params = json.loads(self.body or "{}")
    for field, attr in _FIELDS.items():
        if field in params:
            setattr(stage, attr, params[field])
    if "deploymentId" in params:
        stage.config["deploymentId"] = params["deploymentId"]
    stage.updated = datetime.now()
    return 200, {}, json.dumps(stage.to_json())
