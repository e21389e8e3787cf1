"""The HTTP API (API Gateway v2) itself, plus the helpers every `apigwv2_*` handler shares.

The API is found by its deterministic name (`<namespace>/<name>`) among GetApis, preferring the
one carrying our owner tag (GetApis also lists WebSocket APIs; only HTTP ones are candidates).
Description and `disableExecuteApiEndpoint` are updated in place with UpdateApi; the protocol
cannot change: replacement. Its tags are the ownership of what lives inside it and takes no tags
itself (the integration, the routes): see `apigwv2_integration` and `apigwv2_route`. Deleting
the API deletes everything in it. API Gateway v2 spells fields in PascalCase (boto3's shapes),
unlike v1. Neighbours: `controller.handlers.base` (contract), `apigw_rest_api`
(`throttle_is_temporary`), `controller.model.http_api` (desired props).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.apigw_rest_api import throttle_is_temporary
from controller.handlers.base import Delta, Desired, Handler, Observed, changed, error_code

NOT_FOUND = "NotFoundException"


def tags_of(item: Mapping[str, Any]) -> dict[str, str]:
    """The `Tags` map of an API Gateway v2 object."""
    raw = item.get("Tags")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def paged(call: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a v2 list operation, following NextToken (GetVpcLinks has no paginator)."""
    token: str | None = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get("Items", [])
        token = page.get("NextToken")
        if not token:
            return


def pick_named(items: Iterable[dict[str, Any]], name: str, owner: str) -> dict[str, Any] | None:
    """The item whose `Name` is `name`, preferring one with our owner tag; None when none is.

    A same-named item without our tag is still returned: its tags tell the engine it is not ours.
    """
    same = [item for item in items if item.get("Name") == name]
    owned = [item for item in same if ownership.is_owned(tags_of(item), owner)]
    candidates = owned or same
    return candidates[0] if candidates else None


def api_tags(client: Any, api_id: str) -> dict[str, str] | None:
    """The tags of an HTTP API (the ownership of what lives inside it), or None when it is gone."""
    try:
        api = client.get_api(ApiId=api_id)
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise
    return tags_of(api)


class HttpApiHandler(Handler):
    """`apigwv2.api`: props {name, description, protocolType, disableExecuteApiEndpoint}."""

    kind = "apigwv2.api"
    service = "apigatewayv2"
    replace_on = ("protocolType",)
    identity = ("name",)
    single_instance = True

    def _all(self) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("get_apis").paginate():
            for api in page.get("Items", []):
                if api.get("ProtocolType") == "HTTP":
                    yield api

    def _observed(self, key: str, api: Mapping[str, Any]) -> Observed:
        return Observed(
            key=key,
            id=api["ApiId"],
            props={
                "name": api.get("Name"),
                "description": api.get("Description"),
                "protocolType": api.get("ProtocolType"),
                "disableExecuteApiEndpoint": bool(api.get("DisableExecuteApiEndpoint", False)),
            },
            tags=tags_of(api),
            outputs={"id": api["ApiId"], "apiEndpoint": api.get("ApiEndpoint")},
        )

    def observe(self, want: Desired) -> Observed | None:
        """The HTTP API with our name among GetApis, preferring ours."""
        api = pick_named(self._all(), want.props["name"], want.owner)
        return None if api is None else self._observed(want.key, api)

    def create(self, want: Desired) -> Observed:
        """Create the API (after a look-up: a retry must not make a second one)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = want.props
        self.log_call("creating", want, name=p["name"])
        with self.creating(want), throttle_is_temporary("CreateApi"):
            api = self.client.create_api(
                Name=p["name"],
                Description=p["description"],
                ProtocolType=p["protocolType"],
                DisableExecuteApiEndpoint=p["disableExecuteApiEndpoint"],
                Tags=dict(want.tags),
            )
        self.log_call("created", want, id=api["ApiId"])
        return self._observed(want.key, api)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateApi with the fields that differ."""
        p = want.props
        fields: dict[str, Any] = {}
        if changed(deltas, "description"):
            fields["Description"] = p["description"]
        if changed(deltas, "disableExecuteApiEndpoint"):
            fields["DisableExecuteApiEndpoint"] = p["disableExecuteApiEndpoint"]
        if not fields:
            return have
        self.log_call("updating", want, id=have.id, fields=sorted(fields))
        with throttle_is_temporary("UpdateApi"):
            api = self.client.update_api(ApiId=have.id, **fields)
        return replace(self._observed(want.key, api), tags=have.tags)

    def delete(self, have: Observed) -> None:
        """Delete the API and everything in it; NotFound is success."""
        self.log_call("deleting", have, id=have.id)
        try:
            with throttle_is_temporary("DeleteApi", 30):
                self.client.delete_api(ApiId=have.id)
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise

    def list_owned(self, owner: str) -> list[Observed]:
        """Every HTTP API carrying our owner tag."""
        return [
            self._observed("http-api", api)
            for api in self._all()
            if ownership.is_owned(tags_of(api), owner)
        ]
