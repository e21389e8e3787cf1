"""What doctor reports: hops (the contract's order), finding codes with their severities, findings.

Pure data, no AWS. `CODES` is the contract's table of finding codes (stable; severity fixed per
code); a check builds a `Finding` with `finding(code, ...)`, which takes the severity from here.
A finding carries both fixes: `fix_spec` (the PrivateService change, for a chain a spec owns) and
`fix_cli` (the exact AWS CLI command, for a chain built by anything else); `report` picks one.
Neighbours: `facts` (what checks read), `checks` (who builds findings), `report` (who prints them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Status = Literal["ok", "warning", "problem", "unknown"]

HOPS: tuple[str, ...] = (
    "domain",
    "api",
    "stage",
    "authorizer",
    "vpc-endpoint",
    "vpc-link",
    "nlb",
    "nlb-listener",
    "nlb-target-group",
    "alb",
    "alb-listener",
    "alb-target-group",
    "service",
    "tasks",
    "network",
)
"""Hops in the order a request meets them (contract); a chain lists those it has."""

CODES: dict[str, Severity] = {
    "health-check-blocked": "error",
    "traffic-blocked": "error",
    "privatelink-enforced": "error",
    "nlb-sg-blocks-listener": "warning",
    "alb-blocks-nlb": "error",
    "lb-egress-blocked": "error",
    "target-type-mismatch": "error",
    "no-healthy-targets": "error",
    "tasks-failing": "error",
    "no-route-to-ecr": "error",
    "public-ip-on-tasks": "error",
    "vpc-link-not-available": "error",
    "vpc-link-wrong-target": "error",
    "listener-port-mismatch": "error",
    "stage-stale": "warning",
    "api-key-not-in-plan": "error",
    "plan-not-on-stage": "error",
    "no-plan-for-required-key": "error",
    "authorizer-not-invokable": "error",
    "authorizer-runtime-deprecated": "warning",
    "private-api-unreachable": "error",
    "host-port-blocked": "error",
    "dynamic-host-port": "error",
    "domain-mapping-missing": "error",
    "static-ip-missing": "error",
    "deregistration-delay-long": "warning",
    "nacl-blocks": "error",
}
"""The contract's 27 finding codes and their severities."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong on one hop.

    `message`: what is wrong, naming the resources (ids, ports, CIDRs). `why`: why that breaks
    the request, in the field reports' terms (one or two sentences). `fix_spec`: the spec change
    that fixes it for a chain we own ("" when no spec field governs it: say what to do instead);
    `fix_cli`: the AWS CLI command(s) that fix it on a chain we do not own.
    """

    code: str
    severity: Severity
    hop: str
    resource: str
    message: str
    why: str
    fix_spec: str
    fix_cli: str


def finding(
    code: str,
    hop: str,
    resource: str,
    message: str,
    *,
    why: str,
    fix_spec: str,
    fix_cli: str,
) -> Finding:
    """A `Finding` with the contract's severity for `code` (KeyError for an unknown code/hop)."""
    if hop not in HOPS:
        raise KeyError(f"unknown hop {hop!r}")
    return Finding(code, CODES[code], hop, resource, message, why, fix_spec, fix_cli)


@dataclass(frozen=True)
class HopRef:
    """One hop of the chain as discovered: its kind (one of `HOPS`) and resource id or ARN.
    Branches (two stages, two target groups) are several `HopRef`s of the same kind."""

    hop: str
    resource: str


@dataclass(frozen=True)
class Unknown:
    """What doctor could not read: the hop, the resource, the call that failed and the IAM
    permission to add (e.g. "elasticloadbalancing:DescribeTargetHealth"). A hop with an
    `Unknown` is reported `unknown`, never `ok`."""

    hop: str
    resource: str
    call: str
    permission: str
    message: str = ""
