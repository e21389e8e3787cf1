"""What one pass of the engine did: an `Action` per resource (`Change`) and the pass's `Outcome`
(outputs for Refs, the requeue delay, errors, convergence). Pure data, no AWS.
Neighbours: `controller.reconcile.engine` (builds them, re-exports them),
`controller.reconcile.render` and `controller.reconcile.status` (read them).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.handlers.base import Delta


class Action(enum.StrEnum):
    """What the engine did (or, in a dry run, would do) to one resource."""

    NOOP = "noop"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    WAIT = "wait"  # exists but provisioning, or a temporary error: requeue
    BLOCKED = "blocked"  # something it depends on is not there yet
    CONFLICT = "conflict"  # a resource at our name without our owner tag: never touched
    RETAIN = "retain"  # deletionPolicy: Retain
    FAILED = "failed"

    @property
    def mutates(self) -> bool:
        """True for actions that change AWS."""
        return self in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)


@dataclass
class Change:
    """The outcome for one resource."""

    key: str
    kind: str
    component: str
    action: Action
    deltas: list[Delta] = field(default_factory=list)
    id: str | None = None
    message: str | None = None
    props: Mapping[str, Any] | None = None  # desired props, for a create in a plan
    pending: bool = False  # exists but still provisioning: dependents wait
    foreign: list[tuple[str, str]] = field(default_factory=list)  # report-only drift
    replace_loop: bool = False  # a second replacement refused by the guard: alert high
    downtime: str | None = None
    """`field: why` when this change cuts clients off (controller.handlers.replacements): a
    plan says `replace (downtime: ...)`; not done unless the engine's policy allows it."""
    held_back: bool = False  # a downtime change found as drift: reported, left alone

    @property
    def holds_dependents(self) -> bool:
        """True when what depends on this resource must wait for a later pass."""
        return self.pending or self.action in (
            Action.WAIT,
            Action.BLOCKED,
            Action.CONFLICT,
            Action.FAILED,
        )


@dataclass
class Outcome:
    """Everything one pass did, and when to come back."""

    changes: list[Change] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requeue_after: float | None = None

    def wait(self, delay: float) -> None:
        """Ask for another pass after `delay` seconds (the soonest request wins)."""
        self.requeue_after = delay if self.requeue_after is None else min(self.requeue_after, delay)

    @property
    def errors(self) -> list[Change]:
        """Changes that failed or met a resource we do not own."""
        return [c for c in self.changes if c.action in (Action.FAILED, Action.CONFLICT)]

    @property
    def mutated(self) -> bool:
        """True when the pass changed (or would change) AWS."""
        return any(c.action.mutates for c in self.changes)

    @property
    def converged(self) -> bool:
        """Nothing changed, nothing waiting, nothing failed."""
        return not self.mutated and self.requeue_after is None and not self.errors
