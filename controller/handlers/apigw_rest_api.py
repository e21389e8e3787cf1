"""The REST API (v1) itself, plus the v1-only helpers other `apigw_*` handlers use.

The REST API is found by its deterministic name (`<namespace>/<name>`) among GetRestApis,
preferring the one carrying our owner tag; description, API key source, endpoint type and the
resource policy are updated in place with one UpdateRestApi. The policy is compared as parsed
JSON in a canonical form: AWS stores it as an escaped string, expands `execute-api:/*` to the
API's ARN and may turn one-element lists into scalars (`canonical_policy`). Its tags are the
ownership of everything that lives inside it and cannot be tagged itself (the proxy methods,
deployments): see `apigw_proxy` and `apigw_stage`. What it shares with the HTTP API (look-up by
name, create, delete, list_owned) is `apigw_common.NamedHandler`.
Neighbours: `apigw_common` (the base, paging, tags), `apigwv2_api` (the HTTP API),
`controller.model.build` (desired props).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from controller.handlers.apigw_common import PAGE, V1, NamedHandler, Parent, tags_of
from controller.handlers.base import Delta, Desired, Observed, changed, diff_props, props_as
from controller.model import kinds
from controller.model.props_api import RestApi

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        CreateRestApiRequestTypeDef,
        PatchOperationTypeDef,
        RestApiResponseTypeDef,
        RestApiTypeDef,
    )

_API_ARN = re.compile(r"^arn:[^:]+:execute-api:[^:]*:[^:]*:[^/]+/")


def parse_policy(raw: str | None) -> Any:
    """A stored resource policy as JSON; AWS returns it escaped (`{\\"Version\\": ...}`)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        try:
            return json.loads(json.loads(f'"{raw}"'))
        except json.JSONDecodeError:
            return raw  # not JSON at all: reported as it is, hence drift


def canonical_policy(doc: Any) -> Any:
    """A policy in the form AWS may store it in: one-element lists as scalars, lists sorted,
    `arn:aws:execute-api:<region>:<account>:<api>/...` resources as `execute-api:/...`."""
    if isinstance(doc, Mapping):
        return {str(k): canonical_policy(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        items = [canonical_policy(v) for v in doc]
        if len(items) == 1:
            return items[0]
        if all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    if isinstance(doc, str):
        return _API_ARN.sub("execute-api:/", doc)
    return doc


def fmt_num(value: float) -> str:
    """A number as a patch-operation value: integral floats without `.0` (`50.0` -> `"50"`)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fmt_bool(value: bool) -> str:
    """A boolean as a patch-operation value."""
    return "true" if value else "false"


def rest_apis(client: APIGatewayClient) -> Iterator[RestApiTypeDef]:
    """Every REST API of the account and region: one list that every spec's pass shares."""
    for page in client.get_paginator("get_rest_apis").paginate(PaginationConfig=PAGE):
        yield from page.get("items", [])


def rest_api_tags(client: APIGatewayClient, rest_api_id: str) -> dict[str, str] | None:
    """The tags of a REST API (the ownership of what lives inside it), or None when it is gone.

    Read from the account's list of APIs, which every spec's pass shares, rather than one
    GetRestApi per API per resource (the proxy, the deployment, the stage, the authorizer).
    """
    found = next((api for api in rest_apis(client) if api.get("id") == rest_api_id), None)
    return None if found is None else tags_of(found)


REST_API = Parent("restApiId", rest_api_tags)
"""Where objects inside a REST API without tags of their own (authorizers) find their owner."""


def endpoint_type(item: Mapping[str, Any]) -> str | None:
    """The endpoint type of a REST API or a domain name (`endpointConfiguration.types[0]`)."""
    types = item.get("endpointConfiguration", {}).get("types") or []
    return str(types[0]) if types else None


class RestApiHandler(NamedHandler):
    """`apigw.rest_api`: props {name, description, endpointType, apiKeySource, policy | None}."""

    kind = kinds.APIGW_REST_API
    owned_key = "rest-api"
    spelling = V1.of("RestApi")
    create_delay, delete_delay = 3.0, 30.0
    client: APIGatewayClient

    def props_of(self, want: Desired) -> RestApi:
        """The desired props as `RestApi` (`controller.model.props_api`)."""
        return props_as(want, RestApi)

    def _live(self) -> Iterator[RestApiTypeDef]:
        return rest_apis(self.client)

    def _observed(self, key: str, api: RestApiTypeDef | RestApiResponseTypeDef) -> Observed:
        props = {
            "name": api.get("name"),
            "description": api.get("description"),
            "endpointType": endpoint_type(api),
            "apiKeySource": api.get("apiKeySource"),
            "policy": canonical_policy(parse_policy(api.get("policy"))),
        }
        return self._seen(key, api, props, rootResourceId=api.get("rootResourceId"))

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas, the policy compared in canonical form (see `canonical_policy`)."""
        props = dict(want.props)
        props["policy"] = canonical_policy(props.get("policy"))
        deltas = diff_props({k: v for k, v in props.items() if k != "policy"}, have.props)
        if props["policy"] != have.props.get("policy"):
            deltas.append(Delta("policy", props["policy"], have.props.get("policy")))
        return deltas

    def _make(self, want: Desired) -> RestApiResponseTypeDef:
        p = self.props_of(want)
        request: CreateRestApiRequestTypeDef = {
            "name": p["name"],
            "description": p["description"],
            "apiKeySource": p["apiKeySource"],
            "endpointConfiguration": {"types": [p["endpointType"]]},
            "tags": dict(want.tags),
        }
        if p.get("policy") is not None:
            request["policy"] = json.dumps(p["policy"])
        return self.client.create_rest_api(**request)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateRestApi with a patch operation per differing field."""
        p = self.props_of(want)
        ops: list[PatchOperationTypeDef] = []
        if changed(deltas, "description"):
            ops.append({"op": "replace", "path": "/description", "value": p["description"]})
        if changed(deltas, "apiKeySource"):
            ops.append({"op": "replace", "path": "/apiKeySource", "value": p["apiKeySource"]})
        if changed(deltas, "endpointType"):
            current = have.props.get("endpointType") or "EDGE"
            ops.append(
                {
                    "op": "replace",
                    "path": f"/endpointConfiguration/types/{current}",
                    "value": p["endpointType"],
                }
            )
        if changed(deltas, "policy"):
            policy = p.get("policy")
            value = "" if policy is None else json.dumps(policy)
            ops.append({"op": "replace", "path": "/policy", "value": value})
        return self._update(want, have, ops)

    def _send_update(
        self, want: Desired, have: Observed, changes: list[PatchOperationTypeDef]
    ) -> RestApiResponseTypeDef:
        return self.client.update_rest_api(restApiId=have.id, patchOperations=changes)

    def _send_delete(self, have: Observed) -> None:
        """Delete the API and everything in it."""
        self.client.delete_rest_api(restApiId=have.id)
