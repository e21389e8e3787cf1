"""What the engine does with a change that cuts clients off (issue 14): the downtime policy.

`allow` makes it (plan shows it, `apply --allow-replace`, a spec change under `psctl run`);
`refuse` fails it with one line naming the resource and the field (`psctl apply` without
`--allow-replace`: a dry pass refuses before anything changes, this is the backstop); `report`
holds a replacement or a sweep deletion back when `psctl run` finds it as drift: reported and
left alone, since only a spec change may cost clients their DNS name or invoke URL.
Which changes those are is `controller.handlers.replacements`. Pure.
Neighbours: `controller.reconcile.engine` (caller), `controller.reconcile.outcome`.
"""

from __future__ import annotations

from typing import Literal

import structlog

from controller.aws import tags as ownership
from controller.handlers.base import Delta, Observed
from controller.handlers.replacements import SWEEP_DOWNTIME
from controller.reconcile.outcome import Action, Change

log = structlog.get_logger(__name__)

DowntimePolicy = Literal["allow", "refuse", "report"]


def hold(change: Change, policy: DowntimePolicy, *, replace: bool) -> bool:
    """Apply `policy` to a change whose `downtime` is set; True when it is not made: refused
    (FAILED, naming the field) or, for a replacement or a sweep deletion, held back (NOOP,
    `held_back`: reported, never done to undo drift). An in-place update under `report` is a
    drift correction that puts back what clients used: made."""
    deleting = change.action is Action.DELETE
    what = "replacing" if replace else ("deleting" if deleting else "changing")
    if policy == "refuse":
        change.action = Action.FAILED
        change.message = (
            f"not {what} {change.id or change.key}: {change.downtime} (downtime); "
            "nothing changed: apply with --allow-replace to do it"
        )
        return True
    if policy == "report" and (replace or deleting):
        change.action, change.held_back = Action.NOOP, True
        change.message = (
            f"left alone: {what} it would cut clients off ({change.downtime}); only a spec "
            "change does that, never a drift correction"
        )
        log.error("downtime change held back", key=change.key, why=change.downtime)
        return True
    return False


def sweep_downtime(kind: str) -> str | None:
    """`(resource): why` when the sweep deleting a resource of `kind` cuts clients off."""
    why = SWEEP_DOWNTIME.get(kind)
    return f"(resource): {why}" if why else None


def held_sweep(kind: str, have: Observed, policy: DowntimePolicy) -> Change | None:
    """The change for a sweep deletion `policy` does not make (refused or held back), else
    None (the sweep deletes it)."""
    why = sweep_downtime(kind)
    if why is None:
        return None
    change = Change(
        have.key,
        kind,
        have.tags.get(ownership.COMPONENT, ""),
        Action.DELETE,
        id=have.id,
        deltas=[Delta("(resource)", "absent", "present")],
        downtime=why,
    )
    return change if hold(change, policy, replace=False) else None
