"""One reconcile pass of one spec under its drift policy, and what it found (synchronous).

Until a spec has converged once, a pass builds toward it and nothing it changes is drift. After
that, with the spec unchanged, whatever a pass finds is drift: `Correct` fixes it (an apply pass)
and reports it as corrected, `Alert` only looks (a dry pass, no mutating call) and reports it,
`Ignore` makes no call at all. Fields in `drift.ignoreFields` and contested fields are left alone
by the engine. Runs in a worker thread; asyncio lives in `controller.runtime.controller`.
Neighbours: `controller.reconcile` (runner, engine, status), `controller.alerts` (Alert).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from controller.alerts import Alert, drift_alert
from controller.alerts.model import RESOURCE_FIELD
from controller.aws.errors import AWS_ERRORS
from controller.aws.session import AwsContext
from controller.errors import ControllerError, PermanentError
from controller.model.stack import Stack
from controller.reconcile import status as status_doc
from controller.reconcile.engine import Action, Change, Outcome, spec_path
from controller.reconcile.runner import Reconciler
from controller.spec.models import PrivateService

PASS_ERRORS: tuple[type[Exception], ...] = (ControllerError, *AWS_ERRORS)
"""What a pass reports instead of raising: our own errors and every AWS failure."""

SWEEP_EVERY = 10
DRIFT_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)


@dataclass
class SpecState:
    """What the runtime knows of one spec between passes."""

    spec: PrivateService
    fingerprint: str
    origin: str
    converged: str | None = None  # fingerprint of the spec as last converged
    reconciler: Reconciler | None = None
    status: dict[str, Any] = field(default_factory=dict)
    corrections: int = 0
    last_drift: str | None = None
    failures: int = 0
    passes: int = 0
    problem: str | None = None  # a newer version of the spec that is invalid
    since: float = field(default_factory=time.monotonic)  # when this version of the spec came

    @property
    def owner(self) -> str:
        """`<namespace>/<name>`."""
        return self.spec.owner


@dataclass
class PassReport:
    """What one pass did and found."""

    outcome: Outcome | None
    alerts: list[Alert] = field(default_factory=list)
    corrected: list[Correction] = field(default_factory=list)
    error: str | None = None
    permanent: bool = False
    duration: float = 0.0
    skipped: bool = False
    raised: list[Alert] = field(default_factory=list)
    """Every alert the runtime sent for this pass (drift and contested fields)."""

    @property
    def requeue_after(self) -> float | None:
        """When the engine asked to come back (a resource provisioning, a temporary error)."""
        if self.outcome is None:
            return None
        if self.outcome.mutated and self.outcome.requeue_after is None:
            return 0.0  # verify what was just changed
        return self.outcome.requeue_after


def _alerts(owner: str, change: Change, action: Literal["corrected", "reported"]) -> list[Alert]:
    """One alert per drifted field (a missing or extra resource is one alert)."""
    if change.action is Action.CREATE:
        fields = [("(resource)", "present", "absent")]
    elif change.action is Action.DELETE:
        fields = [("(resource)", "absent", "present")]
    else:
        fields = [(d.path, d.desired, d.actual) for d in change.deltas] or [
            ("(resource)", "as specified", "different")
        ]
    return [
        drift_alert(
            owner,
            change.component or change.key,
            change.id or change.key,
            path,
            expected,
            actual,
            action,
            message=change.key,
        )
        for path, expected, actual in fields
    ]


@dataclass(frozen=True)
class Correction:
    """A field the controller put back: what the contest tracker counts."""

    key: str
    component: str
    resource: str
    path: str
    spec_path: str | None
    expected: Any
    actual: Any


def run_pass(
    state: SpecState, aws: AwsContext, contested: set[tuple[str, str]], max_requeue: float
) -> PassReport:
    """One pass of `state.spec`; updates `state` (status, convergence, corrections)."""
    start = time.monotonic()
    ps = state.spec
    settled = state.converged == state.fingerprint
    mode = ps.spec.drift.mode
    if settled and mode == "Ignore":
        return PassReport(outcome=None, skipped=True)
    dry = settled and mode == "Alert"
    try:
        if state.reconciler is None:
            state.reconciler = Reconciler(ps, aws, max_requeue=max_requeue)
        rec = state.reconciler
        rec.engine.ignored_props = set(contested)
        state.passes += 1
        # orphans appear when the spec changes; in steady state look for them now and then
        sweep = not settled or state.passes % SWEEP_EVERY == 0
        # a change that cuts clients off (a new NLB DNS name) only for a spec change seen
        # while running, never to undo drift nor on the first pass after a start (drift or an
        # edit made while stopped cannot be told apart): reported and left alone (issue 14)
        changed = state.converged is not None and not settled
        rec.engine.downtime_policy = "allow" if changed else "report"
        outcome = rec.engine.apply(rec.stack(), dry_run=dry, sweep=sweep)
    except PASS_ERRORS as exc:  # AWS errors: temporary
        state.status = status_doc.compute(
            ps,
            Outcome(),
            aws.region,
            error=str(exc),
            corrections=state.corrections,
            last_drift=state.last_drift,
        )
        return PassReport(
            outcome=None,
            error=str(exc),
            permanent=isinstance(exc, PermanentError),
            duration=time.monotonic() - start,
        )
    report = PassReport(outcome=outcome)
    if settled:
        _find_drift(state, outcome, rec.last_stack, dry, report)
    else:  # provisioning: what we change is the spec's doing, except a security drift
        report.alerts += _security_drift(state.owner, outcome)
    loops = [c for c in outcome.changes if c.replace_loop]
    report.alerts += [_replace_loop_alert(state.owner, c) for c in loops]
    report.alerts += [a for c in outcome.changes if c.held_back for a in _held_alerts(state, c)]
    if outcome.errors:  # a conflict or a permanent failure of one resource
        first = outcome.errors[0]
        report.error, report.permanent = f"{first.key}: {first.message}", True
    elif outcome.converged:
        state.converged = state.fingerprint
    _write_status(state, outcome, rec.aws.region, settled=settled, dry=dry, report=report)
    report.duration = time.monotonic() - start
    return report


def _security_drift(owner: str, outcome: Outcome) -> list[Alert]:
    """High-severity drift undone by a pass of a spec still Provisioning: an ingress opened to
    the internet, a public IP, an extra listener must alert in any phase (no spec asks for them,
    so it is someone else's doing even while we create and update)."""
    return [
        alert
        for change in outcome.changes
        if change.action in (Action.UPDATE, Action.REPLACE)
        for alert in _alerts(owner, change, "corrected")
        if alert.severity == "high" and alert.field != RESOURCE_FIELD
    ]


def _find_drift(
    state: SpecState, outcome: Outcome, stack: Stack | None, dry: bool, report: PassReport
) -> None:
    """Alerts for what a settled pass found, and the corrections the contest tracker counts."""
    for change in outcome.changes:
        report.alerts += [  # additions that are not ours to remove: reported in every mode
            drift_alert(
                state.owner,
                change.component,
                change.id or change.key,
                what,
                "absent",
                actual,
                "reported",
                message=change.key,
            )
            for what, actual in change.foreign
        ]
        if change.action not in DRIFT_ACTIONS:
            continue
        report.alerts += _alerts(state.owner, change, "reported" if dry else "corrected")
        if not dry:
            res = stack.resources.get(change.key) if stack else None
            report.corrected += [
                Correction(
                    change.key,
                    change.component,
                    change.id or change.key,
                    d.path,
                    spec_path(res, d.path) if res else None,
                    d.desired,
                    d.actual,
                )
                for d in change.deltas
            ]
    if report.alerts:
        state.last_drift = status_doc.now()
        state.corrections += sum(a.action == "corrected" for a in report.alerts)


def _held_alerts(state: SpecState, change: Change) -> list[Alert]:
    """High, reported: drift that only a replacement with downtime (or a deletion that costs
    clients their invoke URL) would undo, left alone (`Change.held_back`)."""
    state.last_drift = status_doc.now()
    return [
        dataclasses.replace(alert, severity="high", message=change.message or alert.message)
        for alert in _alerts(state.owner, change, "reported")
    ]


def _replace_loop_alert(owner: str, change: Change) -> Alert:
    """High: the engine refused to replace a resource a second time (issue 14's guard)."""
    first = change.deltas[0] if change.deltas else None
    return Alert(
        kind="failure",
        service=owner,
        component=change.component,
        resource=change.id or change.key,
        field=first.path if first else RESOURCE_FIELD,
        expected=first.desired if first else None,
        actual=first.actual if first else None,
        action="none",
        severity="high",
        message=change.message or "",
    )


def _write_status(
    state: SpecState, outcome: Outcome, region: str, *, settled: bool, dry: bool, report: PassReport
) -> None:
    state.status = status_doc.compute(
        state.spec,
        outcome,
        region,
        corrections=state.corrections,
        last_drift=state.last_drift,
        applied=not dry,
    )
    if not (settled and report.alerts):
        return
    if dry:  # Alert mode: nothing will put it back but a person
        state.status["phase"] = "Degraded"
        return
    drifted = next(c for c in state.status["conditions"] if c["type"] == "Drifted")
    corrected = any(a.action == "corrected" for a in report.alerts)
    drifted |= {
        "status": "True",
        "reason": "Corrected" if corrected else "Reported",
        "message": ", ".join(f"{a.component} {a.field}" for a in report.alerts),
    }


def run_delete_pass(state: SpecState, aws: AwsContext, max_requeue: float) -> PassReport:
    """One delete pass (spec pruned from its source): Delete or Retain per deletionPolicy."""
    start = time.monotonic()
    ps = state.spec
    try:
        if state.reconciler is None:
            state.reconciler = Reconciler(ps, aws, max_requeue=max_requeue)
        rec = state.reconciler
        outcome = rec.engine.delete(
            rec.stack(tolerate_missing_network=True), retain=ps.spec.deletion_policy == "Retain"
        )
    except PASS_ERRORS as exc:  # AWS errors: temporary
        return PassReport(
            outcome=None,
            error=str(exc),
            duration=time.monotonic() - start,
            permanent=isinstance(exc, PermanentError),
        )
    state.status = status_doc.compute(
        ps, Outcome(), aws.region, corrections=state.corrections, last_drift=state.last_drift
    )
    state.status["phase"] = "Deleting"
    return PassReport(outcome=outcome, duration=time.monotonic() - start)
