"""Doctor checks on the `authorizer` hop: `authorizer-not-invokable` and
`authorizer-runtime-deprecated` (Lambda authorizers of REST and HTTP APIs). Pure functions.

AWS rules they follow:
- API Gateway invokes a Lambda authorizer either with the authorizer's credentials role or,
  without one, through the function's resource-based policy: a statement allowing
  `lambda:InvokeFunction` to the service principal `apigateway.amazonaws.com`, whose
  `AWS:SourceArn` condition must match the authorizer's ARN,
  `arn:aws:execute-api:REGION:ACCOUNT:API_ID/authorizers/AUTHORIZER_ID` (developer guide,
  "Control access to HTTP APIs with AWS Lambda authorizers" and "Use API Gateway Lambda
  authorizers", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
  Without it API Gateway answers 500 to every call; a missing function likewise.
- ArnLike/ArnEquals match each of the six colon-delimited components of the ARN separately,
  each with `*`/`?` wildcards; a condition key absent from the request makes the condition
  false (IAM User Guide, "IAM JSON policy elements: Condition operators",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
  Condition keys are case-insensitive. A condition on a key doctor does not model is taken as
  satisfied (never a false alarm).
- Deprecated runtimes and their deprecation dates: AWS Lambda developer guide, "Lambda
  runtimes", table "Deprecated runtimes" (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html),
  and "Runtime deprecation" (runtime-support-policy): after that date a runtime gets no security
  patches and functions on it get no technical support; later, creating and then updating such
  functions is blocked (field report 002: an authorizer that could no longer be deployed).
Neighbours: `apigw_common` (policies, wildcards), `controller.doctor.checks.apigw` (CHECKS).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from controller.doctor.checks.apigw_common import (
    arn_like,
    as_list,
    like,
    rest_methods,
    statements,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, finding

PRINCIPAL = "apigateway.amazonaws.com"
FUNCTION_IN_URI = re.compile(r"/functions/(arn:[^/]+)/invocations")

# Deprecation date per runtime identifier, from the "Lambda runtimes" page's "Deprecated
# runtimes" and "Supported runtimes" tables, as copied (with that page cited) by tflint-ruleset-aws
# (rules/aws_lambda_function_deprecated_runtime.go, late 2025); nodejs18.x's 2025-09-01 checked
# against AWS's notice. The table needs a look when AWS publishes new dates. A runtime is
# reported once its date has passed.
DEPRECATED_RUNTIMES: dict[str, dt.date] = {
    "nodejs": dt.date(2016, 10, 31),
    "nodejs4.3": dt.date(2020, 3, 5),
    "nodejs4.3-edge": dt.date(2020, 3, 5),
    "nodejs6.10": dt.date(2019, 8, 12),
    "nodejs8.10": dt.date(2020, 3, 6),
    "nodejs10.x": dt.date(2021, 7, 30),
    "nodejs12.x": dt.date(2023, 3, 31),
    "nodejs14.x": dt.date(2023, 12, 4),
    "nodejs16.x": dt.date(2024, 6, 12),
    "nodejs18.x": dt.date(2025, 9, 1),
    "nodejs20.x": dt.date(2026, 4, 30),
    "nodejs22.x": dt.date(2027, 4, 30),
    "python2.7": dt.date(2021, 7, 15),
    "python3.6": dt.date(2022, 7, 18),
    "python3.7": dt.date(2023, 12, 4),
    "python3.8": dt.date(2024, 10, 14),
    "python3.9": dt.date(2025, 12, 15),
    "python3.10": dt.date(2026, 6, 30),
    "python3.11": dt.date(2026, 6, 30),
    "python3.12": dt.date(2028, 10, 31),
    "java8": dt.date(2024, 1, 8),
    "java8.al2": dt.date(2026, 6, 30),
    "java11": dt.date(2026, 6, 30),
    "java17": dt.date(2026, 6, 30),
    "dotnetcore1.0": dt.date(2019, 7, 27),
    "dotnetcore2.0": dt.date(2019, 5, 30),
    "dotnetcore2.1": dt.date(2022, 1, 5),
    "dotnetcore3.1": dt.date(2023, 4, 3),
    "dotnet5.0": dt.date(2022, 5, 10),
    "dotnet6": dt.date(2024, 11, 12),
    "dotnet7": dt.date(2024, 5, 14),
    "dotnet8": dt.date(2026, 11, 10),
    "ruby2.5": dt.date(2021, 7, 30),
    "ruby2.7": dt.date(2023, 11, 27),
    "ruby3.2": dt.date(2026, 3, 31),
    "ruby3.3": dt.date(2027, 3, 31),
    "go1.x": dt.date(2024, 1, 8),
    "provided": dt.date(2024, 1, 8),
    "provided.al2": dt.date(2026, 6, 30),
}
REPLACEMENT = {
    "nodejs": "nodejs24.x",
    "python": "python3.13",
    "java": "java21",
    "dotnet": "dotnet10",
    "ruby": "ruby3.4",
    "go": "provided.al2023",
    "provided": "provided.al2023",
}


def deprecated_since(runtime: str, today: dt.date) -> dt.date | None:
    """The date `runtime` was deprecated, if that date is not after `today`."""
    date = DEPRECATED_RUNTIMES.get(runtime)
    return date if date is not None and date <= today else None


def replacement(runtime: str) -> str:
    """A supported runtime of the same language family."""
    for prefix, newer in REPLACEMENT.items():
        if runtime.startswith(prefix):
            return newer
    return "a supported runtime"


@dataclass(frozen=True)
class LambdaAuthorizer:
    """A Lambda authorizer of an API (v1 or v2) and the function it calls."""

    api: str
    authorizer: str
    name: str
    function: str  # the ARN in its URI (may carry a qualifier)
    role: str  # its credentials role ("" when API Gateway uses the function's policy)
    rest: bool


def _used(facts: Facts, api: str) -> set[str] | None:
    """The authorizer ids the API's methods or routes use; None when those were not read."""
    if api in facts.resources:
        return {
            str(m.shape["authorizerId"])
            for m in rest_methods(facts, api)
            if m.shape.get("authorizerId")
        }
    if api in facts.routes:
        return {str(r["AuthorizerId"]) for r in facts.routes[api] if r.get("AuthorizerId")}
    return None


