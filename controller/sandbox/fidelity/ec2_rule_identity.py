"""EC2 security group rules are matched without regard to their description.

Restores (EC2 API reference, RevokeSecurityGroupIngress: "Each rule consists of the protocol and
the CIDR range or source security group. For the TCP and UDP protocols, you must also specify the
destination port or range of ports"; "The values that you specify in the revoke request (for
example, ports) must match the existing rule's values for the rule to be removed"): a rule's
description is not part of what identifies it. moto compares a security-group-reference rule's
whole `UserIdGroupPairs` entry, description included, so RevokeSecurityGroupIngress/Egress by
IpPermissions fails with InvalidPermission.NotFound unless the description is repeated (and
AuthorizeSecurityGroupIngress of the same rule with another description is not a duplicate).
Here two referenced groups are the same rule when their GroupId is (CIDR rules already ignored
the description in moto).
Neighbours: `patching`, `ec2` (DeleteSecurityGroup).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import security_groups as sg_models

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the description-blind comparison."""
    wrap(sg_models.SecurityGroupRule, "__eq__")(_eq)


def _eq(original: Any, self: Any, other: Any) -> Any:
    mine, theirs = self.source_group or {}, other.source_group or {}
    if not (mine.get("GroupId") and theirs.get("GroupId")):
        return original(self, other)  # CIDR or prefix-list rules: moto's comparison
    same = (
        mine["GroupId"] == theirs["GroupId"]
        and self.ip_protocol == other.ip_protocol
        and self.prefix_list_id == other.prefix_list_id
    )
    if same and self.ip_protocol != "-1":
        same = (self.from_port, self.to_port) == (other.from_port, other.to_port)
    return same
