"""The HTTP API's private integration: HTTP_PROXY over the VPC Link v2 to a listener (rule 6).

`IntegrationUri` is the listener ARN (the NLB's, or the ALB's with an ALB tier), `ConnectionId`
the link. Integrations have no name and take no tags: ours is the one whose description is
`DESCRIPTION` in our API, and its ownership is the API's tags. Everything is updatable in place
with one UpdateIntegration (request parameters no longer wanted are removed by an empty value).
Neighbours: `apigwv2_api` (the API, `HTTP_API`), `apigwv2_vpc_link` (ConnectionId),
`apigwv2_route` (targets this integration), `controller.model.http_api` (desired props).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from controller.handlers.apigw_common import V2, ApiChildHandler
from controller.handlers.apigwv2_api import HTTP_API
from controller.handlers.base import Delta, Desired, Observed, diff_props, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import Integration

if TYPE_CHECKING:
    from types_boto3_apigatewayv2 import ApiGatewayV2Client
    from types_boto3_apigatewayv2.type_defs import IntegrationTypeDef

DESCRIPTION = "privateservice: the service through the VPC link"
SCALARS: dict[
    Literal[
        "integrationType",
        "integrationMethod",
        "connectionType",
        "connectionId",
        "integrationUri",
        "payloadFormatVersion",
    ],
    str,
] = {
    "integrationType": "IntegrationType",
    "integrationMethod": "IntegrationMethod",
    "connectionType": "ConnectionType",
    "connectionId": "ConnectionId",
    "integrationUri": "IntegrationUri",
    "payloadFormatVersion": "PayloadFormatVersion",
}


class IntegrationHandler(ApiChildHandler):
    """`apigwv2.integration`: props {apiId, requestParameters, and the `SCALARS`}; ours is the
    one with our description."""

    kind = kinds.APIGWV2_INTEGRATION
    client: ApiGatewayV2Client
    identity = ("apiId",)  # the link and the listener may not exist yet
    spelling = V2.of("Integration", "IntegrationId")
    parent = HTTP_API
    create_log = (("apiId", "apiId"), ("uri", "integrationUri"))

    def props_of(self, want: Desired) -> Integration[Known]:
        """The desired props as `Integration` (`controller.model.props_api`)."""
        return props_as(want, Integration[Known])

    def _children(self, api_id: str) -> Iterator[IntegrationTypeDef]:
        for page in self.client.get_paginator("get_integrations").paginate(ApiId=api_id):
            yield from page.get("Items", [])

    def _matches(self, want: Desired, item: Mapping[str, Any]) -> bool:
        return item.get("Description") == DESCRIPTION

    def _observed(self, want: Desired, item: Mapping[str, Any], tags: dict[str, str]) -> Observed:
        props: dict[str, Any] = {prop: item.get(field) for prop, field in SCALARS.items()}
        props["requestParameters"] = dict(item.get("RequestParameters") or {})
        return self._child(want, item, tags, **props)

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Scalar deltas, and the request parameters compared as a whole map."""
        scalars = {k: v for k, v in want.props.items() if k != "requestParameters"}
        deltas = diff_props(scalars, have.props)
        wanted, held = (
            dict(self.props_of(want)["requestParameters"]),
            have.props["requestParameters"],
        )
        if wanted != held:
            deltas.append(Delta("requestParameters", wanted, held))
        return deltas

    def _make(self, want: Desired) -> Any:
        """CreateIntegration with our description."""
        p = self.props_of(want)
        scalars: dict[str, Any] = {field: p[prop] for prop, field in SCALARS.items()}
        return self.client.create_integration(
            ApiId=p["apiId"],
            Description=DESCRIPTION,
            RequestParameters=dict(p["requestParameters"]),
            **scalars,
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateIntegration with every field that differs."""
        p = self.props_of(want)
        paths = [d.path for d in deltas]
        fields: dict[str, Any] = {SCALARS[s]: p[s] for s in SCALARS if s in paths}
        if any(d.path == "requestParameters" for d in deltas):
            stale = {
                k: "" for k in have.props["requestParameters"] if k not in p["requestParameters"]
            }
            fields["RequestParameters"] = {**stale, **p["requestParameters"]}
        return self._update(want, have, fields)

    def _send_update(self, want: Desired, have: Observed, changes: dict[str, Any]) -> Any:
        return self.client.update_integration(
            ApiId=self.props_of(want)["apiId"], IntegrationId=have.id, **changes
        )

    def _send_delete(self, have: Observed) -> None:
        """NotFound (or the API gone) is success."""
        self.client.delete_integration(ApiId=have.props["apiId"], IntegrationId=have.id)
