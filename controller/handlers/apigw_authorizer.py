"""The Lambda authorizer of the REST API (seed 002), and the runtime check of its function.

Found by its deterministic name among GetAuthorizers of our REST API; type, invocation URI,
identity source and result TTL are updated in place, one UpdateAuthorizer patch per field.
Authorizers carry no tags: ownership is the REST API's. The function is not ours and is never
modified: GetFunction reads its runtime, and a runtime Lambda has deprecated is reported as
`outputs["runtimeWarning"]` (seed 002: a Node.js 12 authorizer broke on redeploy); a function
that does not exist is a PermanentError naming `spec.api.authorizer.lambdaArn`.
Neighbours: `apigw_rest_api` (the API, helpers), `apigw_proxy` (methods that use the
authorizer), `lambda_permission` (lets API Gateway invoke the function).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.errors import PermanentError
from controller.handlers.apigw_common import throttle_is_temporary
from controller.handlers.apigw_rest_api import fmt_num, rest_api_tags
from controller.handlers.base import Delta, Desired, Handler, Observed, changed, error_code

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
_PATCHES = (
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


class AuthorizerHandler(Handler):
    """`apigw.authorizer`: props {restApiId, name, type, authorizerUri, identitySource,
    resultTtlSeconds}."""

    kind = "apigw.authorizer"
    service = "apigateway"
    identity = ("restApiId", "name")
    client: APIGatewayClient

    def _authorizers(self, rest_api_id: str) -> Iterator[AuthorizerTypeDef]:
        position: str | None = None
        while True:  # GetAuthorizers has no paginator in botocore
            page = (
                self.client.get_authorizers(restApiId=rest_api_id, position=position)
                if position
                else self.client.get_authorizers(restApiId=rest_api_id)
            )
            yield from page.get("items", [])
            position = page.get("position")
            if not position:
                return

    def _runtime_warning(self, uri: str) -> str | None:
        """Read the function's runtime (never change it); a missing function is permanent."""
        arn = function_arn(uri)
        try:
            config = self.aws.client("lambda").get_function(FunctionName=arn)["Configuration"]
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
        warning = self._runtime_warning(uri or want.props["authorizerUri"])
        outputs: dict[str, Any] = {"id": found["id"], "functionArn": function_arn(uri)}
        if warning:
            outputs["runtimeWarning"] = warning
        return Observed(
            key=want.key,
            id=found["id"],
            props={
                "restApiId": want.props["restApiId"],
                "name": found.get("name"),
                "type": found.get("type"),
                "authorizerUri": uri or None,
                "identitySource": found.get("identitySource"),
                "resultTtlSeconds": found.get("authorizerResultTtlInSeconds", 300),
            },
            tags=tags,
            outputs=outputs,
        )

    def observe(self, want: Desired) -> Observed | None:
        """Our authorizer by name in our REST API (and the function's runtime)."""
        rest_api_id = want.props["restApiId"]
        tags = rest_api_tags(self.client, rest_api_id)
        if tags is None:
            return None
        try:
            found = next(
                (a for a in self._authorizers(rest_api_id) if a.get("name") == want.props["name"]),
                None,
            )
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        if found is None:
            self._runtime_warning(want.props["authorizerUri"])  # a missing function fails early
            return None
        return self._observed(want, found, tags)

    def create(self, want: Desired) -> Observed:
        """CreateAuthorizer (after a look-up; the function must exist)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = want.props
        self.log_call("creating", want, type=p["type"], uri=p["authorizerUri"])
        with throttle_is_temporary("CreateAuthorizer"):
            made = self.client.create_authorizer(
                restApiId=p["restApiId"],
                name=p["name"],
                type=p["type"],
                authorizerUri=p["authorizerUri"],
                identitySource=p["identitySource"],
                authorizerResultTtlInSeconds=p["resultTtlSeconds"],
            )
        self.log_call("created", want, id=made["id"])
        return self._observed(want, made, rest_api_tags(self.client, p["restApiId"]) or {})

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateAuthorizer with a patch operation per differing field."""
        p = want.props
        ops: list[PatchOperationTypeDef] = [
            {
                "op": "replace",
                "path": path,
                "value": fmt_num(p[prop]) if isinstance(p[prop], int) else str(p[prop]),
            }
            for prop, path in _PATCHES
            if changed(deltas, prop)
        ]
        if not ops:
            return have
        self.log_call("updating", want, id=have.id, paths=[op["path"] for op in ops])
        with throttle_is_temporary("UpdateAuthorizer"):
            made = self.client.update_authorizer(
                restApiId=p["restApiId"], authorizerId=have.id, patchOperations=ops
            )
        return self._observed(want, made, have.tags)

    def delete(self, have: Observed) -> None:
        """DeleteAuthorizer; NotFound is success (the proxy methods are deleted before it)."""
        self.log_call("deleting", have, id=have.id)
        try:
            self.client.delete_authorizer(restApiId=have.props["restApiId"], authorizerId=have.id)
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise

    def list_owned(self, owner: str) -> list[Observed]:
        """None apart: an authorizer goes with its REST API (found by name while wanted)."""
        del owner
        return []
