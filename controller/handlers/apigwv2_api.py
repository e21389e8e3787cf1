"""The HTTP API (API Gateway v2) itself, plus `api_tags`, which the `apigwv2_*` handlers share.

The API is found by its deterministic name (`<namespace>/<name>`) among GetApis, preferring the
one carrying our owner tag (GetApis also lists WebSocket APIs; only HTTP ones are candidates).
Description and `disableExecuteApiEndpoint` are updated in place with UpdateApi; the protocol
cannot change: replacement. Its tags are the ownership of what lives inside it and takes no tags
itself (the integration, the routes): see `apigwv2_integration` and `apigwv2_route`. Deleting
the API deletes everything in it. API Gateway v2 spells fields in PascalCase (boto3's shapes),
unlike v1: what it shares with the REST API is `apigw_common.NamedHandler`, with `V2`'s spelling.
Neighbours: `apigw_common` (the base), `apigw_rest_api` (the REST API),
`controller.model.http_api` (desired props).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from controller.handlers.apigw_common import V2, NamedHandler, Parent, tags_of
from controller.handlers.base import Delta, Desired, Observed, changed, error_code, props_as
from controller.model import kinds
from controller.model.props_api import HttpApi

if TYPE_CHECKING:
    from types_boto3_apigatewayv2 import ApiGatewayV2Client
    from types_boto3_apigatewayv2.type_defs import ApiTypeDef, CreateApiResponseTypeDef

NOT_FOUND = "NotFoundException"
FIELDS = {"name": "Name", "description": "Description", "protocolType": "ProtocolType"}
"""Props read as they are, and how GetApis spells them."""
UPDATABLE: dict[Literal["description", "disableExecuteApiEndpoint"], str] = {
    "description": "Description",
    "disableExecuteApiEndpoint": "DisableExecuteApiEndpoint",
}
"""Props UpdateApi changes in place, and how it spells them."""


def api_tags(client: ApiGatewayV2Client, api_id: str) -> dict[str, str] | None:
    """The tags of an HTTP API (the ownership of what lives inside it), or None when it is gone."""
    try:
        api = client.get_api(ApiId=api_id)
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise
    return tags_of(api, V2)


HTTP_API = Parent("apiId", api_tags)
"""Where objects inside an HTTP API (integrations, routes) find their owner: the API's tags."""


class HttpApiHandler(NamedHandler):
    """`apigwv2.api`: props {name, description, protocolType, disableExecuteApiEndpoint}."""

    kind = kinds.APIGWV2_API
    client: ApiGatewayV2Client
    replace_on = ("protocolType",)
    spelling = V2.of("Api", "ApiId")
    owned_key = "http-api"
    delete_delay = 30.0

    def props_of(self, want: Desired) -> HttpApi:
        """The desired props as `HttpApi` (`controller.model.props_api`)."""
        return props_as(want, HttpApi)

    def _live(self) -> Iterator[ApiTypeDef]:
        for page in self.client.get_paginator("get_apis").paginate():
            for api in page.get("Items", []):
                if api.get("ProtocolType") == "HTTP":
                    yield api

    def _observed(self, key: str, api: Mapping[str, Any]) -> Observed:
        props = {prop: api.get(field) for prop, field in FIELDS.items()}
        props["disableExecuteApiEndpoint"] = bool(api.get("DisableExecuteApiEndpoint", False))
        return self._seen(key, api, props, apiEndpoint=api.get("ApiEndpoint"))

    def _make(self, want: Desired) -> CreateApiResponseTypeDef:
        p = self.props_of(want)
        return self.client.create_api(
            Name=p["name"],
            Description=p["description"],
            ProtocolType=p["protocolType"],
            DisableExecuteApiEndpoint=p["disableExecuteApiEndpoint"],
            Tags=dict(want.tags),
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateApi with the fields that differ."""
        fields = {
            f: self.props_of(want)[prop] for prop, f in UPDATABLE.items() if changed(deltas, prop)
        }
        return self._update(want, have, fields)

    def _send_update(self, want: Desired, have: Observed, changes: dict[str, Any]) -> Any:
        return self.client.update_api(ApiId=have.id, **changes)

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        """UpdateApi's answer, with the tags we had (it may leave them out)."""
        return replace(self._observed(want.key, made), tags=have.tags)

    def _send_delete(self, have: Observed) -> None:
        """Delete the API and everything in it."""
        self.client.delete_api(ApiId=have.id)
