"""Alert delivery off the reconciliation's path: dedupe, queue, fan out to sinks per target.

`submit` is synchronous and never blocks or raises: it dedupes and puts the alert on a bounded
queue (dropping the oldest when full). A router task fans each alert out to lanes, one lane per
(sink, target) - the log, each SNS topic, each webhook URL - and every lane has a bounded queue
and a fixed number of workers. So a dead webhook holds at most its own workers and its own queue:
the log, SNS and other URLs go on, and no task is created per alert. A flusher task sends the
deduper's follow-ups (the repeat counts). `stop` drains within a timeout, then cancels.
Neighbours: `controller.alerts.dedupe` (Deduper), `controller.alerts.sinks` (the sinks),
`controller.spec.models.Alerts` (a service's targets), the runtime (calls submit/start/stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Hashable
from typing import TypeVar

import structlog

from controller.alerts.dedupe import Clock, Deduper
from controller.alerts.model import Alert
from controller.alerts.sinks import DeliveryError, LogSink, Sink, WebhookSink, safe_url
from controller.spec.models import Alerts

log = structlog.get_logger(__name__)

T = TypeVar("T")


def _put_dropping_oldest(queue: asyncio.Queue[T], item: T) -> bool:
    """Put without waiting; when full, drop the oldest item first. True when one was dropped."""
    dropped = False
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
            queue.task_done()
            dropped = True
    queue.put_nowait(item)
    return dropped


class _Lane:
    """One (sink, target): a bounded queue and `workers` tasks sending from it in turn."""

    def __init__(
        self, dispatcher: AlertDispatcher, sink: Sink, target: str | None, size: int, workers: int
    ) -> None:
        self.sink = sink
        self.target = target
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=size)
        self._dispatcher = dispatcher
        self.tasks = [
            asyncio.create_task(self._work(), name=f"alerts-{sink.name}-{i}")
            for i in range(workers)
        ]

    def where(self) -> str:
        """The target as it may be logged."""
        if self.target is None:
            return "-"
        return safe_url(self.target) if self.target.startswith("http") else self.target

    async def _work(self) -> None:
        while True:
            alert = await self.queue.get()
            try:
                error = await self._send(alert)
            finally:
                self.queue.task_done()
            if error is None:
                self._dispatcher.delivered[self.sink.name] += 1
                continue
            self._dispatcher.failed[self.sink.name] += 1
            log.error(
                "alert delivery failed",
                sink=self.sink.name,
                target=self.where(),
                service=alert.service,
                field=alert.field,
                error=error,
            )

    async def _send(self, alert: Alert) -> str | None:
        """Send one alert; the reason it failed, or None. A failing sink never stops the lane."""
        try:
            await self.sink.send(alert, self.target)
        except DeliveryError as exc:
            return str(exc)
        except Exception as exc:  # a bug in a sink: keep the lane alive, say what happened
            return f"{type(exc).__name__}: {exc}"
        return None


class AlertDispatcher:
    """Dedupes alerts and delivers them to the log, SNS and webhooks without blocking anyone.

    `sns=None` disables SNS (no AWS context); `default_sns_topic` is used for services that name
    no topic. `lane_size` bounds each (sink, target) queue and `lane_workers` its concurrency.
    Counters: `delivered` and `failed` by sink name, `dropped` by queue (`submit` or a sink name).
    """

    def __init__(
        self,
        *,
        log_sink: Sink | None = None,
        sns: Sink | None = None,
        webhook: Sink | None = None,
        default_sns_topic: str | None = None,
        window_seconds: float = 300,
        queue_size: int = 10_000,
        lane_size: int = 1_000,
        lane_workers: int = 2,
        flush_interval: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.log_sink: Sink = LogSink() if log_sink is None else log_sink
        self.sns = sns
        self.webhook: Sink = WebhookSink() if webhook is None else webhook
        self.default_sns_topic = default_sns_topic
        self.deduper = Deduper(window_seconds, clock)
        self.flush_interval = (
            flush_interval if flush_interval is not None else min(max(window_seconds / 4, 0.05), 5)
        )
        self.lane_size = lane_size
        self.lane_workers = lane_workers
        self.delivered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self._queue: asyncio.Queue[tuple[Alert, Alerts]] = asyncio.Queue(maxsize=queue_size)
        self._targets: dict[Hashable, Alerts] = {}
        self._lanes: dict[tuple[str, str | None], _Lane] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, alert: Alert, targets: Alerts) -> None:
        """Queue `alert` for `targets` unless it repeats one within the window (then count it)."""
        self._targets[alert.dedupe_key()] = targets
        admitted = self.deduper.admit(alert)
        if admitted is not None:
            self._enqueue(admitted, targets)

    def _enqueue(self, alert: Alert, targets: Alerts) -> None:
        if _put_dropping_oldest(self._queue, (alert, targets)):
            self.dropped["submit"] += 1
            log.warning("alert queue full; dropped the oldest alert", size=self._queue.maxsize)

    def _destinations(self, targets: Alerts) -> list[tuple[Sink, str | None]]:
        out: list[tuple[Sink, str | None]] = [(self.log_sink, None)]
        topic = targets.sns_topic_arn or self.default_sns_topic
        if topic and self.sns is not None:
            out.append((self.sns, topic))
        if targets.webhook_url:
            out.append((self.webhook, targets.webhook_url))
        return out

    def _lane(self, sink: Sink, target: str | None) -> _Lane:
        key = (sink.name, target)
        lane = self._lanes.get(key)
        if lane is None:
            lane = _Lane(self, sink, target, self.lane_size, self.lane_workers)
            self._lanes[key] = lane
        return lane

    async def _route(self) -> None:
        while True:
            alert, targets = await self._queue.get()
            try:
                for sink, target in self._destinations(targets):
                    lane = self._lane(sink, target)
                    if _put_dropping_oldest(lane.queue, alert):
                        self.dropped[sink.name] += 1
                        log.warning(
                            "alert lane full; dropped the oldest alert",
                            sink=sink.name,
                            target=lane.where(),
                        )
            finally:
                self._queue.task_done()

    def flush(self, now: float | None = None) -> int:
        """Queue the deduper's follow-ups (ended windows with repeats); how many were queued."""
        follow_ups = self.deduper.flush(now)
        for alert in follow_ups:
            targets = self._targets.get(alert.dedupe_key(), Alerts())
            self._enqueue(alert, targets)
        self._targets = {k: v for k, v in self._targets.items() if self.deduper.tracking(k)}
        return len(follow_ups)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            self.flush()

    async def start(self) -> None:
        """Start the router and the flusher (alerts submitted before are delivered now)."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._route(), name="alerts-router"),
            asyncio.create_task(self._flush_periodically(), name="alerts-flusher"),
        ]

    async def _drain(self) -> None:
        await self._queue.join()
        await asyncio.gather(*(lane.queue.join() for lane in list(self._lanes.values())))

    async def stop(self, timeout: float = 5) -> None:
        """Queue pending follow-ups, deliver what can be within `timeout`, cancel the rest."""
        if self._tasks:
            self.flush(now=math.inf)
            try:
                await asyncio.wait_for(self._drain(), timeout)
            except TimeoutError:
                left = self._queue.qsize() + sum(
                    lane.queue.qsize() for lane in self._lanes.values()
                )
                log.warning("alerts not delivered before stop", waiting=left)
        tasks = self._tasks + [t for lane in self._lanes.values() for t in lane.tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []
        self._lanes = {}
        for sink in {id(s): s for s in (self.log_sink, self.sns, self.webhook) if s}.values():
            try:
                await sink.close()
            except Exception as exc:  # closing is best effort
                log.warning("closing an alert sink failed", sink=sink.name, error=str(exc))
