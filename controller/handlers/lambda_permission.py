"""The statement in a Lambda function's resource policy that lets our REST API invoke it.

The function is not ours (the authorizer of seed 002): only our statement is. It is identified
by a deterministic StatementId (`ps-<namespace>-<name>-apigw-invoke`), which is how it is found
(GetPolicy) and why it counts as ours: Lambda policy statements carry no tags. The statement
admits `apigateway.amazonaws.com` with SourceArn `arn:aws:execute-api:<region>:<account>:<api>/*`
(the account from STS, the region the API's). A statement cannot be changed: a different API,
principal or action means RemovePermission then AddPermission (replacement).
Neighbours: `apigw_authorizer` (the authorizer that calls the function), `base` (contract).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.handlers import clients
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import LambdaPermission

if TYPE_CHECKING:
    from types_boto3_lambda import LambdaClient

NOT_FOUND = "ResourceNotFoundException"


class LambdaPermissionHandler(Handler):
    """`lambda.permission`: props {functionArn, statementId, principal, action, restApiId}."""

    kind = kinds.LAMBDA_PERMISSION
    client: LambdaClient
    service = "lambda"
    replace_on = ("functionArn", "principal", "action", "restApiId")
    not_found_codes = (NOT_FOUND,)
    identity = ("functionArn", "statementId")

    _account: str | None = None

    def props_of(self, want: Desired) -> LambdaPermission[Known]:
        """The desired props as `LambdaPermission` (`controller.model.props_api`)."""
        return props_as(want, LambdaPermission[Known])

    def _source_arn_prefix(self) -> str:
        """`arn:<partition>:execute-api:<region>:<account>:` for the API's account and region."""
        if self._account is None:
            self._account = str(clients.sts(self.aws).get_caller_identity()["Account"])
        partition = clients.sts(self.aws).meta.partition
        return f"arn:{partition}:execute-api:{self.aws.region}:{self._account}:"

    def source_arn(self, rest_api_id: str) -> str:
        """Every stage, method and path of the API."""
        return f"{self._source_arn_prefix()}{rest_api_id}/*"

    def _api_of(self, source_arn: str | None) -> str | None:
        """The API id of a SourceArn of ours; the raw ARN when it is anything else (drift)."""
        if source_arn is None:
            return None
        prefix = self._source_arn_prefix()
        if source_arn.startswith(prefix) and source_arn.endswith("/*"):
            rest = source_arn[len(prefix) : -2]
            if rest and "/" not in rest:
                return rest
        return source_arn

    def _statements(self, function: str) -> list[dict[str, Any]]:
        """The statements of the function's resource policy; [] when it has none.

        A missing function raises NotFound too: the caller says which field names it.
        """
        try:
            raw = self.client.get_policy(FunctionName=function)["Policy"]
        except ClientError as exc:
            if error_code(exc) != NOT_FOUND:
                raise
            self.client.get_function_configuration(FunctionName=function)  # is it the function?
            return []
        statements = json.loads(raw).get("Statement", [])
        return [statements] if isinstance(statements, dict) else list(statements)

    def observe(self, want: Desired) -> Observed | None:
        """Our statement (by StatementId) in the function's policy."""
        p = self.props_of(want)
        try:
            statements = self._statements(p["functionArn"])
        except ClientError as exc:
            if self.is_not_found(exc):
                return None  # the authorizer reports the missing function
            raise
        found = next((s for s in statements if s.get("Sid") == p["statementId"]), None)
        if found is None:
            return None
        principal = found.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("Service", principal)
        condition = found.get("Condition", {}).get("ArnLike", {})
        source = condition.get("AWS:SourceArn", condition.get("aws:SourceArn"))
        action = found.get("Action")
        return Observed(
            key=want.key,
            id=p["statementId"],
            props={
                "functionArn": p["functionArn"],
                "statementId": found.get("Sid"),
                "principal": principal,
                "action": action[0] if isinstance(action, list) and len(action) == 1 else action,
                "restApiId": self._api_of(source),
            },
            tags=dict(want.tags),  # the deterministic StatementId is the ownership
            outputs={"id": p["statementId"]},
        )

    def create(self, want: Desired) -> Observed:
        """AddPermission (after a look-up; the StatementId makes a retry conflict, not repeat)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = self.props_of(want)
        source = self.source_arn(p["restApiId"])
        self.log_call("adding permission", want, function=p["functionArn"], sourceArn=source)
        try:
            self.client.add_permission(
                FunctionName=p["functionArn"],
                StatementId=p["statementId"],
                Action=p["action"],
                Principal=p["principal"],
                SourceArn=source,
            )
        except ClientError as exc:
            if error_code(exc) != "ResourceConflictException":  # added by a retry before us
                raise
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing is updatable in place (every field means replacement)."""
        del want, deltas
        return have

    def delete(self, have: Observed) -> None:
        """RemovePermission; NotFound (statement or function gone) is success."""
        self.log_call("removing permission", have, function=have.props["functionArn"])
        try:
            self.client.remove_permission(
                FunctionName=have.props["functionArn"], StatementId=have.id
            )
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise
