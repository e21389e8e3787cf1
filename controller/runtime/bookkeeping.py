"""Pass bookkeeping: what the controller does with one pass's report. Alerts raised (attributed to
the CloudTrail event that announced the change, when there is one), contested fields handed
over, metrics, failures counted, and the delay and reason of the spec's next pass (requeue,
backoff with jitter, the slow retry of a permanent failure, or the resync: `drift.resyncSeconds`,
or with an event source the jittered backstop).
Neighbours: `controller.runtime.controller` (the scheduler that calls `PassBook.after`),
`controller.runtime.step` (`PassReport`, `SpecState`), `controller.runtime.events`,
`controller.alerts`, `controller.runtime.metrics`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

import structlog

from controller.alerts import Alert, AlertDispatcher, ContestTracker, contested_alert
from controller.aws.session import AwsContext
from controller.runtime.events import EventRouter
from controller.runtime.metrics import Metrics
from controller.runtime.settings import RuntimeSettings
from controller.runtime.slots import Wake
from controller.runtime.step import Correction, PassReport, SpecState

log = structlog.get_logger(__name__)


class PassBook:
    """The bookkeeping of every spec's passes, shared by the controller's workers."""

    def __init__(
        self,
        aws: AwsContext,
        settings: RuntimeSettings,
        metrics: Metrics,
        dispatcher: AlertDispatcher,
        contests: ContestTracker,
        states: Mapping[str, SpecState],
        router: EventRouter | None,
    ) -> None:
        self.aws, self.settings, self.metrics = aws, settings, metrics
        self.dispatcher, self.contests, self.states, self.router = (
            dispatcher,
            contests,
            states,
            router,
        )

    def sync_metrics(self) -> None:
        """Bring the AWS call and budget metrics up to date (before a pass's or a scrape)."""
        self.metrics.sync_aws_calls(self.aws.counter.outcomes)
        self.metrics.sync_aws_budget(self.aws.counter.throttled(), self.aws.budget_waits())

    def after(self, owner: str, state: SpecState, report: PassReport) -> float:
        """Alerts, metrics and bookkeeping of one pass; returns the delay to the next."""
        m = self.metrics
        m.duration.observe(report.duration)
        self.sync_metrics()
        if self.router is not None:  # who made the drift (events), and what each pass saw
            events = self.router.take(owner)
            report.alerts = self.router.attribute(owner, events, report.alerts)
            stack = state.reconciler.last_stack if state.reconciler is not None else None
            self.router.observed(owner, report.outcome, stack)
        for alert in report.alerts:
            self.raise_(alert, state)
            report.raised.append(alert)
            m.drifts_detected.labels(alert.component, alert.field).inc()
            if alert.action == "corrected":
                m.drifts_corrected.labels(alert.component, alert.field).inc()
        for fix in report.corrected:
            if self.contests.record(owner, fix.key, fix.path):
                contested = self.contested(state, fix)
                self.raise_(contested, state)
                report.raised.append(contested)
        m.set_phases(Counter(s.status.get("phase", "Pending") for s in self.states.values()))
        if report.skipped:
            m.reconciles.labels("skipped").inc()
            return self.resync(state)
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
            return self.backoff(state.failures)
        state.failures = 0
        requeue = report.requeue_after
        m.reconciles.labels("requeue" if requeue is not None else "ok").inc()
        resync = self.resync(state)
        return resync if requeue is None else min(requeue, resync)

    def resync(self, state: SpecState) -> float:
        """A spec's full read: `drift.resyncSeconds`, or with an event source the backstop's
        `--full-resync`, jittered by up to 10 % so that specs do not resync in step."""
        if self.router is None:
            return float(state.spec.spec.drift.resync_seconds)
        return self.settings.full_resync_seconds * random.uniform(0.9, 1.1)  # noqa: S311

    def raise_(self, alert: Alert, state: SpecState) -> None:
        """Count the alert and send it to the spec's sinks."""
        self.metrics.alerts.labels(alert.kind).inc()
        self.dispatcher.submit(alert, state.spec.spec.alerts)

    def contested(self, state: SpecState, fix: Correction) -> Alert:
        """The one alert raised when the controller stops fighting over a field."""
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

    def backoff(self, failures: int) -> float:
        """The settings' backoff sequence for the n-th failure in a row, with jitter."""
        seq = self.settings.backoff
        base = seq[min(failures, len(seq)) - 1]
        return base * (1 + random.uniform(0, 0.25))  # noqa: S311 - jitter, not security


def due(report: PassReport) -> Wake:
    """Why the next pass of a spec runs, from what its last pass did."""
    if report.error:
        return Wake.RETRY
    if report.requeue_after is not None:
        return Wake.REQUEUE
    if report.alerts:
        return Wake.DRIFT
    return Wake.RESYNC
