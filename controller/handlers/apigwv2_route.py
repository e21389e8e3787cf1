"""One route of the HTTP API (`ANY /{proxy+}`, `$default`), targeting our integration.

A route is found by its route key in the API (unique there on AWS); its target
`integrations/<id>` is reported as `integrationId` (any other target as it is, so that it shows
as a difference). Target and authorization type are updated in place with UpdateRoute. Routes
take no tags: their ownership is the API's. With an auto-deployed stage, a route change is live
without a deployment. Neighbours: `apigwv2_api` (the API, helpers), `apigwv2_integration` (the
target), `apigwv2_stage` (deploys the routes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from controller.handlers.apigw_common import throttle_is_temporary
from controller.handlers.apigwv2_api import api_tags
from controller.handlers.base import Delta, Desired, Handler, Observed, changed

TARGET_PREFIX = "integrations/"


def integration_of(target: str | None) -> str | None:
    """`integrations/<id>` -> `<id>`; another target as it is; None for no target."""
    if target is None:
        return None
    return target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else target


class RouteHandler(Handler):
    """`apigwv2.route`: props {apiId, routeKey, integrationId, authorizationType}."""

    kind = "apigwv2.route"
    service = "apigatewayv2"
    identity = ("apiId", "routeKey")  # the integration may not exist yet

    def _observed(
        self, key: str, api_id: str, route: Mapping[str, Any], tags: dict[str, str]
    ) -> Observed:
        return Observed(
            key=key,
            id=route["RouteId"],
            props={
                "apiId": api_id,
                "routeKey": route.get("RouteKey"),
                "integrationId": integration_of(route.get("Target")),
                "authorizationType": route.get("AuthorizationType", "NONE"),
            },
            tags=tags,
            outputs={"id": route["RouteId"]},
        )

    def observe(self, want: Desired) -> Observed | None:
        """The route with our key in the API; None when it or the API is missing."""
        api_id = want.props["apiId"]
        tags = api_tags(self.client, api_id)
        if tags is None:
            return None
        try:
            pages = self.client.get_paginator("get_routes").paginate(ApiId=api_id)
            found = next(
                (
                    r
                    for page in pages
                    for r in page.get("Items", [])
                    if r.get("RouteKey") == want.props["routeKey"]
                ),
                None,
            )
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        return None if found is None else self._observed(want.key, api_id, found, tags)

    def create(self, want: Desired) -> Observed:
        """CreateRoute (after a look-up: a route key is unique, a retry must find it)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = want.props
        self.log_call("creating", want, routeKey=p["routeKey"])
        with throttle_is_temporary("CreateRoute"):
            route = self.client.create_route(
                ApiId=p["apiId"],
                RouteKey=p["routeKey"],
                Target=f"{TARGET_PREFIX}{p['integrationId']}",
                AuthorizationType=p["authorizationType"],
            )
        self.log_call("created", want, id=route["RouteId"])
        return self._observed(want.key, p["apiId"], route, api_tags(self.client, p["apiId"]) or {})

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateRoute with the target and authorization type when they differ."""
        p = want.props
        fields: dict[str, Any] = {}
        if changed(deltas, "integrationId"):
            fields["Target"] = f"{TARGET_PREFIX}{p['integrationId']}"
        if changed(deltas, "authorizationType"):
            fields["AuthorizationType"] = p["authorizationType"]
        if not fields:
            return have
        self.log_call("updating", want, id=have.id, fields=sorted(fields))
        with throttle_is_temporary("UpdateRoute"):
            route = self.client.update_route(ApiId=p["apiId"], RouteId=have.id, **fields)
        return self._observed(want.key, p["apiId"], route, have.tags)

    def delete(self, have: Observed) -> None:
        """Delete the route; NotFound (or the API gone) is success."""
        self.log_call("deleting", have, id=have.id)
        try:
            with throttle_is_temporary("DeleteRoute"):
                self.client.delete_route(ApiId=have.props["apiId"], RouteId=have.id)
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise
