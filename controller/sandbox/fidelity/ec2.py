"""EC2 DeleteSecurityGroup refuses a group that another group's rule still references.

Restores (EC2 API reference, DeleteSecurityGroup: "If you attempt to delete a security group that
is associated with an instance or network interface, is referenced by another security group in
the same VPC, or has a VPC association, the operation fails with DependencyViolation"; the error
reads "resource sg-... has a dependent object"): moto deletes it and leaves a dangling reference.
Only references from other groups' rules are checked here (not network interfaces).
Neighbours: `patching`.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import security_groups as sg_models

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the dependency check."""
    wrap(sg_models.SecurityGroupBackend, "_delete_security_group")(_delete_security_group)


def _delete_security_group(original: Any, self: Any, vpc_id: str | None, group_id: str) -> None:
    for groups in list(self.groups.values()):
        for group in list(groups.values()):
            if group.id == group_id:
                continue
            for rule in [*group.ingress_rules, *group.egress_rules]:
                if (rule.source_group or {}).get("GroupId") == group_id:
                    raise DependencyViolationError(f"resource {group_id} has a dependent object")
    original(self, vpc_id, group_id)
