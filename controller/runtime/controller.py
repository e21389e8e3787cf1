"""The long-running controller: poll a source, one worker per spec, passes in worker threads.

kopf's shape: one queue per object (here an asyncio.Event per spec, so that events for the same
spec coalesce into one pass), one pass per spec at a time, a bound on passes across specs, a
resync timer per spec (`drift.resyncSeconds`), backoff with jitter after temporary failures and a
slow retry after permanent ones. Each worker knows why it woke (`slots.Wake`): the slots are a
priority gate where first passes, changes, requeues, retries, deletions and checks after drift go
before routine resyncs, and the routine resyncs of settled specs are spaced within the API
Gateway budget (`pacing`, `effectiveResyncSeconds`). boto3 is synchronous: passes run in a
thread pool so the loop stays free for the source, the alerts and the HTTP server. SIGTERM stops
new passes, lets the in-flight ones finish (up to a grace period), and returns.
With a `lease` (several replicas, `--leader-election`), workers start passes only while the lease
is held, and the AWS context refuses every mutating call once it is lost (a pass in flight then
fails with `FencedError` before sending it; a call already on the wire may still land, within the
lease's margin); status and events go back to the source only from the leader. The HTTP server
serves either way. Taking the lease wakes every worker.
Neighbours: `step` (one pass), `slots`, `pacing`, `server`, `metrics`, `controller.ports` (the
`Source` it polls, the lease), `controller.alerts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from controller.alerts import Alert, AlertDispatcher, ContestTracker, contested_alert
from controller.aws.session import AwsContext
from controller.errors import TemporaryError
from controller.ports.events import ChangeEvent, EventSource
from controller.ports.lease import LeaseBase
from controller.ports.source import Feedback, Snapshot, Source, fingerprint
from controller.reconcile import status as status_doc
from controller.runtime.diagnosis import Diagnoser
from controller.runtime.events import EventRouter, services_of
from controller.runtime.metrics import Metrics
from controller.runtime.pacing import ResyncPacer, apigateway_calls
from controller.runtime.server import StatusServer
from controller.runtime.settings import RuntimeSettings
from controller.runtime.slots import PriorityGate, Wake, most_urgent
from controller.runtime.step import (
    Correction,
    PassReport,
    SpecState,
    run_delete_pass,
    run_pass,
)

log = structlog.get_logger(__name__)

PHASE_EVENTS = {
    "Provisioning": "creating AWS resources, or waiting for them to become available",
    "Ready": "every AWS resource matches the spec",
    "Degraded": "running, but not as specified (see the conditions)",
    "Deleting": "deleting the AWS resources in reverse order",
}
SOURCE_UNHEALTHY_AFTER = 3
"""Polls of the source failing (or crashing) in a row before it is reported unhealthy."""
STUCK_DELETE = (
    "deletion waits: fix the spec so that the controller can delete its AWS resources, or "
    "remove the finalizer privateservice.io/finalizer to leave them in place"
)


@dataclass
class Worker:
    """The asyncio side of one spec: its wake-up event, next pass, why, and task."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    next_at: float | None = None
    due: Wake = Wake.RESYNC
    """Why the pass at `next_at` runs (set after each pass)."""
    woken: Wake | None = None
    """Why the worker was woken before its time (None: only to look at `next_at` again)."""
    reason: Wake | None = None
    """Why the last (or current) pass ran."""
    deleting: bool = False
    task: asyncio.Task[None] | None = None

    def poke(self, reason: Wake) -> None:
        """Wake the worker now, for `reason` (the most urgent of the pending reasons counts)."""
        self.woken = most_urgent(self.woken, reason)
        self.wake.set()

    def take(self, now: float) -> Wake | None:
        """The reason for a pass now (clears it), or None when nothing is due yet."""
        timer = self.due if self.next_at is not None and now >= self.next_at else None
        reason, self.woken = most_urgent(self.woken, timer), None
        if reason is not None and self.deleting:
            reason = Wake.DELETE
        return reason


