"""Event-driven drift: route CloudTrail events from an `EventSource` to the spec that owns the
resource, as an immediate targeted pass.

`EventIndex` (`event_index`) maps every resource id, name and ARN the engine observed for a
spec to that spec.
`EventRouter.run` long-polls the source while this replica leads, and for each message:
- not a CloudTrail API-call event: counted `malformed`, deleted;
- a failed call (`errorCode`) or a read-only one: nothing changed, counted and deleted;
- made with the controller's own credentials or principal (`Identity.made`): its own write,
  counted `own`, deleted, no pass;
- naming no resource any spec owns: counted `unowned`, deleted, no AWS call;
- else each owning spec's worker is poked (`Wake.EVENT`, coalesced with any pass already
  queued) and its reads of that service are forgotten, so the pass sees the change. A burst
  (events within `settle` s of the last wake) makes one more pass once it is quiet: at most
  two passes. A message is deleted only after the pass it routes to is queued.
A failing source (the queue deleted, no permission) is reported (`status()`, the
`psctl_events_source_up` gauge), retried with backoff, and polling goes on as before; the
backstop (a full resync every `--full-resync`) keeps finding what events miss, and counts it
(`backstop_find`). Per spec it keeps the last event and the events not yet seen by a pass, which
`attribute` puts on the pass's drift alerts (who, from where, which call, when).
Neighbours: `controller.runtime.controller` (wires it, pokes workers), `controller.ports.events`,
`controller.reconcile.engine` (`Outcome`), `controller.alerts` (`Alert`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from controller.alerts import Alert
from controller.model.stack import Stack
from controller.ports.events import ChangeEvent, Delivery, EventSource, Identity
from controller.reconcile.engine import Outcome
from controller.runtime.event_index import EventIndex, observed_ids

log = structlog.get_logger(__name__)

SERVICES = {
    "apigateway": ("apigateway", "apigatewayv2"),
    "elasticloadbalancing": ("elbv2",),
}
"""CloudTrail event source (short) -> the botocore services whose reads it may change."""
BACKLOG_EVERY = 15.0  # seconds between two ApproximateNumberOfMessages reads
MAX_HOLD = 5.0  # seconds a burst's trailing pass waits at most after its first event
IDENTITY_EVERY = 300.0  # seconds between two GetCallerIdentity (credentials rotate)


class EventMetrics:
    """The event source's series, in the controller's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.received = Counter(
            "psctl_events_received",
            "Events received by what became of them (routed, own, unowned, failed_call, "
            "read_only, malformed)",
            ["result"],
            registry=r,
        )
        self.lag = Histogram(
            "psctl_event_lag_seconds",
            "From eventTime to receipt by the controller",
            registry=r,
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
        )
        self.backlog = Gauge(
            "psctl_events_backlog", "ApproximateNumberOfMessages of the queue", registry=r
        )
        self.up = Gauge("psctl_events_source_up", "1 while the event source answers", registry=r)
        self.failures = Counter(
            "psctl_events_source_failures", "Failed calls to the event source", registry=r
        )
        self.passes = Counter("psctl_event_passes", "Passes started by an event", registry=r)
        self.backstop = Counter(
            "psctl_events_backstop_finds",
            "Drift found by a polling pass that no event announced (the measure of event loss)",
            ["component"],
            registry=r,
        )
        self.last_event = Gauge(
            "psctl_events_last_event_timestamp_seconds",
            "eventTime of the last event routed to a spec",
            ["spec"],
            registry=r,
        )


@dataclass
class SpecEvents:
    """What the router knows of one spec's events."""

    last: ChangeEvent | None = None
    last_lag: float | None = None
    pending: list[ChangeEvent] = field(default_factory=list)
    """Routed and not yet seen by a pass."""
    backstop_finds: int = 0