def lambda_authorizers(facts: Facts) -> Iterator[LambdaAuthorizer]:
    """Every Lambda authorizer of the chain's APIs that a method or route uses."""
    for api, items in sorted(facts.authorizers.items()):
        used = _used(facts, api)
        rest = api in facts.rest_apis
        for a in items:
            auth_id = str(a.get("id") or a.get("AuthorizerId") or "")
            kind = str(a.get("type") or a.get("AuthorizerType") or "")
            uri = str(a.get("authorizerUri") or a.get("AuthorizerUri") or "")
            match = FUNCTION_IN_URI.search(uri)
            if kind not in ("TOKEN", "REQUEST") or match is None:
                continue
            if used is not None and auth_id not in used:
                continue
            role = str(a.get("authorizerCredentials") or a.get("AuthorizerCredentialsArn") or "")
            name = str(a.get("name") or a.get("Name") or auth_id)
            yield LambdaAuthorizer(api, auth_id, name, match.group(1), role, rest)


def _unqualified(function: str) -> str:
    """`arn:aws:lambda:R:A:function:NAME` without a `:VERSION`/`:ALIAS` qualifier."""
    parts = function.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else function


def source_arn(auth: LambdaAuthorizer) -> str:
    """The SourceArn API Gateway presents when it invokes the authorizer's function (same
    account and region as the function, the usual case; cross-account is not modelled)."""
    parts = auth.function.split(":")
    partition, region, account = parts[1], parts[3], parts[4]
    return (
        f"arn:{partition}:execute-api:{region}:{account}:{auth.api}/authorizers/{auth.authorizer}"
    )


