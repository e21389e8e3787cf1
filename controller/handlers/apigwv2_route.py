"""One route of the HTTP API (`ANY /{proxy+}`, `$default`), targeting our integration.

A route is found by its route key in the API (unique there on AWS); its target
`integrations/<id>` is reported as `integrationId` (any other target as it is, so that it shows
as a difference). Target and authorization type are updated in place with UpdateRoute. Routes
take no tags: their ownership is the API's. With an auto-deployed stage, a route change is live
without a deployment. Neighbours: `apigwv2_api` (the API, `HTTP_API`), `apigwv2_integration`
(the target), `apigwv2_stage` (deploys the routes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from controller.handlers.apigw_common import V2, ApiChildHandler
from controller.handlers.apigwv2_api import HTTP_API
from controller.handlers.base import Delta, Desired, Observed, changed, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import Route

if TYPE_CHECKING:
    from types_boto3_apigatewayv2 import ApiGatewayV2Client
    from types_boto3_apigatewayv2.type_defs import RouteTypeDef

TARGET_PREFIX = "integrations/"


def integration_of(target: str | None) -> str | None:
    """`integrations/<id>` -> `<id>`; another target as it is; None for no target."""
    if target is None:
        return None
    return target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else target


class RouteHandler(ApiChildHandler):
    """`apigwv2.route`: props {apiId, routeKey, integrationId, authorizationType}."""

    kind = kinds.APIGWV2_ROUTE
    client: ApiGatewayV2Client
    identity = ("apiId", "routeKey")  # the integration may not exist yet
    spelling = V2.of("Route", "RouteId")
    parent = HTTP_API
    create_log = (("routeKey", "routeKey"),)

    def props_of(self, want: Desired) -> Route[Known]:
        """The desired props as `Route` (`controller.model.props_api`)."""
        return props_as(want, Route[Known])

    def _children(self, api_id: str) -> Iterator[RouteTypeDef]:
        for page in self.client.get_paginator("get_routes").paginate(ApiId=api_id):
            yield from page.get("Items", [])

    def _matches(self, want: Desired, item: Mapping[str, Any]) -> bool:
        return bool(item.get("RouteKey") == self.props_of(want)["routeKey"])

    def _observed(self, want: Desired, route: Mapping[str, Any], tags: dict[str, str]) -> Observed:
        return self._child(
            want,
            route,
            tags,
            routeKey=route.get("RouteKey"),
            integrationId=integration_of(route.get("Target")),
            authorizationType=route.get("AuthorizationType", "NONE"),
        )

    def _make(self, want: Desired) -> Any:
        """CreateRoute (a route key is unique in the API: a retry's look-up finds it)."""
        p = self.props_of(want)
        return self.client.create_route(
            ApiId=p["apiId"],
            RouteKey=p["routeKey"],
            Target=f"{TARGET_PREFIX}{p['integrationId']}",
            AuthorizationType=p["authorizationType"],
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateRoute with the target and authorization type when they differ."""
        p = self.props_of(want)
        fields: dict[str, Any] = {}
        if changed(deltas, "integrationId"):
            fields["Target"] = f"{TARGET_PREFIX}{p['integrationId']}"
        if changed(deltas, "authorizationType"):
            fields["AuthorizationType"] = p["authorizationType"]
        return self._update(want, have, fields)

    def _send_update(self, want: Desired, have: Observed, changes: dict[str, Any]) -> Any:
        return self.client.update_route(
            ApiId=self.props_of(want)["apiId"], RouteId=have.id, **changes
        )

    def _send_delete(self, have: Observed) -> None:
        """NotFound (or the API gone) is success."""
        self.client.delete_route(ApiId=have.props["apiId"], RouteId=have.id)
