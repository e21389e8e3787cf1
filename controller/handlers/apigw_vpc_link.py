"""The VPC Link (v1) from API Gateway REST APIs to the internal NLB (rule 6).

Found by its deterministic name among GetVpcLinks, preferring the one with our owner tag; links
being deleted are ignored (AWS keeps them listed as DELETING for a while, and the name may be
reused at once). A link is PENDING for minutes after creation: `pending` makes the engine wait;
FAILED is permanent (typically the NLB is not a network load balancer or is gone). The target
list cannot be changed in place on a v1 link that integrations use: replacement. What it shares
with the v2 link (look-up, states, delete) is `apigw_vpc_link_base.VpcLinkBase`.
Neighbours: `apigw_vpc_link_base` (the base), `apigwv2_vpc_link` (the v2 link), `apigw_proxy` (the
integration that names this link).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from controller.handlers.apigw_common import PAGE, V1
from controller.handlers.apigw_vpc_link_base import VpcLinkBase
from controller.handlers.base import Desired, Observed, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import VpcLink

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import VpcLinkResponseTypeDef, VpcLinkTypeDef


class VpcLinkHandler(VpcLinkBase):
    """`apigw.vpc_link`: props {name, targetArns}."""

    kind = kinds.APIGW_VPC_LINK
    replace_on = ("targetArns",)
    owned_key = "vpc-link"
    spelling = V1.of("VpcLink")
    status_fields = ("status", "statusMessage")
    create_log = (("name", "name"), ("targets", "targetArns"))
    client: APIGatewayClient

    def props_of(self, want: Desired) -> VpcLink[Known]:
        """The desired props as `VpcLink` (`controller.model.props_api`)."""
        return props_as(want, VpcLink[Known])

    def _listed(self) -> Iterator[VpcLinkTypeDef]:
        for page in self.client.get_paginator("get_vpc_links").paginate(PaginationConfig=PAGE):
            yield from page.get("items", [])

    def _props(self, link: Mapping[str, Any]) -> dict[str, Any]:
        return {"targetArns": list(link.get("targetArns", []))}

    def _make(self, want: Desired) -> VpcLinkResponseTypeDef:
        p = self.props_of(want)
        return self.client.create_vpc_link(
            name=p["name"],
            description=f"privateservice {want.owner}",
            targetArns=list(p["targetArns"]),
            tags=dict(want.tags),
        )

    def _send_delete(self, have: Observed) -> None:
        self.client.delete_vpc_link(vpcLinkId=have.id)