def _principal_matches(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return PRINCIPAL in as_list(principal.get("Service")) or "*" in as_list(
            principal.get("AWS")
        )
    return False


def _action_matches(action: Any) -> bool:
    return any(like(a, "lambda:InvokeFunction", ignore_case=True) for a in as_list(action))


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """Whether every condition block holds for `context` (lower-cased key -> value).

    Keys doctor does not model count as satisfied; an operator it does not know likewise.
    """
    for raw_op, block in condition.items():
        op = raw_op.split(":")[-1].removesuffix("IfExists")
        for raw_key, raw_values in (block or {}).items():
            key = raw_key.lower()
            if key not in context:
                continue
            value, values = context[key], as_list(raw_values)
            if op in ("ArnLike", "ArnEquals"):
                ok = any(arn_like(v, value) for v in values)
            elif op in ("ArnNotLike", "ArnNotEquals"):
                ok = not any(arn_like(v, value) for v in values)
            elif op == "StringEquals":
                ok = value in values
            elif op == "StringNotEquals":
                ok = value not in values
            elif op == "StringLike":
                ok = any(like(v, value) for v in values)
            elif op == "StringNotLike":
                ok = not any(like(v, value) for v in values)
            else:
                ok = True
            if not ok:
                return False
    return True


def invoke_allowed(policy: dict[str, Any], function: str, source: str) -> bool:
    """Whether the function's resource policy lets API Gateway invoke it from `source`."""
    account = source.split(":")[4] if source.count(":") >= 5 else ""
    context = {"aws:sourcearn": source, "aws:sourceaccount": account}
    resources = {function, _unqualified(function)}
    allowed = denied = False
    for st in statements(policy):
        if not _principal_matches(st.get("Principal")) or not _action_matches(st.get("Action")):
            continue
        wanted = as_list(st.get("Resource")) or ["*"]
        if not any(arn_like(w, r) or w == "*" for w in wanted for r in resources):
            continue
        if not _condition_holds(st.get("Condition") or {}, context):
            continue
        if st.get("Effect") == "Deny":
            denied = True
        elif st.get("Effect") == "Allow":
            allowed = True
    return allowed and not denied


def _function(facts: Facts, arn: str) -> tuple[bool, Shape | None]:
    """(read, configuration) of a function by its ARN or unqualified ARN."""
    for key in (arn, _unqualified(arn)):
        if key in facts.functions:
            return True, facts.functions[key]
    return False, None


def authorizer_not_invokable(facts: Facts) -> list[Finding]:
    """`authorizer-not-invokable`: a Lambda authorizer's function does not exist, or (when the
    authorizer has no credentials role) its resource policy has no statement that lets
    apigateway.amazonaws.com invoke it with this authorizer's SourceArn."""
    if facts.unknown_on("authorizer"):
        return []
    found: list[Finding] = []
    for auth in lambda_authorizers(facts):
        read, config = _function(facts, auth.function)
        if not read:
            continue
        source = source_arn(auth)
        api_flag = "--rest-api-id" if auth.rest else "--api-id"
        service = "apigateway" if auth.rest else "apigatewayv2"
        if config is None:
            what = f"calls Lambda function {auth.function}, which does not exist"
            cli = (
                f"aws {service} update-authorizer {api_flag} {auth.api} --authorizer-id "
                f"{auth.authorizer} --patch-operations op=replace,path=/authorizerUri,"
                "value=AUTHORIZER_URI_OF_AN_EXISTING_FUNCTION"
                if auth.rest
                else f"aws {service} update-authorizer {api_flag} {auth.api} --authorizer-id "
                f"{auth.authorizer} --authorizer-uri AUTHORIZER_URI_OF_AN_EXISTING_FUNCTION"
            )
            spec = "set spec.api.authorizer.lambdaArn to a function that exists"
        else:
            if auth.role:
                continue  # API Gateway assumes the role; the function's policy is not used
            key = (
                auth.function
                if auth.function in facts.function_policies
                else _unqualified(auth.function)
            )
            if key not in facts.function_policies:
                continue
            policy = facts.function_policies[key]
            if policy is not None and invoke_allowed(policy, auth.function, source):
                continue
            what = (
                f"calls Lambda function {auth.function}, whose resource policy "
                + ("does not exist" if policy is None else "has no statement")
                + f" allowing {PRINCIPAL} to invoke it from {source}"
            )
            cli = (
                f"aws lambda add-permission --function-name {auth.function} --statement-id "
                f"apigateway-{auth.api}-{auth.authorizer} --action lambda:InvokeFunction "
                f"--principal {PRINCIPAL} --source-arn {source}"
            )
            spec = (
                "no spec field: `psctl apply -f` adds the permission for "
                "spec.api.authorizer.lambdaArn again"
            )
        found.append(
            finding(
                "authorizer-not-invokable",
                "authorizer",
                auth.function,
                f"authorizer {auth.name} ({auth.authorizer}) of API {auth.api} {what}",
                why=(
                    "API Gateway calls the authorizer before every request reaches the "
                    "backend; when it cannot invoke the function every call fails with 500 "
                    "(field report 002)."
                ),
                fix_spec=spec,
                fix_cli=cli,
            )
        )
    return found


def authorizer_runtime_deprecated(facts: Facts, today: dt.date | None = None) -> list[Finding]:
    """`authorizer-runtime-deprecated`: a Lambda authorizer's function runs a runtime whose
    deprecation date (AWS Lambda "Lambda runtimes" page) has passed."""
    if facts.unknown_on("authorizer"):
        return []
    day = today or dt.datetime.now(dt.UTC).date()
    found: list[Finding] = []
    seen: set[str] = set()
    for auth in lambda_authorizers(facts):
        _, config = _function(facts, auth.function)
        runtime = str((config or {}).get("Runtime") or "")
        since = deprecated_since(runtime, day)
        if since is None or auth.function in seen:
            continue
        seen.add(auth.function)
        newer = replacement(runtime)
        found.append(
            finding(
                "authorizer-runtime-deprecated",
                "authorizer",
                auth.function,
                f"authorizer {auth.name} ({auth.authorizer}) of API {auth.api} runs Lambda "
                f"function {auth.function} on {runtime}, deprecated since {since.isoformat()}",
                why=(
                    "A deprecated runtime gets no security patches, and AWS then blocks "
                    "creating and updating functions on it: the authorizer that guards every "
                    "request can no longer be fixed or redeployed (field report 002)."
                ),
                fix_spec=(
                    "the function is not the spec's: move it to "
                    f"{newer}, or set spec.api.authorizer.lambdaArn to a function on a "
                    "supported runtime"
                ),
                fix_cli=(
                    f"aws lambda update-function-configuration --function-name {auth.function} "
                    f"--runtime {newer}"
                ),
            )
        )
    return found
