"""The long-running controller's scheduler: one worker per spec, passes in worker threads.

kopf's shape: one wake-up per spec (events for it coalesce into one pass), one pass per spec at a
time, a bound on passes across specs, a resync timer per spec, backoff after failures. Each worker
knows why it woke (`slots.Wake`): the slots are a priority gate where first passes, changes,
requeues, retries, deletions and checks after drift go before routine resyncs, which `pacing`
spaces within the API Gateway budget. SIGTERM stops new passes, lets the in-flight ones finish
(up to a grace period), and returns. With a `lease`, workers start passes only while it is held,
and the AWS context refuses every mutating call once it is lost; taking it wakes every worker.
Beside it: `polling` (follow the source), `bookkeeping` (a pass's report -> alerts, metrics,
the next pass), `phases` (status, Events, log lines to the source), `step` (one pass), `events`
(CloudTrail routing), `diagnosis` (doctor on broken specs), `server` and `metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from controller.alerts import AlertDispatcher, ContestTracker
from controller.aws.session import AwsContext
from controller.errors import TemporaryError
from controller.ports.events import ChangeEvent, EventSource
from controller.ports.lease import LeaseBase
from controller.ports.source import Feedback, Snapshot, Source, fingerprint
from controller.runtime.bookkeeping import PassBook
from controller.runtime.bookkeeping import due as _due
from controller.runtime.diagnosis import Diagnoser
from controller.runtime.events import EventRouter, services_of
from controller.runtime.metrics import Metrics
from controller.runtime.pacing import ResyncPacer, apigateway_calls
from controller.runtime.phases import PhaseFeedback, status_list
from controller.runtime.polling import SourcePoller
from controller.runtime.server import StatusServer
from controller.runtime.settings import RuntimeSettings
from controller.runtime.slots import PriorityGate, Wake, Worker, follow_lease, most_urgent
from controller.runtime.step import (
    PassReport,
    SpecState,
    run_delete_pass,
    run_pass,
)

log = structlog.get_logger(__name__)


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
        self.phases = PhaseFeedback()
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
        self.book = PassBook(
            aws, settings, self.metrics, dispatcher, self.contests, self.states, self.router
        )
        self.poller = SourcePoller(
            lambda: self.source,
            settings.poll_seconds,
            self.metrics,
            self.stopping,
            self._apply,
            self._report_invalid,
            self.book.backoff,
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

    # -- lifecycle -----------------------------------------------------------------------
    async def run(self) -> None:
        """Serve, poll and reconcile until `stopping` is set; then shut down in order."""
        await self.server.start()
        await self.dispatcher.start()
        log.info("controller started", source=self.source.name, port=self.server.bound_port)
        poller = asyncio.create_task(self.poller.run())
        leasing = (
            []
            if self.lease is None
            else [asyncio.create_task(follow_lease(self.lease, self.stopping, self.workers))]
        )
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

    # -- the source ----------------------------------------------------------------------
    @property
    def feedback(self) -> Feedback | None:
        """The source's feedback (status, events, finalizers), when it has one."""
        return self.source.feedback

    @property
    def poll_failures(self) -> int:
        """Polls of the source that failed (or crashed) in a row."""
        return self.poller.failures

    def health(self) -> dict[str, Any]:
        """The `/healthz` detail: the source's health."""
        return self.poller.health()

    async def _report_invalid(self, snap: Snapshot) -> None:
        """Status Failed on every invalid object that has an owner (leader only)."""
        if self.feedback is not None and self.leader():
            await self.phases.report_invalid(self.feedback, snap, self.states)

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
                if await self.phases.release(self.feedback, owner, state, leader=self.leader()):
                    self._forget(owner)
                    return
                w.next_at = loop.time() + self.book.backoff(max(state.failures, 1))
                w.due = Wake.DELETE
                continue
            delay = self._after(owner, state, report)
            w.due = Wake.DELETE if w.deleting else _due(report)
            if w.due is Wake.RESYNC and not report.skipped:  # settled: paced within the budget
                rounds = self.router is None  # the event source's backstop is jittered instead
                w.next_at = self.pacer.settle(owner, loop.time(), delay, rounds=rounds)
            else:
                w.next_at = loop.time() + delay
            self.phases.say(owner, state)
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

    async def _feed(self, owner: str, state: SpecState, report: PassReport) -> None:
        """Status and Events of one pass back to the source (Kubernetes), leader only."""
        feedback = self.feedback
        if feedback is None or report.skipped or not self.leader():
            return
        await self.phases.feed(feedback, owner, state, report)

    def _after(self, owner: str, state: SpecState, report: PassReport) -> float:
        """Bookkeeping of one pass (see `bookkeeping.PassBook`); the delay to the next."""
        if self._first_round is not None:
            self._first_round.discard(owner)
        delay = self.book.after(owner, state, report)
        if state.reconciler is not None:  # rebuilt by the next pass: not kept while idle
            state.reconciler.last_stack = None
        return delay

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

    # -- views ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Every spec's status document, and every invalid document, as `/status` serves."""
        return status_list(
            self.states,
            self.invalid,
            self.diagnoser.decorate,
            self.router,
            ready=self.ready(),
            leader=self.leader(),
            effective_resync=self.pacer.effective(),
        )

    def _render_metrics(self) -> bytes:
        self.book.sync_metrics()
        return self.metrics.render()
