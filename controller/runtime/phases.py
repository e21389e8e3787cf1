"""The controller's feedback role: a pass's status, phase changes and alerts told back to the
source (Kubernetes status and Events) and said in the log, each phase change once per spec.

`PhaseFeedback` keeps, per spec, the last phase told as an Event and the last phase said in the
log; the controller calls `feed` after each pass (leader only), `say` for every spec, and
`release` when a delete pass found nothing left (the finalizer goes, and what was told with it).
Neighbours: `controller.runtime.controller` (calls it),
`controller.ports.source` (`Feedback`), `controller.runtime.step` (`SpecState`, `PassReport`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog

from controller.errors import TemporaryError
from controller.ports.source import Feedback, Snapshot
from controller.reconcile import status as status_doc
from controller.runtime.events import EventRouter
from controller.runtime.step import PassReport, SpecState

log = structlog.get_logger(__name__)

PHASE_EVENTS = {
    "Provisioning": "creating AWS resources, or waiting for them to become available",
    "Ready": "every AWS resource matches the spec",
    "Degraded": "running, but not as specified (see the conditions)",
    "Deleting": "deleting the AWS resources in reverse order",
}

STUCK_DELETE = (
    "deletion waits: fix the spec so that the controller can delete its AWS resources, or "
    "remove the finalizer privateservice.io/finalizer to leave them in place"
)


class PhaseFeedback:
    """What each spec was last told (Events) and said (log), so each phase change is one."""

    def __init__(self) -> None:
        self.told: dict[str, str] = {}  # owner -> the last phase told as an Event
        self.said: dict[str, str] = {}  # owner -> the last phase said in the log

    def forget(self, owner: str, *, told: bool = True) -> None:
        """The spec is let go (deleted, pruned): a new one of that name starts afresh."""
        if told:
            self.told.pop(owner, None)
        self.said.pop(owner, None)

    async def feed(
        self, feedback: Feedback, owner: str, state: SpecState, report: PassReport
    ) -> None:
        """Status and Events of one pass back to the source (Kubernetes), best effort."""
        try:
            if state.problem:
                await feedback.report_invalid(owner, [state.problem])
            elif state.status:
                await feedback.report(owner, state.status)
                await self.tell(feedback, owner, state.status)
            for alert in report.raised:
                reason = {
                    "contested": "FieldContested",
                    "failure": "ReconcileFailed",
                }.get(alert.kind, "DriftCorrected" if alert.action == "corrected" else "Drift")
                await feedback.event(owner, "Warning", reason, alert.text())
            if report.error:
                await feedback.event(owner, "Warning", "ReconcileFailed", report.error)
        except TemporaryError as exc:
            log.warning("writing status or events failed", owner=owner, error=str(exc))

    def say(self, owner: str, state: SpecState) -> None:
        """One log line when a spec's phase changes, whatever the source: "shop/orders Ready:
        https://... (3 passes, 14 s)" (the terminal of `psctl run` and of the sandbox demo)."""
        phase = state.status.get("phase")
        if not phase or self.said.get(owner) == phase:
            return
        self.said[owner] = phase
        where = state.status.get("endpoint") or state.status.get("loadBalancerDnsName")
        took = f"({state.passes} passes, {time.monotonic() - state.since:.0f} s)"
        text = f"{owner} {phase}: {where} {took}" if phase == "Ready" and where else None
        log.info(text or f"{owner} {phase} {took}", owner=owner, phase=phase, endpoint=where)

    async def tell(self, feedback: Feedback, owner: str, status: dict[str, Any]) -> None:
        """A Normal Event when the phase changes (Degraded is a Warning; Failed has its own)."""
        phase = status.get("phase")
        if phase not in PHASE_EVENTS or self.told.get(owner) == phase:
            return
        message = PHASE_EVENTS[phase]
        if phase == "Ready" and status.get("endpoint"):
            message += f": {status['endpoint']}"
        await feedback.event(owner, "Warning" if phase == "Degraded" else "Normal", phase, message)
        self.told[owner] = phase

    async def release(
        self, feedback: Feedback | None, owner: str, state: SpecState, *, leader: bool
    ) -> bool:
        """A delete pass found nothing left to do: let the spec go in its source (its finalizer,
        with a last status and Event), then forget what it was told. False: try again later."""
        policy = state.spec.spec.deletion_policy
        if not leader:
            return False
        if feedback is not None:
            kept = policy == "Retain"
            try:
                await feedback.report(owner, state.status)
                await feedback.event(
                    owner,
                    "Normal",
                    "Retained" if kept else "Deleted",
                    "deletionPolicy Retain: the AWS resources are kept, no longer managed"
                    if kept
                    else "every AWS resource of this service is deleted",
                )
                await feedback.release(owner)
            except TemporaryError as exc:
                state.failures += 1
                log.warning("finalizer removal failed", owner=owner, error=str(exc))
                return False
            log.info("deleted", owner=owner, policy=policy)
        else:
            log.info("pruned", owner=owner, policy=policy)
        self.forget(owner, told=feedback is not None)
        return True

    async def report_invalid(
        self, feedback: Feedback, snap: Snapshot, states: Mapping[str, SpecState]
    ) -> None:
        """Status Failed on every invalid object of a listing that has an owner."""
        for inv in snap.invalid:
            state = states.get(inv.owner) if inv.owner else None
            if inv.owner is None or (state is not None and not state.problem):
                continue
            problems = inv.problems
            if inv.owner in snap.deleting and state is None:  # no valid spec known to delete by
                problems = (*problems, STUCK_DELETE)
            try:
                await feedback.report_invalid(inv.owner, problems)
            except TemporaryError as exc:
                log.warning("status write failed", owner=inv.owner, error=str(exc))


def status_list(
    states: Mapping[str, SpecState],
    invalid: Mapping[str, tuple[str, ...]],
    decorate: Callable[[str, dict[str, Any]], dict[str, Any]],
    router: EventRouter | None,
    *,
    ready: bool,
    leader: bool,
    effective_resync: Any,
) -> dict[str, Any]:
    """`/status`: every spec's status document (with its diagnosis and events), and every
    invalid document, as a Kubernetes-style List."""
    items: list[dict[str, Any]] = []
    for owner, state in sorted(states.items()):
        st = decorate(owner, dict(state.status) or {"phase": "Pending"})
        if state.problem:
            st["problem"] = state.problem
        doc = status_doc.document(state.spec, st) | {"source": state.origin}
        items.append(doc | (router.spec_status(owner) if router else {}))
    for location, problems in sorted(invalid.items()):
        items.append(
            {"source": location, "status": {"phase": "Failed", "problems": list(problems)}}
        )
    return {
        "apiVersion": "v1",
        "kind": "List",
        "ready": ready,
        "leader": leader,
        "effectiveResyncSeconds": effective_resync,
        "items": items,
    } | ({"events": router.status()} if router is not None else {})
