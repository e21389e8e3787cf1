"""API Gateway v2 VPC links: PENDING then AVAILABLE (or FAILED), DELETING, and groups in use.

Restores (AWS API reference, API Gateway v2 VpcLink: "VpcLinkStatus: The status of the VPC
link. PENDING | AVAILABLE | DELETING | FAILED | INACTIVE", with a "VpcLinkStatusMessage"; the
developer guide, "Working with VPC links for HTTP APIs": API Gateway creates network interfaces
in the link's subnets, which takes a few minutes, and "when you delete a VPC link ... it can take
a few minutes" to remove them; EC2 DeleteSecurityGroup: a group "associated with ... a network
interface" fails with DependencyViolation). moto makes every v2 link AVAILABLE at once, accepts
subnets and groups that do not exist, deletes at once and lets the link's groups be deleted
under it. Here a new link is PENDING for the v1 links' `apigateway_vpclink.TIMING.seconds` (one
knob for both), then AVAILABLE when every subnet and group exists, else FAILED naming the
missing ids; a deleted link is DELETING for the same time, then gone; and a group that a link
not yet gone uses cannot be deleted. States settle lazily when links are read.
Neighbours: `patching`, `apigateway_vpclink` (TIMING), `ec2` (the other DependencyViolation).
"""

from __future__ import annotations

import time
from typing import Any

from moto.apigatewayv2 import models as v2_models
from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import ec2_backends
from moto.ec2.models import security_groups as sg_models

from controller.sandbox.fidelity.apigateway_vpclink import TIMING
from controller.sandbox.fidelity.patching import wrap

PENDING_MESSAGE = "VPC link is provisioning ENIs"
AVAILABLE_MESSAGE = "VPC link is ready to route traffic"
DELETING_MESSAGE = "VPC link is deleting ENIs"


def apply() -> None:
    """Install the v2 VPC link lifecycle and the groups-in-use check."""
    wrap(v2_models.ApiGatewayV2Backend, "create_vpc_link")(_create_vpc_link)
    wrap(v2_models.ApiGatewayV2Backend, "delete_vpc_link")(_delete_vpc_link)
    wrap(v2_models.ApiGatewayV2Backend, "get_vpc_links")(_get_vpc_links)
    wrap(v2_models.ApiGatewayV2Backend, "get_vpc_link")(_get_vpc_link)
    wrap(v2_models.VpcLink, "to_json")(_to_json)
    wrap(sg_models.SecurityGroupBackend, "_delete_security_group")(_delete_security_group)


def _create_vpc_link(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    link = original(self, *args, **kwargs)
    link.psctl_status = "PENDING"
    link.psctl_message = PENDING_MESSAGE
    link.psctl_until = time.monotonic() + TIMING.seconds
    link.psctl_owner = (self.account_id, self.region_name)
    return link


def _delete_vpc_link(original: Any, self: Any, vpc_link_id: str) -> None:
    link = self.vpc_links.get(vpc_link_id)
    if link is None or getattr(link, "psctl_status", None) is None:
        original(self, vpc_link_id)
        return
    if link.psctl_status != "DELETING":
        link.psctl_status = "DELETING"
        link.psctl_message = DELETING_MESSAGE
        link.psctl_until = time.monotonic() + TIMING.seconds


def _get_vpc_links(original: Any, self: Any) -> list[Any]:
    _purge(self)
    links: list[Any] = original(self)
    return links


def _get_vpc_link(original: Any, self: Any, vpc_link_id: str) -> Any:
    _purge(self)
    return original(self, vpc_link_id)


def _purge(backend: Any) -> None:
    """Forget links whose DELETING time is over."""
    now = time.monotonic()
    for link_id, link in list(backend.vpc_links.items()):
        if getattr(link, "psctl_status", None) == "DELETING" and now >= link.psctl_until:
            del backend.vpc_links[link_id]


def _to_json(original: Any, self: Any) -> dict[str, Any]:
    data: dict[str, Any] = original(self)
    status = getattr(self, "psctl_status", None)
    if status is None:
        return data
    if status == "PENDING" and time.monotonic() >= self.psctl_until:
        _settle(self)
    data["vpcLinkStatus"] = self.psctl_status
    data["vpcLinkStatusMessage"] = self.psctl_message
    return data


def _settle(link: Any) -> None:
    account_id, region = link.psctl_owner
    ec2 = ec2_backends[account_id][region]
    subnets = {s.id for by_az in ec2.subnets.values() for s in by_az.values()}
    groups = {g.id for by_vpc in ec2.groups.values() for g in by_vpc.values()}
    missing = [s for s in link.subnet_ids or [] if s not in subnets]
    missing += [g for g in link.sg_ids or [] if g not in groups]
    if missing or not link.subnet_ids:
        link.psctl_status = "FAILED"
        link.psctl_message = f"subnets or security groups do not exist: {', '.join(missing)}"
    else:
        link.psctl_status = "AVAILABLE"
        link.psctl_message = AVAILABLE_MESSAGE


def _delete_security_group(original: Any, self: Any, vpc_id: str | None, group_id: str) -> None:
    for backend in _v2_backends(self.account_id, self.region_name):
        _purge(backend)
        for link in backend.vpc_links.values():
            if group_id in (link.sg_ids or []):
                msg = f"resource {group_id} has a dependent object"
                raise DependencyViolationError(msg)
    original(self, vpc_id, group_id)


def _v2_backends(account_id: str, region: str) -> list[Any]:
    """The API Gateway v2 backend of this account and region, if moto has made it."""
    by_region = v2_models.apigatewayv2_backends[account_id]
    return [by_region[region]] if region in by_region else []