class EventRouter:
    """Receives events while this replica leads and pokes the owning specs' workers."""

    def __init__(
        self,
        source: EventSource,
        registry: CollectorRegistry,
        wake: Callable[[str, ChangeEvent], bool],
        leader: Callable[[], bool],
        retry: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0),
        settle: float = 1.0,
    ) -> None:
        """`wake(owner, event)` queues a pass of `owner` (False: no such spec any more)."""
        self.source, self.wake, self.leader, self.retry = source, wake, leader, retry
        self.settle = settle
        self._last_fire: dict[str, float] = {}
        self._first_held: dict[str, float] = {}
        self._trailing: dict[str, asyncio.TimerHandle] = {}
        self._held: dict[str, list[str]] = {}
        self._deleting: set[asyncio.Task[None]] = set()
        self.index = EventIndex()
        self.metrics = EventMetrics(registry)
        self.specs: dict[str, SpecEvents] = {}
        self.state = "starting"
        self.error: str | None = None
        self.backlog: int | None = None
        self.last_receive: str | None = None
        self._identity: Identity | None = None
        self._identity_at = 0.0
        self._backlog_at = 0.0

    # -- the loop ----------------------------------------------------------------------
    async def run(self, stopping: asyncio.Event) -> None:
        """Receive and route until `stopping`; failures are reported and retried, never raised."""
        failures = 0
        while not stopping.is_set():
            if not self.leader():  # a standby leaves the messages to the leader
                await _sleep(stopping, 1.0)
                continue
            try:
                await self._refresh()
                batch = await self.source.receive()
                self._up()
                await self.source.delete(await self.handle(batch))
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: report, back off, go on
                failures += 1
                self._down(exc)
                await _sleep(stopping, self.retry[min(failures, len(self.retry)) - 1])

    async def _refresh(self) -> None:
        now = time.monotonic()
        if self._identity is None or now - self._identity_at > IDENTITY_EVERY:
            self._identity = await self.source.identity()
            self._identity_at = now
        if now - self._backlog_at > BACKLOG_EVERY:
            self.backlog = await self.source.backlog()
            self.metrics.backlog.set(self.backlog)
            self._backlog_at = now

    def _up(self) -> None:
        if self.state != "ok":
            log.info("event source receiving", source=self.source.name)
        self.state, self.error = "ok", None
        self.last_receive = _iso(datetime.now(UTC))
        self.metrics.up.set(1)

    def _down(self, exc: Exception) -> None:
        self.metrics.failures.inc()
        self.metrics.up.set(0)
        self._backlog_at = 0.0  # read the backlog again as soon as it answers
        if self.state != "failed" or self.error != str(exc):
            log.warning(
                "event source failed: drift is found by polling until it answers",
                source=self.source.name,
                error=str(exc),
            )
        self.state, self.error = "failed", str(exc)

    # -- one batch ---------------------------------------------------------------------
    async def handle(self, batch: list[Delivery]) -> list[str]:
        """Route a batch; the receipts of the messages to delete (every one: each was routed,
        or dropped for good)."""
        return [d.receipt for d in batch if self.route(d)]

    def route(self, delivery: Delivery) -> bool:
        """Route one message; True when it may be deleted."""
        event = delivery.event
        if event is None:
            log.warning("malformed event dropped", problem=delivery.problem)
            return self._count("malformed")
        if event.error_code:
            return self._count("failed_call")
        if event.read_only:
            return self._count("read_only")
        if self._identity is not None and self._identity.made(event):
            return self._count("own")
        owners = self.index.owners(event.ids)
        if not owners:
            return self._count("unowned")
        lag = _lag(event)
        if lag is not None:
            self.metrics.lag.observe(lag)
        held = False
        for owner in sorted(owners):
            spec = self.specs.setdefault(owner, SpecEvents())
            spec.last, spec.last_lag = event, lag
            spec.pending.append(event)
            if event.event_time is not None:
                self.metrics.last_event.labels(owner).set(event.event_time.timestamp())
            log.info(
                "event: pass queued",
                owner=owner,
                call=event.event_name,
                changed_by=event.changed_by,
                lag=None if lag is None else round(lag, 2),
            )
            if not self._queue_pass(owner, event, None if held else delivery.receipt):
                held = True
        self._count("routed")
        return not held

    def _queue_pass(self, owner: str, event: ChangeEvent, receipt: str | None) -> bool:
        """Wake `owner` now (True), or, within `settle` s of its last wake (a burst: a console
        save or a script makes many calls), once more when the burst has been quiet for `settle`
        s (at most `MAX_HOLD` s after its first event), holding `receipt` until then (False)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a direct call): at once
            self.wake(owner, event)
            return True
        now = loop.time()
        pending = self._trailing.pop(owner, None)
        if pending is None and now - self._last_fire.get(owner, -1e9) >= self.settle:
            self._last_fire[owner] = now
            self.wake(owner, event)
            return True
        if pending is not None:
            pending.cancel()
        first = self._first_held.setdefault(owner, now)
        if receipt is not None:
            self._held.setdefault(owner, []).append(receipt)
        delay = min(self.settle, max(0.0, first + MAX_HOLD - now))
        self._trailing[owner] = loop.call_later(delay, self._fire, owner, event)
        return False

    def _fire(self, owner: str, event: ChangeEvent) -> None:
        """The trailing wake of a burst; then its messages are deleted."""
        self._trailing.pop(owner, None)
        self._first_held.pop(owner, None)
        self._last_fire[owner] = asyncio.get_running_loop().time()
        self.wake(owner, event)
        held = self._held.pop(owner, [])
        if held:
            task = asyncio.ensure_future(self._delete(held))
            self._deleting.add(task)
            task.add_done_callback(self._deleting.discard)

    def _count(self, result: str) -> bool:
        self.metrics.received.labels(result).inc()
        return True

    async def _delete(self, receipts: list[str]) -> None:
        try:
            await self.source.delete(receipts)
        except Exception as exc:  # reported; the messages come back and are routed again
            self._down(exc)

    # -- passes ------------------------------------------------------------------------
    def observed(self, owner: str, outcome: Outcome | None, stack: Stack | None) -> None:
        """Index what a pass of `owner` saw."""
        self.index.observe(owner, observed_ids(outcome, stack))

    def forget(self, owner: str) -> None:
        """The spec is gone: nothing routes to it any more."""
        self.index.forget(owner)
        self.specs.pop(owner, None)
        with contextlib.suppress(KeyError):  # no event was ever routed to it
            self.metrics.last_event.remove(owner)

    def take(self, owner: str) -> list[ChangeEvent]:
        """The events routed to `owner` since its last pass began (a pass begins now)."""
        spec = self.specs.get(owner)
        if spec is None:
            return []
        taken, spec.pending = spec.pending, []
        return taken

    def attribute(self, owner: str, events: list[ChangeEvent], alerts: list[Alert]) -> list[Alert]:
        """The pass's alerts with who made the change; drift no event announced counts as a
        backstop find."""
        out = []
        for alert in alerts:
            event = _matching(events, alert)
            if event is None:
                if alert.kind == "drift":
                    self.metrics.backstop.labels(alert.component).inc()
                    self.specs.setdefault(owner, SpecEvents()).backstop_finds += 1
                out.append(alert)
                continue
            out.append(
                replace(
                    alert,
                    changed_by=event.changed_by,
                    source_ip=event.source_ip,
                    event_name=event.event_name,
                    event_time=_iso(event.event_time) if event.event_time else None,
                )
            )
        return out

    # -- views -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The source's state for `/status`."""
        return {
            "source": self.source.name,
            "state": self.state,
            "error": self.error,
            "backlog": self.backlog,
            "lastReceive": self.last_receive,
            "indexedIds": len(self.index),
            "backstopFinds": sum(s.backstop_finds for s in self.specs.values()),
        }

    def spec_status(self, owner: str) -> dict[str, Any]:
        """`lastEvent` and `backstopFinds` of one spec for its `/status` item (when known)."""
        spec = self.specs.get(owner)
        if spec is None:
            return {}
        e = spec.last
        if e is None:
            return {"backstopFinds": spec.backstop_finds}
        return {
            "lastEvent": {
                "eventName": e.event_name,
                "eventTime": _iso(e.event_time) if e.event_time else None,
                "changedBy": e.changed_by,
                "sourceIPAddress": e.source_ip,
                "lagSeconds": None if spec.last_lag is None else round(spec.last_lag, 3),
            },
            "backstopFinds": spec.backstop_finds,
        }


def services_of(event: ChangeEvent) -> tuple[str, ...]:
    """The botocore services whose stored reads an event may have made stale."""
    return SERVICES.get(event.service, (event.service,))


def _matching(events: list[ChangeEvent], alert: Alert) -> ChangeEvent | None:
    if not events:
        return None
    names = {alert.resource, *alert.resource.split("/")}  # a usage-plan key is `<plan>/<key>`
    for event in reversed(events):
        if names & event.ids:
            return event
    return events[-1]  # the pass an event started: the latest one (a deleted resource has no id)


def _lag(event: ChangeEvent) -> float | None:
    if event.event_time is None:
        return None
    return max(0.0, (datetime.now(UTC) - event.event_time).total_seconds())


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _sleep(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
