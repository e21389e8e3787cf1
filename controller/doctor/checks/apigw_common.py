"""Shared reading of API Gateway facts for the `apigw` checks: stages, integrations, ARNs, policies.

Pure helpers over `Facts` (boto3 shapes): which APIs and stages the chain has (REST v1 spells
`stageName`, HTTP v2 `StageName`), the REST API's methods and their integrations (GetResources
with `embed=["methods"]`), HTTP API integrations, the load balancer a listener ARN belongs to,
the port of an integration URI, resource policies as AWS returns them (a JSON string, sometimes
with its quotes escaped), and IAM wildcard matching (`*` any run of characters, `?` one).
Neighbours: `apigw_links`, `apigw_stage`, `apigw_auth`, `apigw_private` (the checks that use
them), `controller.doctor.facts`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from controller.doctor.facts import Facts, Shape

OWNER_TAG = "privateservice.io/owner"
DEFAULT_PORTS = {"http": 80, "https": 443}
STAGE_VARIABLE = re.compile(r"^\$\{stageVariables\.([A-Za-z0-9_]+)\}$")


@dataclass(frozen=True)
class RestIntegration:
    """One method of a REST API and its integration (GetResources embed=methods)."""

    api: str
    resource_id: str
    path: str
    method: str
    shape: Shape  # the method (authorizationType, apiKeyRequired, authorizerId, ...)
    integration: Shape  # its methodIntegration ({} when it has none)


def stage_name(stage: Shape) -> str:
    """The stage's name in either spelling (v1 `stageName`, v2 `StageName`)."""
    return str(stage.get("stageName") or stage.get("StageName") or "")


def rest_stages(facts: Facts) -> Iterator[tuple[str, Shape]]:
    """(REST API id, stage) for every diagnosed stage of a REST API."""
    for api, stages in facts.stages.items():
        if api in facts.rest_apis:
            for stage in stages:
                yield api, stage


def http_stages(facts: Facts) -> Iterator[tuple[str, Shape]]:
    """(HTTP API id, stage) for every diagnosed stage of an HTTP API."""
    for api, stages in facts.stages.items():
        if api in facts.http_apis:
            for stage in stages:
                yield api, stage


def rest_methods(facts: Facts, api: str) -> Iterator[RestIntegration]:
    """Every method of the REST API with its integration (none when resources were not read)."""
    for resource in facts.resources.get(api, []):
        for verb, method in (resource.get("resourceMethods") or {}).items():
            yield RestIntegration(
                api,
                str(resource.get("id", "")),
                str(resource.get("path", "")),
                str(method.get("httpMethod") or verb),
                method,
                method.get("methodIntegration") or {},
            )


def resolve(value: str, stage: Shape | None) -> str | None:
    """`value`, or the stage variable it names (`${stageVariables.x}`); None when unresolved."""
    match = STAGE_VARIABLE.match(value)
    if match is None:
        return value if "${" not in value else None
    if stage is None:
        return None
    found = (stage.get("variables") or {}).get(match.group(1))
    return str(found) if found is not None else None


def uri_port(uri: str) -> int | None:
    """The TCP port an HTTP(S) integration URI connects to (the scheme's default when none)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if port is not None:
        return port
    return DEFAULT_PORTS.get(parts.scheme.lower())


def listener_lb_arn(listener_arn: str) -> str | None:
    """The load balancer ARN a listener ARN belongs to; None for anything else.

    `arn:aws:elasticloadbalancing:R:A:listener/net/NAME/LBID/LISTENERID` belongs to
    `arn:aws:elasticloadbalancing:R:A:loadbalancer/net/NAME/LBID` (ELB ARN formats).
    """
    head, sep, resource = listener_arn.rpartition(":")
    parts = resource.split("/")
    if not sep or ":elasticloadbalancing:" not in head or len(parts) != 5:
        return None
    if parts[0] != "listener":
        return None
    return f"{head}:loadbalancer/{parts[1]}/{parts[2]}/{parts[3]}"


def hop_resources(facts: Facts, *hops: str) -> list[str]:
    """The resources discovered on these hops, in chain order."""
    return [h.resource for h in facts.hops if h.hop in hops]


def lb_name(facts: Facts, arn: str) -> str:
    """A load balancer's name (from its shape, else from its ARN)."""
    shape = facts.load_balancers.get(arn)
    if shape and shape.get("LoadBalancerName"):
        return str(shape["LoadBalancerName"])
    parts = arn.split("/")
    return parts[-2] if len(parts) >= 3 else arn


def owned_by(facts: Facts, shape: Shape) -> bool:
    """Whether an API Gateway object (tags as a map) carries this chain's owner tag."""
    return facts.owned and (shape.get("tags") or shape.get("Tags") or {}).get(OWNER_TAG) == (
        facts.target
    )


def load_policy(raw: Any) -> dict[str, Any] | None:
    """A resource policy as a dict, from the JSON string AWS returns (None when there is none).

    API Gateway's GetRestApi returns `policy` as a JSON string whose quotes may come escaped
    (`{\\"Version\\":...}`); a policy that cannot be parsed is None too.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    for candidate in (text, text.replace('\\"', '"').replace("\\/", "/")):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, str):
            return load_policy(value)
        if isinstance(value, dict):
            return value
    return None


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's statements as a list (a single statement may be given as an object)."""
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else [s for s in found if isinstance(s, dict)]


def as_list(value: Any) -> list[str]:
    """A policy value that may be one string or a list of strings, as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


@lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    )


def like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM `StringLike`: `*` matches any run of characters, `?` exactly one (case-sensitive)."""
    flags_pattern = pattern.lower() if ignore_case else pattern
    flags_value = value.lower() if ignore_case else value
    return _glob(flags_pattern).fullmatch(flags_value) is not None


def arn_like(pattern: str, arn: str) -> bool:
    """IAM `ArnLike`/`ArnEquals`: each of the six colon-delimited components is matched
    separately, each may hold `*` and `?` (IAM User Guide, "IAM JSON policy elements: Condition
    operators", ARN condition operators). A wildcard never spans a colon of the first five."""
    want = pattern.split(":", 5)
    have = arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return pattern in ("*", arn)
    return all(like(w, h) for w, h in zip(want, have, strict=True))


def short(items: list[str], limit: int = 4) -> str:
    """A comma-separated list, with "(+N more)" past `limit`."""
    shown = ", ".join(items[:limit])
    return f"{shown} (+{len(items) - limit} more)" if len(items) > limit else shown
