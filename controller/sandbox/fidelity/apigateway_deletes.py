"""API Gateway v1 DeleteRestApi, DeleteUsagePlan and DeleteUsagePlanKey of what does not exist.

Restores (AWS API reference, DeleteRestApi / DeleteUsagePlan / DeleteUsagePlanKey, Errors:
"NotFoundException: The requested resource is not found. Make sure that the request URI is
correct. HTTP Status Code: 404"): deleting a REST API or usage plan that does not exist (or no
longer does), or a key that is not in the usage plan (or of a plan that does not exist), is a
404 NotFoundException. moto pops a missing dict key and answers HTTP 500 (KeyError), which
botocore retries and then reports as error code "500".
Neighbours: `patching`, `apigateway_stage` (the other API Gateway v1 write-path fixes).
"""

from __future__ import annotations

from typing import Any

from moto.apigateway import models as apigw_models
from moto.apigateway.exceptions import (
    ApiKeyNotFoundException,
    RestAPINotFound,
    UsagePlanNotFoundException,
)

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the NotFound checks in front of moto's deletes."""
    backend = apigw_models.APIGatewayBackend
    wrap(backend, "delete_rest_api")(_delete_rest_api)
    wrap(backend, "delete_usage_plan")(_delete_usage_plan)
    wrap(backend, "delete_usage_plan_key")(_delete_usage_plan_key)


def _delete_rest_api(original: Any, self: Any, function_id: str) -> Any:
    if function_id not in self.apis:
        raise RestAPINotFound()
    return original(self, function_id)


def _delete_usage_plan(original: Any, self: Any, usage_plan_id: str) -> None:
    if usage_plan_id not in self.usage_plans:
        raise UsagePlanNotFoundException()
    original(self, usage_plan_id)


def _delete_usage_plan_key(original: Any, self: Any, usage_plan_id: str, key_id: str) -> None:
    if usage_plan_id not in self.usage_plans:
        raise UsagePlanNotFoundException()
    if key_id not in self.usage_plan_keys.get(usage_plan_id, {}):
        raise ApiKeyNotFoundException()
    original(self, usage_plan_id, key_id)
