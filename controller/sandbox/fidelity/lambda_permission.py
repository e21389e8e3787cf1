"""Lambda AddPermission refuses a StatementId that the function's policy already holds.

Restores (AWS Lambda API reference, AddPermission: "ResourceConflictException ... The resource
already exists, or another operation is in progress", HTTP 409; the message reads "The statement
id (<sid>) provided already exists. Please provide a new statement id, or remove the existing
statement."): moto appends a second statement with the same Sid, so a retried AddPermission
would silently duplicate the statement instead of failing.
Neighbours: `patching`, `controller.handlers.lambda_permission` (adds and removes statements).
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import LambdaClientError

from controller.sandbox.fidelity.patching import wrap


class ResourceConflictError(LambdaClientError):
    """HTTP 409 ResourceConflictException."""

    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


def apply() -> None:
    """Install the duplicate-StatementId check."""
    wrap(lambda_models.LambdaBackend, "add_permission")(_add_permission)


def _add_permission(
    original: Any, self: Any, function_name: str, qualifier: str | None, raw: str
) -> Any:
    sid = json.loads(raw).get("StatementId")
    fn = self.get_function(function_name, qualifier)
    if sid and any(s.get("Sid") == sid for s in fn.policy.statements):
        raise ResourceConflictError(
            f"The statement id ({sid}) provided already exists. Please provide a new statement "
            "id, or remove the existing statement."
        )
    return original(self, function_name, qualifier, raw)
