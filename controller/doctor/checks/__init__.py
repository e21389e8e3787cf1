"""The doctor's checks: pure functions `Facts -> list[Finding]`, one per finding code, grouped
in one module per family. `CHECKS` lists every family's checks in the order findings are shown
(request order: API first, network last).

Families: `apigw` (API, stage, keys and plans, authorizers, private APIs, domains, VPC links),
`elb` (target types, target health, listeners, static IPs, deregistration delay),
`ecs` (failing tasks, host ports), `network` (security groups, NACLs, routes, endpoints,
public IPs). Each family module exposes `CHECKS: tuple[Check, ...]`.
Neighbours: `controller.doctor.facts`, `controller.doctor.model`, `controller.doctor.report`.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.doctor.facts import Facts
from controller.doctor.model import Finding

Check = Callable[[Facts], list[Finding]]


def all_checks() -> tuple[Check, ...]:
    """Every family's checks, in request order (imported here so families load lazily)."""
    from controller.doctor.checks import apigw, ecs, elb, network

    return (*apigw.CHECKS, *elb.CHECKS, *ecs.CHECKS, *network.CHECKS)


def run_checks(facts: Facts, checks: tuple[Check, ...] | None = None) -> list[Finding]:
    """All findings for one chain, in check order."""
    return [f for check in (checks if checks is not None else all_checks()) for f in check(facts)]
