"""Small pieces every part of the model uses: security group rules, the container's name."""

from __future__ import annotations

from dataclasses import replace

from controller.model.props import SgRule
from controller.model.stack import Lazy, Ref, Stack

CONTAINER = "app"
ALL_TRAFFIC_EGRESS: list[SgRule[Lazy]] = [
    {"protocol": "-1", "fromPort": -1, "toPort": -1, "cidr": "0.0.0.0/0"}
]


def tcp_from(
    port: int, *, cidr: str | None = None, group: Ref | None = None, why: str
) -> SgRule[Lazy]:
    """One TCP ingress rule on `port` from a CIDR or a security group, with its description."""
    rule: SgRule[Lazy] = {"protocol": "tcp", "fromPort": port, "toPort": port, "description": why}
    if group is not None:
        rule["sourceGroup"] = group
    else:
        rule["cidr"] = cidr
    return rule


def extend_ingress(stack: Stack, key: str, *rules: SgRule[Lazy]) -> None:
    """Add ingress rules to a security group already in the stack (a later layer's needs)."""
    res = stack.resources[key]
    props = dict(res.props)
    props["ingress"] = [*props["ingress"], *rules]
    stack.resources[key] = replace(res, props=props)
