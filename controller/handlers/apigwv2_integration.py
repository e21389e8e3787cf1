"""The HTTP API's private integration: HTTP_PROXY over the VPC Link v2 to a listener (rule 6).

`IntegrationUri` is the listener ARN (the NLB's, or the ALB's with an ALB tier), `ConnectionId`
the link. Integrations have no name and take no tags: ours is the one whose description is
`DESCRIPTION` in our API, and its ownership is the API's tags. Everything is updatable in place
with one UpdateIntegration (request parameters no longer wanted are removed by an empty value).
Neighbours: `apigwv2_api` (the API, helpers), `apigwv2_vpc_link` (ConnectionId), `apigwv2_route`
(targets this integration), `controller.model.http_api` (desired props).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from controller.handlers.apigw_common import throttle_is_temporary
from controller.handlers.apigwv2_api import api_tags
from controller.handlers.base import Delta, Desired, Handler, Observed, diff_props

DESCRIPTION = "privateservice: the service through the VPC link"
SCALARS = {
    "integrationType": "IntegrationType",
    "integrationMethod": "IntegrationMethod",
    "connectionType": "ConnectionType",
    "connectionId": "ConnectionId",
    "integrationUri": "IntegrationUri",
    "payloadFormatVersion": "PayloadFormatVersion",
}


class IntegrationHandler(Handler):
    """`apigwv2.integration`: props {apiId, requestParameters, and the `SCALARS`}."""

    kind = "apigwv2.integration"
    service = "apigatewayv2"
    identity = ("apiId",)  # the link and the listener may not exist yet

    def _integrations(self, api_id: str) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("get_integrations").paginate(ApiId=api_id):
            yield from page.get("Items", [])

    def _observed(
        self, key: str, api_id: str, item: Mapping[str, Any], tags: dict[str, str]
    ) -> Observed:
        props: dict[str, Any] = {"apiId": api_id}
        props |= {prop: item.get(field) for prop, field in SCALARS.items()}
        props["requestParameters"] = dict(item.get("RequestParameters") or {})
        return Observed(
            key=key,
            id=item["IntegrationId"],
            props=props,
            tags=tags,
            outputs={"id": item["IntegrationId"]},
        )

    def observe(self, want: Desired) -> Observed | None:
        """Our integration (by description) in the API; None when it or the API is missing."""
        api_id = want.props["apiId"]
        tags = api_tags(self.client, api_id)
        if tags is None:
            return None
        try:
            found = next(
                (i for i in self._integrations(api_id) if i.get("Description") == DESCRIPTION),
                None,
            )
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        return None if found is None else self._observed(want.key, api_id, found, tags)

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Scalar deltas, and the request parameters compared as a whole map."""
        scalars = {k: v for k, v in want.props.items() if k != "requestParameters"}
        deltas = diff_props(scalars, have.props)
        wanted, held = dict(want.props["requestParameters"]), have.props["requestParameters"]
        if wanted != held:
            deltas.append(Delta("requestParameters", wanted, held))
        return deltas

    def create(self, want: Desired) -> Observed:
        """CreateIntegration (after a look-up: a retry must not make a second one)."""
        have = self.observe(want)
        if have is not None:
            return have
        p = want.props
        self.log_call("creating", want, apiId=p["apiId"], uri=p["integrationUri"])
        with throttle_is_temporary("CreateIntegration"):
            made = self.client.create_integration(
                ApiId=p["apiId"],
                Description=DESCRIPTION,
                RequestParameters=dict(p["requestParameters"]),
                **{field: p[prop] for prop, field in SCALARS.items()},
            )
        self.log_call("created", want, id=made["IntegrationId"])
        return self._observed(want.key, p["apiId"], made, api_tags(self.client, p["apiId"]) or {})

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateIntegration with every field that differs."""
        p = want.props
        fields: dict[str, Any] = {SCALARS[d.path]: p[d.path] for d in deltas if d.path in SCALARS}
        if any(d.path == "requestParameters" for d in deltas):
            stale = {
                k: "" for k in have.props["requestParameters"] if k not in p["requestParameters"]
            }
            fields["RequestParameters"] = {**stale, **p["requestParameters"]}
        if not fields:
            return have
        self.log_call("updating", want, id=have.id, fields=sorted(fields))
        with throttle_is_temporary("UpdateIntegration"):
            made = self.client.update_integration(ApiId=p["apiId"], IntegrationId=have.id, **fields)
        return self._observed(want.key, p["apiId"], made, have.tags)

    def delete(self, have: Observed) -> None:
        """Delete the integration; NotFound (or the API gone) is success."""
        self.log_call("deleting", have, id=have.id)
        try:
            with throttle_is_temporary("DeleteIntegration"):
                self.client.delete_integration(ApiId=have.props["apiId"], IntegrationId=have.id)
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise
