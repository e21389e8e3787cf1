"""API Gateway v1 UpdateStage: `remove` on `/{resourcePath}/{httpMethod}` deletes a method setting.

Restores (AWS API reference, Stage.methodSettings: "A map that defines the method settings for a
Stage resource. Keys (designated as /{method_setting_key below) are method paths defined as
{resource_path}/{http_method} for an individual method override, or /\\*/\\* for overriding all
methods in the stage"): UpdateStage `replace` on `/{key}/{setting}` (`/*/*/throttling/rateLimit`)
sets one setting, and `remove` on `/{key}` (`/*/*`) deletes that method setting, so GetStage no
longer lists it in `methodSettings` (this is how the Terraform AWS provider deletes
`aws_api_gateway_method_settings`). moto ignores the `remove`, so the setting (a throttle) stays.
Removing a setting the stage does not have is a BadRequestException, worded as AWS words it
("Cannot remove method setting */* because there is no method setting for this method", quoted
by that provider). The resource path is escaped as in the key: `/~1pets/GET` removes `~1pets/GET`.
Neighbours: `patching`, `apigateway_deletes`, `apigateway_integration`.
"""

from __future__ import annotations

import re
from typing import Any

from moto.apigateway import models as apigw_models
from moto.apigateway.exceptions import BadRequestException

from controller.sandbox.fidelity.patching import wrap

# `/{resourcePath}/{httpMethod}`: two segments, the second an HTTP method or `*`.
_METHOD_SETTING = re.compile(
    r"^/(?P<resource>[^/]+)/(?P<method>\*|ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT)$"
)


def apply() -> None:
    """Install the method-setting `remove` in front of moto's stage patch operations."""
    wrap(apigw_models.Stage, "apply_operations")(_apply_operations)


def _apply_operations(original: Any, self: Any, patch_operations: list[dict[str, Any]]) -> Any:
    # One operation at a time, in the order given, so moto's and ours interleave as listed.
    for operation in patch_operations:
        match = _METHOD_SETTING.match(str(operation.get("path", "")))
        if operation.get("op") == "remove" and match is not None:
            key = f"{match.group('resource')}/{match.group('method')}"
            if key not in self.method_settings:
                raise BadRequestException(
                    f"Cannot remove method setting {key} because there is no method setting "
                    "for this method"
                )
            del self.method_settings[key]
        else:
            original(self, [operation])
    return self
