"""API Gateway v1 integrations and methods: keep `connectionId`, add UpdateIntegration/UpdateMethod.

Restores (AWS API reference, Integration and UpdateIntegration/UpdateMethod):
- "connectionId: The ID of the VpcLink used for the integration when connectionType=VPC_LINK";
  moto accepts it on PutIntegration and drops it, so GetIntegration never returns it.
- "timeoutInMillis: ... The default value is 29,000 milliseconds or 29 seconds"; moto returns none.
- UpdateIntegration ("Represents an update integration") and UpdateMethod ("Updates an existing
  Method resource") apply JSON-Patch operations; moto has neither (HTML 500 that botocore retries).
  Paths follow the Integration and Method properties (`/uri`, `/httpMethod`, `/connectionId`, ...);
  an unknown path is a BadRequestException as on AWS ("Invalid patch path ...").
Neighbours: `patching` (the mechanism), `apigateway_tags`, `apigateway_vpclink`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses
from moto.apigateway.exceptions import BadRequestException, NotFoundException

from controller.sandbox.fidelity.patching import add, wrap

DEFAULT_TIMEOUT_MILLIS = 29_000

Converter = Callable[[Any], Any]


def _to_bool(value: Any) -> bool:
    text = str(value).lower()
    if text not in ("true", "false"):
        raise BadRequestException(f"Invalid boolean value: {value}")
    return text == "true"


# Property path -> (moto attribute, converter): `replace` sets, `remove` clears.
_INTEGRATION_SCALARS: dict[str, tuple[str, Converter]] = {
    "/uri": ("uri", str),
    "/httpMethod": ("http_method", str),
    "/connectionId": ("connection_id", str),
    "/connectionType": ("connection_type", str),
    "/timeoutInMillis": ("timeout_in_millis", int),
    "/passthroughBehavior": ("passthrough_behaviour", str),
    "/contentHandling": ("content_handling", str),
    "/credentials": ("credentials", str),
    "/cacheNamespace": ("cache_namespace", str),
}
# Map path prefix -> (moto attribute, converter): `add`/`replace` set a key, `remove` drops it.
_INTEGRATION_MAPS: dict[str, tuple[str, Converter]] = {
    "/requestParameters/": ("request_parameters", str),
    "/requestTemplates/": ("request_templates", str),
}
_METHOD_SCALARS: dict[str, tuple[str, Converter]] = {
    "/apiKeyRequired": ("api_key_required", _to_bool),
    "/authorizationType": ("authorization_type", str),
    "/authorizerId": ("authorizer_id", str),
    "/operationName": ("operation_name", str),
    "/requestValidatorId": ("request_validator_id", str),
}
_METHOD_MAPS: dict[str, tuple[str, Converter]] = {
    "/requestParameters/": ("request_parameters", _to_bool),
    "/requestModels/": ("request_models", str),
}


def apply() -> None:
    """Install the integration and method patches."""
    wrap(apigw_models.Integration, "to_json")(_integration_to_json)
    wrap(apigw_responses.APIGatewayResponse, "put_integration")(_put_integration)
    add(apigw_responses.APIGatewayResponse, "update_integration", _update_integration)
    add(apigw_responses.APIGatewayResponse, "update_method", _update_method)


def _integration_to_json(original: Any, self: Any) -> dict[str, Any]:
    data: dict[str, Any] = original(self)
    connection_id = getattr(self, "connection_id", None)
    if connection_id is not None:
        data["connectionId"] = connection_id
    if data.get("timeoutInMillis") is None:
        data["timeoutInMillis"] = DEFAULT_TIMEOUT_MILLIS
    return data


def _method_path(response: Any) -> tuple[str, str, str]:
    parts = response.path.split("/")
    return parts[2], parts[4], parts[6]


def _put_integration(original: Any, self: Any) -> tuple[int, dict[str, Any], str]:
    status, headers, _body = original(self)
    integration = self.backend.get_integration(*_method_path(self))
    integration.connection_id = self._get_param("connectionId")
    return status, headers, json.dumps(integration.to_json())


def _update_integration(self: Any) -> tuple[int, dict[str, Any], str]:
    api_id, resource_id, http_method = _method_path(self)
    self.backend.get_method(api_id, resource_id, http_method)
    integration = self.backend.get_integration(api_id, resource_id, http_method)
    if integration is None:
        raise NotFoundException("Invalid Integration identifier specified")
    for operation in self._get_param("patchOperations") or []:
        _apply(integration, operation, _INTEGRATION_SCALARS, _INTEGRATION_MAPS)
    return 200, {}, json.dumps(integration.to_json())


def _update_method(self: Any) -> tuple[int, dict[str, Any], str]:
    method = self.backend.get_method(*_method_path(self))
    for operation in self._get_param("patchOperations") or []:
        _apply(method, operation, _METHOD_SCALARS, _METHOD_MAPS)
    return 200, {}, json.dumps(method.to_json())


def _apply(
    target: Any,
    operation: dict[str, Any],
    scalars: dict[str, tuple[str, Converter]],
    maps: dict[str, tuple[str, Converter]],
) -> None:
    op, path, value = operation.get("op"), operation.get("path", ""), operation.get("value")
    if path in scalars:
        attribute, convert = scalars[path]
        if op == "replace":
            setattr(target, attribute, convert(value))
            return
        if op == "remove":
            setattr(target, attribute, None)
            return
    for prefix, (attribute, convert) in maps.items():
        if path.startswith(prefix) and op in ("add", "replace", "remove"):
            key = _unescape(path[len(prefix) :])
            current = dict(getattr(target, attribute, None) or {})
            if op == "remove":
                current.pop(key, None)
            else:
                current[key] = convert(value)
            setattr(target, attribute, current or None)
            return
    raise BadRequestException(f"Invalid patch path  '{path}' specified for op '{op}'")


def _unescape(pointer: str) -> str:
    return pointer.replace("~1", "/").replace("~0", "~")
