"""The Lambda authorizer of the REST API (seed 002), and the runtime check of its function.

Found by its deterministic name among GetAuthorizers of our REST API; type, invocation URI,
identity source and result TTL are updated in place, one UpdateAuthorizer patch per field.
Authorizers carry no tags: ownership is the REST API's. The function is not ours and is never
modified: GetFunction reads its runtime, and a runtime Lambda has deprecated is reported as
`outputs["runtimeWarning"]` (seed 002: a Node.js 12 authorizer broke on redeploy); a function
that does not exist is a PermanentError naming `spec.api.authorizer.lambdaArn`.
Neighbours: `apigw_rest_api` (the API, `REST_API`), `apigw_proxy` (methods that use the
authorizer), `lambda_permission` (lets API Gateway invoke the function).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from controller.errors import PermanentError
from controller.handlers import clients
from controller.handlers.apigw_common import V1, ApiChildHandler, paged
from controller.handlers.apigw_rest_api import REST_API, fmt_num
from controller.handlers.base import Delta, Desired, Observed, changed, error_code, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import Authorizer

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        AuthorizerResponseTypeDef,
        AuthorizerTypeDef,
        PatchOperationTypeDef,
    )

# Runtimes Lambda has deprecated (AWS Lambda Developer Guide, "Runtime deprecation policy"):
# existing functions keep running, but they get no security patches and cannot be updated or
# recreated with that runtime, which is what broke seed 002's authorizer on redeploy.
DEPRECATED_RUNTIMES = frozenset(
    {
        "nodejs",
        "nodejs4.3",
        "nodejs4.3-edge",
        "nodejs6.10",
        "nodejs8.10",
        "nodejs10.x",
        "nodejs12.x",
        "nodejs14.x",
        "nodejs16.x",
        "python2.7",
        "python3.6",
        "python3.7",
        "python3.8",
        "ruby2.5",
        "ruby2.7",
        "java8",
        "go1.x",
        "dotnetcore1.0",
        "dotnetcore2.0",
        "dotnetcore2.1",
        "dotnetcore3.1",
        "dotnet5.0",
        "dotnet6",
        "provided",
    }
)
_FUNCTIONS = "/functions/"
_INVOCATIONS = "/invocations"
# Patch path of each updatable prop (UpdateAuthorizer), and how its value is written.
_PATCHES: tuple[
    tuple[Literal["type", "authorizerUri", "identitySource", "resultTtlSeconds"], str], ...
] = (
    ("type", "/type"),
    ("authorizerUri", "/authorizerUri"),
    ("identitySource", "/identitySource"),
    ("resultTtlSeconds", "/authorizerResultTtlInSeconds"),
)


def function_arn(uri: str) -> str:
    """The Lambda function ARN inside an authorizer's invocation URI (else the URI itself)."""
    start = uri.find(_FUNCTIONS)
    if start < 0 or not uri.endswith(_INVOCATIONS):
        return uri
    return uri[start + len(_FUNCTIONS) : -len(_INVOCATIONS)]


def runtime_warning(function: str, runtime: str | None) -> str | None:
    """A message when `runtime` is deprecated by Lambda, else None."""
    if runtime is None or runtime not in DEPRECATED_RUNTIMES:
        return None
    return (
        f"authorizer function {function} runs on {runtime}, a runtime AWS Lambda has "
        "deprecated: it gets no security patches and cannot be updated or redeployed with "
        "that runtime; move it to a supported runtime (spec.api.authorizer.lambdaArn)"
    )


class AuthorizerHandler(ApiChildHandler):
    """`apigw.authorizer`: props {restApiId, name, type, authorizerUri, identitySource,
    resultTtlSeconds}."""

    kind = kinds.APIGW_AUTHORIZER
    identity = ("restApiId", "name")
    spelling = V1.of("Authorizer")
    parent = REST_API
    create_log = (("type", "type"), ("uri", "authorizerUri"))
    client: APIGatewayClient

    def props_of(self, want: Desired) -> Authorizer[Known]:
        """The desired props as `Authorizer` (`controller.model.props_api`)."""
        return props_as(want, Authorizer[Known])

    def _children(self, api_id: str) -> Iterator[AuthorizerTypeDef]:
        return paged(self.client.get_authorizers, V1, restApiId=api_id)

    def _matches(self, want: Desired, item: AuthorizerTypeDef) -> bool:
        return bool(item.get("name") == self.props_of(want)["name"])

    def _absent(self, want: Desired) -> None:
        self._runtime_warning(
            self.props_of(want)["authorizerUri"]
        )  # a missing function fails early

    def _runtime_warning(self, uri: str) -> str | None:
        """Read the function's runtime (never change it); a missing function is permanent."""
        arn = function_arn(uri)
        try:
            config = clients.lambda_(self.aws).get_function(FunctionName=arn)["Configuration"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                msg = (
                    f"spec.api.authorizer.lambdaArn: function {arn} does not exist "
                    "(the controller never creates it: deploy the authorizer function first)"
                )
                raise PermanentError(msg) from exc
            raise
        return runtime_warning(arn, config.get("Runtime"))

    def _observed(
        self,
        want: Desired,
        found: AuthorizerTypeDef | AuthorizerResponseTypeDef,
        tags: dict[str, str],
    ) -> Observed:
        uri = found.get("authorizerUri", "")
        warning = self._runtime_warning(uri or self.props_of(want)["authorizerUri"])
        observed = self._child(
            want,
            found,
            tags,
            name=found.get("name"),
            type=found.get("type"),
            authorizerUri=uri or None,
            identitySource=found.get("identitySource"),
            resultTtlSeconds=found.get("authorizerResultTtlInSeconds", 300),
        )
        observed.outputs["functionArn"] = function_arn(uri)
        if warning:
            observed.outputs["runtimeWarning"] = warning
        return observed

    def _make(self, want: Desired) -> AuthorizerResponseTypeDef:
        """CreateAuthorizer (the function must exist: observe checked it)."""
        p = self.props_of(want)
        return self.client.create_authorizer(
            restApiId=p["restApiId"],
            name=p["name"],
            type=p["type"],
            authorizerUri=p["authorizerUri"],
            identitySource=p["identitySource"],
            authorizerResultTtlInSeconds=p["resultTtlSeconds"],
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateAuthorizer with a patch operation per differing field."""
        p = self.props_of(want)
        ops: list[PatchOperationTypeDef] = [
            {
                "op": "replace",
                "path": path,
                "value": fmt_num(v) if isinstance(v := p[prop], int) else str(v),
            }
            for prop, path in _PATCHES
            if changed(deltas, prop)
        ]
        return self._update(want, have, ops)

    def _send_update(
        self, want: Desired, have: Observed, changes: list[PatchOperationTypeDef]
    ) -> AuthorizerResponseTypeDef:
        return self.client.update_authorizer(
            restApiId=self.props_of(want)["restApiId"],
            authorizerId=have.id,
            patchOperations=changes,
        )

    def _send_delete(self, have: Observed) -> None:
        """NotFound is success (the proxy methods are deleted before it)."""
        self.client.delete_authorizer(restApiId=have.props["restApiId"], authorizerId=have.id)

    def list_owned(self, owner: str) -> list[Observed]:
        """None apart: an authorizer goes with its REST API (found by name while wanted)."""
        del owner
        return []
