"""The REST API (v1) itself, plus the small helpers every API Gateway handler shares.

The REST API is found by its deterministic name (`<namespace>/<name>`) among GetRestApis,
preferring the one carrying our owner tag; description, API key source, endpoint type and the
resource policy are updated in place with one UpdateRestApi. The policy is compared as parsed
JSON in a canonical form: AWS stores it as an escaped string, expands `execute-api:/*` to the
API's ARN and may turn one-element lists into scalars (`canonical_policy`). Its tags are the
ownership of everything that lives inside it and cannot be tagged itself (the proxy methods,
deployments): see `apigw_proxy` and `apigw_stage`. `apigw_vpc_link` and `apigw_usage` reuse the
helpers here.
Neighbours: `controller.handlers.base` (contract), `controller.model.build` (desired props).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    changed,
    diff_props,
    error_code,
)

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        PaginatorConfigTypeDef,
        PatchOperationTypeDef,
        RestApiResponseTypeDef,
        RestApiTypeDef,
    )

THROTTLED = "TooManyRequestsException"
PAGE: PaginatorConfigTypeDef = {"PageSize": 500}
"""API Gateway lists 25 items a page unless asked for more; 500 is the most it gives
(`limit`, https://docs.aws.amazon.com/apigateway/latest/api/API_GetRestApis.html). Every caller
asks for the same pages, so that the read snapshot (`controller.aws.cache`) serves them all."""
_T = TypeVar("_T", bound=Mapping[str, object])
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


def tags_of(item: Mapping[str, object]) -> dict[str, str]:
    """The `tags` map of an API Gateway object (they all spell tags as a plain map)."""
    raw = item.get("tags")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def pick_named(items: Iterable[_T], name: str, owner: str) -> _T | None:
    """The item called `name`, preferring one with our owner tag; None when none has the name.

    A same-named item without our tag is still returned: its tags tell the engine it is not ours.
    """
    same = [item for item in items if item.get("name") == name]
    owned = [item for item in same if ownership.is_owned(tags_of(item), owner)]
    candidates = owned or same
    return candidates[0] if candidates else None


def fmt_num(value: float) -> str:
    """A number as a patch-operation value: integral floats without `.0` (`50.0` -> `"50"`)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fmt_bool(value: bool) -> str:
    """A boolean as a patch-operation value."""
    return "true" if value else "false"


@contextmanager
def throttle_is_temporary(what: str, delay: float = 5.0) -> Iterator[None]:
    """Turn API Gateway's TooManyRequests (after botocore's retries) into a TemporaryError.

    API Gateway's control plane allows 10 calls/s and far less for some operations
    (UpdateUsagePlan 1 per 20 s, DeleteRestApi 1 per 30 s, CreateDeployment 1 per 5 s).
    """
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == THROTTLED:
            raise TemporaryError(f"{what}: throttled by API Gateway", delay) from exc
        raise


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


def _endpoint_type(api: RestApiTypeDef | RestApiResponseTypeDef) -> str | None:
    types = api.get("endpointConfiguration", {}).get("types") or []
    return types[0] if types else None


class RestApiHandler(Handler):
    """`apigw.rest_api`: props {name, description, endpointType, apiKeySource, policy | None}."""

    kind = "apigw.rest_api"
    service = "apigateway"
    identity = ("name",)
    single_instance = True
    client: APIGatewayClient

    def _all(self) -> Iterator[RestApiTypeDef]:
        return rest_apis(self.client)

    def _observed(self, key: str, api: RestApiTypeDef | RestApiResponseTypeDef) -> Observed:
        return Observed(
            key=key,
            id=api["id"],
            props={
                "name": api.get("name"),
                "description": api.get("description"),
                "endpointType": _endpoint_type(api),
                "apiKeySource": api.get("apiKeySource"),
                "policy": canonical_policy(parse_policy(api.get("policy"))),
            },
            tags=tags_of(api),
            outputs={"id": api["id"], "rootResourceId": api.get("rootResourceId")},
        )

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas, the policy compared in canonical form (see `canonical_policy`)."""
        props = dict(want.props)
        props["policy"] = canonical_policy(props.get("policy"))
        deltas = diff_props({k: v for k, v in props.items() if k != "policy"}, have.props)
        if props["policy"] != have.props.get("policy"):
            deltas.append(Delta("policy", props["policy"], have.props.get("policy")))
        return deltas

    def observe(self, want: Desired) -> Observed | None:
        """The API with our name among GetRestApis, preferring ours."""
        api = pick_named(self._all(), want.props["name"], want.owner)
        return None if api is None else self._observed(want.key, api)

    def create(self, want: Desired) -> Observed:
        """Create the API (after a look-up: a retry must not make a second one)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = want.props
        self.log_call("creating", want, name=p["name"])
        extra: dict[str, Any] = (
            {"policy": json.dumps(p["policy"])} if p.get("policy") is not None else {}
        )
        with self.creating(want), throttle_is_temporary("CreateRestApi", 3):
            api = self.client.create_rest_api(
                name=p["name"],
                description=p["description"],
                apiKeySource=p["apiKeySource"],
                endpointConfiguration={"types": [p["endpointType"]]},
                tags=dict(want.tags),
                **extra,
            )
        self.log_call("created", want, id=api["id"])
        return self._observed(want.key, api)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateRestApi with a patch operation per differing field."""
        p = want.props
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
        if not ops:
            return have
        self.log_call("updating", want, id=have.id, paths=[op["path"] for op in ops])
        with throttle_is_temporary("UpdateRestApi"):
            api = self.client.update_rest_api(restApiId=have.id, patchOperations=ops)
        return self._observed(want.key, api)

    def delete(self, have: Observed) -> None:
        """Delete the API and everything in it; NotFound is success."""
        self.log_call("deleting", have, id=have.id)
        try:
            with throttle_is_temporary("DeleteRestApi", 30):
                self.client.delete_rest_api(restApiId=have.id)
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise

    def list_owned(self, owner: str) -> list[Observed]:
        """Every REST API carrying our owner tag."""
        return [
            self._observed("rest-api", api)
            for api in self._all()
            if ownership.is_owned(tags_of(api), owner)
        ]
