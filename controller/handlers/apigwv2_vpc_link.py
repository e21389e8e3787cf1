"""The VPC Link v2 that carries an HTTP API's traffic into the VPC (rule 6).

A v2 link is a set of network interfaces in the given subnets behind the given security groups
(not a PrivateLink endpoint on the NLB, as v1 is); integrations name it, together with the
listener they reach. It is found by its deterministic name among GetVpcLinks, preferring the
one with our owner tag; links being deleted are ignored. A new link is PENDING for a while:
`pending` makes the engine requeue; FAILED is permanent (typically a subnet or group that is
gone). INACTIVE (unused for long) is no wait: the integration that uses it wakes it up.
Subnets and security groups cannot change in place (UpdateVpcLink changes the name only):
replacement. What it shares with the v1 link is `apigw_vpc_link_base.VpcLinkBase`.
Neighbours: `apigw_vpc_link_base` (the base), `apigw_vpc_link` (the v1 link), `apigwv2_integration`
(names this link), `ec2_security_group` (the link's group).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from controller.handlers.apigw_common import V2, paged
from controller.handlers.apigw_vpc_link_base import VpcLinkBase
from controller.handlers.base import Delta, Desired, Observed, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import VpcLinkV2

if TYPE_CHECKING:
    from types_boto3_apigatewayv2 import ApiGatewayV2Client
    from types_boto3_apigatewayv2.type_defs import CreateVpcLinkResponseTypeDef


class VpcLinkV2Handler(VpcLinkBase):
    """`apigwv2.vpc_link`: props {name, subnetIds, securityGroupIds}."""

    kind = kinds.APIGWV2_VPC_LINK
    client: ApiGatewayV2Client
    replace_on = ("subnetIds", "securityGroupIds")
    owned_key = "vpc-link-v2"
    spelling = V2.of("VpcLink", "VpcLinkId")
    status_fields = ("VpcLinkStatus", "VpcLinkStatusMessage")
    create_log = (("name", "name"), ("subnets", "subnetIds"))

    def props_of(self, want: Desired) -> VpcLinkV2[Known]:
        """The desired props as `VpcLinkV2` (`controller.model.props_api`)."""
        return props_as(want, VpcLinkV2[Known])

    def _listed(self) -> Iterator[dict[str, Any]]:
        return paged(self.client.get_vpc_links, self.spelling)

    def _props(self, link: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "subnetIds": sorted(link.get("SubnetIds", [])),
            "securityGroupIds": sorted(link.get("SecurityGroupIds", [])),
        }

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas, the id lists compared as sets."""
        deltas = []
        for name in ("name", "subnetIds", "securityGroupIds"):
            desired = self.props_of(want)[name]
            if isinstance(desired, list):
                desired = sorted(desired, key=str)
            if desired != have.props.get(name):
                deltas.append(Delta(name, desired, have.props.get(name)))
        return deltas

    def _make(self, want: Desired) -> CreateVpcLinkResponseTypeDef:
        p = self.props_of(want)
        return self.client.create_vpc_link(
            Name=p["name"],
            SubnetIds=list(p["subnetIds"]),
            SecurityGroupIds=list(p["securityGroupIds"]),
            Tags=dict(want.tags),
        )

    def _send_delete(self, have: Observed) -> None:
        self.client.delete_vpc_link(VpcLinkId=have.id)