class Controller:
    """Reconciles every spec of a source, continuously."""

    def __init__(
        self,
        source: Source,
        aws: AwsContext,
        settings: RuntimeSettings,
        dispatcher: AlertDispatcher,
        lease: LeaseBase | None = None,
        events: EventSource | None = None,
    ) -> None:
        self.source, self.aws, self.settings, self.dispatcher = source, aws, settings, dispatcher
        self.lease = lease
        if lease is not None:  # a pass in flight when the lease goes stops writing at once
            aws.write_gate = lambda: lease.is_leader
        self.metrics = Metrics()
        self.contests = ContestTracker(settings.contested_corrections, settings.contested_seconds)
        self.states: dict[str, SpecState] = {}
        self.workers: dict[str, Worker] = {}
        self.invalid: dict[str, tuple[str, ...]] = {}
        self._told: dict[str, str] = {}  # owner -> the last phase told as an Event
        self._said: dict[str, str] = {}  # owner -> the last phase said in the log
        self.stopping = asyncio.Event()
        self.slots = PriorityGate(settings.concurrency)
        self.pacer = ResyncPacer(
            settings.read_budget_per_second, lambda: apigateway_calls(aws.counter)
        )
        self.pacer.register(self.metrics.registry)
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="reconcile")
        self.router = (  # with an event source: events route passes, polling is the backstop
            None
            if events is None
            else EventRouter(
                events, self.metrics.registry, self._event_wake, self.leader, settings.events_retry
            )
        )
        self._first_round: set[str] | None = None
        self._in_flight = 0
        self.diagnoser = Diagnoser(aws, self.states, lambda: self.feedback, self.leader)
        self.server = StatusServer(
            settings.listen_host,
            settings.listen_port,
            ready=self.ready,
            metrics=self._render_metrics,
            status=self.status,
            doctor=self.diagnoser.request,
            health=self.health,
        )
        self.poll_failures = 0  # in a row
        self.poll_error: str | None = None

    # -- lifecycle -----------------------------------------------------------------------
    async def run(self) -> None:
        """Serve, poll and reconcile until `stopping` is set; then shut down in order."""
        await self.server.start()
        await self.dispatcher.start()
        log.info("controller started", source=self.source.name, port=self.server.bound_port)
        poller = asyncio.create_task(self._poll_forever())
        leasing = [] if self.lease is None else [asyncio.create_task(self._follow_lease())]
        router = self.router
        events = [] if router is None else [asyncio.create_task(router.run(self.stopping))]
        await self.stopping.wait()
        log.info("stopping: finishing in-flight passes", in_flight=self._in_flight)
        poller.cancel()
        for task in events:
            task.cancel()
        for w in self.workers.values():
            w.wake.set()  # no reason: the worker sees `stopping`
        tasks = [w.task for w in self.workers.values() if w.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
        if self.lease is not None:  # after the in-flight passes: no overlap with the next leader
            leasing[0].cancel()
            await self.lease.stop(release=True)
        self._pool.shutdown(wait=False, cancel_futures=True)
        close = getattr(self.source, "close", None)
        if close is not None:
            await close()
        await self.diagnoser.stop()
        await self.dispatcher.stop()
        await self.server.stop()
        log.info("controller stopped")

    def stop(self) -> None:
        """Ask the controller to stop (SIGTERM)."""
        self.stopping.set()

    def ready(self) -> bool:
        """True once every spec of the first listing has had a pass (a standby: once listed)."""
        if self.lease is not None and not self.lease.is_leader:
            return self._first_round is not None
        return self._first_round is not None and not self._first_round

    def leader(self) -> bool:
        """True while this replica may start passes (always, without leader election)."""
        return self.lease is None or self.lease.is_leader

    async def _follow_lease(self) -> None:
        """Keep the lease, and wake every worker each time it is taken."""
        assert self.lease is not None
        keeper = asyncio.create_task(self.lease.run())
        try:
            while not self.stopping.is_set():
                await self.lease.leading.wait()
                for w in self.workers.values():
                    w.poke(Wake.RESYNC)  # a reason kept while standing by still counts
                await self.lease.standby.wait()
        finally:
            keeper.cancel()

    # -- the source ----------------------------------------------------------------------
    @property
    def feedback(self) -> Feedback | None:
        """The source's feedback (status, events, finalizers), when it has one."""
        return self.source.feedback

    async def _poll_forever(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            if self.feedback is not None:
                self.feedback.changed.clear()
            try:
                snapshot = await self.source.snapshot()
                failures = 0
                self._apply(snapshot)
                await self._report_invalid(snapshot)
                delay = self.settings.poll_seconds
                self._poll_ended(None)
            except (TemporaryError, OSError) as exc:
                failures += 1
                self._poll_ended(f"failed: {exc}")
                delay = self._backoff(failures)
                log.warning(
                    "source poll failed",
                    source=self.source.name,
                    error=str(exc),
                    retry_in=round(delay, 1),
                )
            except Exception as exc:  # a bug must not end polling: the workers would never hear
                failures += 1
                self._poll_ended(f"crashed: {type(exc).__name__}: {exc}")
                delay = self._backoff(failures)
                log.exception("source poll crashed", source=self.source.name)
            await self._idle(delay)

    def _poll_ended(self, error: str | None) -> None:
        """Count a poll's outcome; SOURCE_UNHEALTHY_AFTER failures in a row mark the source
        unhealthy (`/healthz` detail, `psctl_source_healthy`) until one succeeds."""
        if error is None:
            self.poll_failures, self.poll_error = 0, None
        else:
            self.poll_failures += 1
            self.poll_error = error[:300]
            self.metrics.source_poll_failures.labels(error.split(":", 1)[0]).inc()
        healthy = self.poll_failures < SOURCE_UNHEALTHY_AFTER
        self.metrics.source_healthy.set(1 if healthy else 0)

    def health(self) -> dict[str, Any]:
        """The `/healthz` detail: the source's health."""
        healthy = self.poll_failures < SOURCE_UNHEALTHY_AFTER
        return {
            "status": "ok" if healthy else "degraded",
            "source": {
                "name": self.source.name,
                "healthy": healthy,
                "failuresInARow": self.poll_failures,
                "lastError": self.poll_error,
            },
        }

    async def _idle(self, delay: float) -> None:
        """Sleep until `delay` passes, the controller stops, or the source says it changed."""
        waits = [asyncio.ensure_future(self.stopping.wait())]
        if self.feedback is not None:
            waits.append(asyncio.ensure_future(self.feedback.changed.wait()))
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _report_invalid(self, snap: Snapshot) -> None:
        """Status Failed on every invalid object that has an owner (leader only)."""
        if self.feedback is None or not self.leader():
            return
        for inv in snap.invalid:
            state = self.states.get(inv.owner) if inv.owner else None
            if inv.owner is None or (state is not None and not state.problem):
                continue
            problems = inv.problems
            if inv.owner in snap.deleting and state is None:  # no valid spec known to delete by
                problems = (*problems, STUCK_DELETE)
            try:
                await self.feedback.report_invalid(inv.owner, problems)
            except TemporaryError as exc:
                log.warning("status write failed", owner=inv.owner, error=str(exc))

    def _apply(self, snap: Snapshot) -> None:
        """Start, update or retire workers to match a listing of the source."""
        for inv in snap.invalid:
            if self.invalid.get(inv.location) != inv.problems:
                log.warning("invalid document", location=inv.location, problems=list(inv.problems))
        self.invalid = {inv.location: inv.problems for inv in snap.invalid}
        broken = {inv.owner: inv for inv in snap.invalid if inv.owner}
        for owner, ps in snap.specs.items():
            fp = fingerprint(ps)
            state = self.states.get(owner)
            if state is None:
                self.states[owner] = SpecState(spec=ps, fingerprint=fp, origin=snap.origins[owner])
                self.workers[owner] = Worker()
                self.workers[owner].task = asyncio.create_task(self._work(owner))
                self.workers[owner].poke(Wake.CREATE)
            elif state.fingerprint != fp or state.problem:
                log.info("spec changed", owner=owner)
                state.spec, state.fingerprint, state.reconciler = ps, fp, None
                state.failures, state.problem = 0, None
                self.contests.clear(owner)
                self.workers[owner].deleting = False
                self.workers[owner].poke(Wake.CHANGE)
        self._mark_deleting(snap.deleting)
        for owner in [o for o in self.states if o not in snap.specs]:
            if owner in broken:  # a typo in its document is not a removal
                self.states[owner].problem = (
                    "its document is invalid now; the last valid spec is kept: "
                    + "; ".join(broken[owner].problems)
                )
                continue
            if not snap.complete:
                continue  # the source could not be read whole: absence proves nothing
            state = self.states[owner]
            if self.settings.prune:
                if not self.workers[owner].deleting:
                    log.info(
                        "spec removed from the source: pruning",
                        owner=owner,
                        policy=state.spec.spec.deletion_policy,
                    )
                    self.workers[owner].deleting = True
                    self.workers[owner].poke(Wake.DELETE)
            else:
                log.info(
                    "spec removed from the source: its AWS resources stay (no --prune)", owner=owner
                )
                self._forget(owner)
        if self._first_round is None:
            self._first_round = set(snap.specs)

    def _mark_deleting(self, owners: frozenset[str]) -> None:
        """Deletion asked in the source itself (Kubernetes): --prune does not matter."""
        for owner in owners & self.states.keys():
            worker = self.workers[owner]
            if not worker.deleting:
                log.info(
                    "deletion requested in the source",
                    owner=owner,
                    policy=self.states[owner].spec.spec.deletion_policy,
                )
                worker.deleting = True
                worker.poke(Wake.DELETE)

    def _event_wake(self, owner: str, event: ChangeEvent) -> bool:
        """An event names a resource of `owner`: forget the reads it made stale, queue a pass."""
        worker, state = self.workers.get(owner), self.states.get(owner)
        if worker is None or state is None:
            return False
        aws = state.reconciler.aws if state.reconciler is not None else self.aws
        for service in services_of(event):
            aws.forget(service)
        worker.poke(Wake.EVENT)
        return True

    def _forget(self, owner: str) -> None:
        if self.router is not None:
            self.router.forget(owner)
        worker = self.workers.pop(owner, None)
        self.states.pop(owner, None)
        self.pacer.unsettle(owner)
        self.diagnoser.forget(owner)
        if worker and worker.task:
            worker.task.cancel()
        if self._first_round is not None:
            self._first_round.discard(owner)

    # -- one spec ------------------------------------------------------------------------
    async def _work(self, owner: str) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            w = self.workers.get(owner)
            if w is None:
                return
            timeout = None if w.next_at is None else max(0.0, w.next_at - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(w.wake.wait(), timeout)
            if self.stopping.is_set() or owner not in self.states:
                return
            w.wake.clear()
            reason = w.take(loop.time())
            if reason is None:
                continue  # woken to look at its time again, and not due yet
            if not self.leader():  # a standby: the pass waits for the lease (which wakes it)
                w.woken, w.next_at = reason, None
                continue
            ran = await self._slot_pass(owner, w, reason)
            if ran is None:
                continue
            state, deleting, report = ran
            if (
                deleting
                and w.deleting
                and report.outcome is not None
                and not report.outcome.mutated
                and report.outcome.requeue_after is None
                and not report.error
            ):
                if await self._released(owner, state):
                    self._forget(owner)
                    return
                w.next_at = loop.time() + self._backoff(max(state.failures, 1))
                w.due = Wake.DELETE
                continue
            delay = self._after(owner, state, report)
            w.due = Wake.DELETE if w.deleting else _due(report)
            if w.due is Wake.RESYNC and not report.skipped:  # settled: paced within the budget
                w.next_at = self.pacer.settle(owner, loop.time(), delay)
            else:
                w.next_at = loop.time() + delay
            self._say_phase(owner, state)
            self.diagnoser.after_pass(owner, state, deleting=deleting)  # doctor when broken
            await self._feed(owner, state, report)

    async def _slot_pass(
        self, owner: str, w: Worker, reason: Wake
    ) -> tuple[SpecState, bool, PassReport] | None:
        """Wait for a slot at the gate (urgent first), then run the pass: what ran, or None."""
        self.pacer.unsettle(owner)
        w.reason = reason
        self.metrics.queue_depth.inc()
        async with self.slots.slot(rank=reason.rank):
            self.metrics.queue_depth.dec()
            if self.stopping.is_set():
                return None
            if not self.leader():  # lost while waiting for a slot
                w.woken, w.next_at = most_urgent(w.woken, reason), None
                return None
            state = self.states[owner]
            deleting = w.deleting  # it may change during the pass: what ran is what counts
            routine = reason is Wake.RESYNC and not deleting
            if reason is Wake.EVENT and self.router is not None:
                self.router.metrics.passes.inc()
            self.pacer.started(routine)
            try:
                report = await self._pass(owner, state, deleting)
            finally:
                self.pacer.finished(routine)
        return None if report is None else (state, deleting, report)

    async def _pass(self, owner: str, state: SpecState, deleting: bool) -> PassReport | None:
        """Prepare the spec in its source (a finalizer), then run one pass in a thread."""
        if self.feedback is not None and not deleting:
            try:
                if not await self.feedback.prepare(owner):
                    return None
            except TemporaryError as exc:
                return PassReport(outcome=None, error=str(exc))
        return await self._run_in_thread(state, deleting)

    async def _released(self, owner: str, state: SpecState) -> bool:
        """A delete pass found nothing left to do: let the spec go in its source."""
        policy = state.spec.spec.deletion_policy
        if not self.leader():
            return False
        if self.feedback is not None:
            kept = policy == "Retain"
            try:
                await self.feedback.report(owner, state.status)
                await self.feedback.event(
                    owner,
                    "Normal",
                    "Retained" if kept else "Deleted",
                    "deletionPolicy Retain: the AWS resources are kept, no longer managed"
                    if kept
                    else "every AWS resource of this service is deleted",
                )
                await self.feedback.release(owner)
            except TemporaryError as exc:
                state.failures += 1
                log.warning("finalizer removal failed", owner=owner, error=str(exc))
                return False
            log.info("deleted", owner=owner, policy=policy)
            self._told.pop(owner, None)
        else:
            log.info("pruned", owner=owner, policy=policy)
        self._said.pop(owner, None)
        return True

    async def _feed(self, owner: str, state: SpecState, report: PassReport) -> None:
        """Status and Events of one pass back to the source (Kubernetes), best effort."""
        feedback = self.feedback
        if feedback is None or report.skipped or not self.leader():
            return
        try:
            if state.problem:
                await feedback.report_invalid(owner, [state.problem])
            elif state.status:
                await feedback.report(owner, state.status)
                await self._tell_phase(feedback, owner, state.status)
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

    def _say_phase(self, owner: str, state: SpecState) -> None:
        """One log line when a spec's phase changes, whatever the source: "shop/orders Ready:
        https://... (3 passes, 14 s)" (the terminal of `psctl run` and of the sandbox demo)."""
        phase = state.status.get("phase")
        if not phase or self._said.get(owner) == phase:
            return
        self._said[owner] = phase
        where = state.status.get("endpoint") or state.status.get("loadBalancerDnsName")
        took = f"({state.passes} passes, {time.monotonic() - state.since:.0f} s)"
        text = f"{owner} {phase}: {where} {took}" if phase == "Ready" and where else None
        log.info(text or f"{owner} {phase} {took}", owner=owner, phase=phase, endpoint=where)

    async def _tell_phase(self, feedback: Feedback, owner: str, status: dict[str, Any]) -> None:
        """A Normal Event when the phase changes (Degraded is a Warning; Failed has its own)."""
        phase = status.get("phase")
        if phase not in PHASE_EVENTS or self._told.get(owner) == phase:
            return
        message = PHASE_EVENTS[phase]
        if phase == "Ready" and status.get("endpoint"):
            message += f": {status['endpoint']}"
        await feedback.event(owner, "Warning" if phase == "Degraded" else "Normal", phase, message)
        self._told[owner] = phase

    async def _run_in_thread(self, state: SpecState, deleting: bool) -> PassReport:
        loop = asyncio.get_running_loop()
        cap = self.settings.max_requeue_seconds
        self._in_flight += 1
        try:
            if deleting:
                return await loop.run_in_executor(self._pool, run_delete_pass, state, self.aws, cap)
            contested = self.contests.contested(state.owner)
            return await loop.run_in_executor(self._pool, run_pass, state, self.aws, contested, cap)
        except Exception as exc:  # a bug or an unforeseen error must never kill the worker
            log.exception("reconcile pass crashed", owner=state.owner)
            return PassReport(outcome=None, error=f"{type(exc).__name__}: {exc}")
        finally:
            self._in_flight -= 1

    def _after(self, owner: str, state: SpecState, report: PassReport) -> float:
        """Alerts, metrics and bookkeeping of one pass; returns the delay to the next."""
        if self._first_round is not None:
            self._first_round.discard(owner)
        m = self.metrics
        m.duration.observe(report.duration)
        m.sync_aws_calls(self.aws.counter.outcomes)
        m.sync_aws_budget(self.aws.counter.throttled(), self.aws.budget_waits())
        if self.router is not None:  # who made the drift (events), and what each pass saw
            events = self.router.take(owner)
            report.alerts = self.router.attribute(owner, events, report.alerts)
            stack = state.reconciler.last_stack if state.reconciler is not None else None
            self.router.observed(owner, report.outcome, stack)
        for alert in report.alerts:
            self._raise(alert, state)
            report.raised.append(alert)
            m.drifts_detected.labels(alert.component, alert.field).inc()
            if alert.action == "corrected":
                m.drifts_corrected.labels(alert.component, alert.field).inc()
        for fix in report.corrected:
            if self.contests.record(owner, fix.key, fix.path):
                contested = self._contested(state, fix)
                self._raise(contested, state)
                report.raised.append(contested)
        m.set_phases(Counter(s.status.get("phase", "Pending") for s in self.states.values()))
        if report.skipped:
            m.reconciles.labels("skipped").inc()
            return self._resync(state)
        if report.error:
            state.failures += 1
            m.reconciles.labels("permanent_error" if report.permanent else "error").inc()
            log.warning(
                "reconcile failed",
                owner=owner,
                error=report.error,
                permanent=report.permanent,
                failures=state.failures,
            )
            if report.permanent:
                return self.settings.permanent_retry_seconds
            return self._backoff(state.failures)
        state.failures = 0
        requeue = report.requeue_after
        m.reconciles.labels("requeue" if requeue is not None else "ok").inc()
        resync = self._resync(state)
        return resync if requeue is None else min(requeue, resync)

    def _resync(self, state: SpecState) -> float:
        """A spec's full read: `drift.resyncSeconds`, or with an event source the backstop's
        `--full-resync`, jittered by up to 10 % so that specs do not resync in step."""
        if self.router is None:
            return float(state.spec.spec.drift.resync_seconds)
        return self.settings.full_resync_seconds * random.uniform(0.9, 1.1)  # noqa: S311

    def _raise(self, alert: Alert, state: SpecState) -> None:
        self.metrics.alerts.labels(alert.kind).inc()
        self.dispatcher.submit(alert, state.spec.spec.alerts)

    def _contested(self, state: SpecState, fix: Correction) -> Alert:
        s = self.settings
        alert = contested_alert(
            state.owner,
            fix.component,
            fix.resource,
            fix.path,
            fix.expected,
            fix.actual,
            s.contested_corrections + 1,
            s.contested_seconds,
        )
        if fix.spec_path:  # ignoreFields speaks the spec's language, not the resource's
            alert = replace(
                alert, message=alert.message.replace(f"add '{fix.path}'", f"add '{fix.spec_path}'")
            )
        return alert

    def _backoff(self, failures: int) -> float:
        seq = self.settings.backoff
        base = seq[min(failures, len(seq)) - 1]
        return base * (1 + random.uniform(0, 0.25))  # noqa: S311 - jitter, not security

    # -- views ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Every spec's status document, and every invalid document, as `/status` serves."""
        items: list[dict[str, Any]] = []
        for owner, state in sorted(self.states.items()):
            st = self.diagnoser.decorate(owner, dict(state.status) or {"phase": "Pending"})
            if state.problem:
                st["problem"] = state.problem
            doc = status_doc.document(state.spec, st) | {"source": state.origin}
            items.append(doc | (self.router.spec_status(owner) if self.router else {}))
        for location, problems in sorted(self.invalid.items()):
            items.append(
                {"source": location, "status": {"phase": "Failed", "problems": list(problems)}}
            )
        return {
            "apiVersion": "v1",
            "kind": "List",
            "ready": self.ready(),
            "leader": self.leader(),
            "effectiveResyncSeconds": self.pacer.effective(),
            "items": items,
        } | ({"events": self.router.status()} if self.router is not None else {})

    def _render_metrics(self) -> bytes:
        self.metrics.sync_aws_calls(self.aws.counter.outcomes)
        self.metrics.sync_aws_budget(self.aws.counter.throttled(), self.aws.budget_waits())
        return self.metrics.render()


def _due(report: PassReport) -> Wake:
    """Why the next pass of a spec runs, from what its last pass did."""
    if report.error:
        return Wake.RETRY
    if report.requeue_after is not None:
        return Wake.REQUEUE
    if report.alerts:
        return Wake.DRIFT
    return Wake.RESYNC
