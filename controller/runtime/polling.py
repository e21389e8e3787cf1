"""Following the source: poll it, hand each snapshot to the controller, keep polling through any
failure, and say how healthy the source is.

`SourcePoller.run` polls every `poll_seconds` (sooner when the source's feedback says it changed),
backs off after failures, and never ends on a bug (the workers would never hear again); after
SOURCE_UNHEALTHY_AFTER failures in a row the source is reported unhealthy (`/healthz` detail,
`psctl_source_healthy`) until one poll succeeds.
Neighbours: `controller.runtime.controller` (gives it `apply` and `report_invalid`),
`controller.ports.source` (`Source`, `Snapshot`), `controller.runtime.metrics`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from controller.errors import TemporaryError
from controller.ports.source import Snapshot, Source
from controller.runtime.metrics import Metrics

log = structlog.get_logger(__name__)

SOURCE_UNHEALTHY_AFTER = 3
"""Polls of the source failing (or crashing) in a row before it is reported unhealthy."""


class SourcePoller:
    """Polls one source for the controller until it stops."""

    def __init__(
        self,
        source: Callable[[], Source],
        poll_seconds: float,
        metrics: Metrics,
        stopping: asyncio.Event,
        apply: Callable[[Snapshot], None],
        report_invalid: Callable[[Snapshot], Awaitable[None]],
        backoff: Callable[[int], float],
    ) -> None:
        self._source, self.poll_seconds, self.metrics = source, poll_seconds, metrics
        self.stopping, self.apply, self.report_invalid = stopping, apply, report_invalid
        self.backoff = backoff
        self.failures = 0  # in a row
        self.error: str | None = None

    @property
    def source(self) -> Source:
        """The controller's source (asked each time: it may be swapped before the run)."""
        return self._source()

    async def run(self) -> None:
        """Poll until the controller stops."""
        failures = 0
        while not self.stopping.is_set():
            feedback = self.source.feedback
            if feedback is not None:
                feedback.changed.clear()
            try:
                snapshot = await self.source.snapshot()
                failures = 0
                self.apply(snapshot)
                await self.report_invalid(snapshot)
                delay = self.poll_seconds
                self.ended(None)
            except (TemporaryError, OSError) as exc:
                failures += 1
                self.ended(f"failed: {exc}")
                delay = self.backoff(failures)
                log.warning(
                    "source poll failed",
                    source=self.source.name,
                    error=str(exc),
                    retry_in=round(delay, 1),
                )
            except Exception as exc:  # a bug must not end polling: the workers would never hear
                failures += 1
                self.ended(f"crashed: {type(exc).__name__}: {exc}")
                delay = self.backoff(failures)
                log.exception("source poll crashed", source=self.source.name)
            await self.idle(delay)

    def ended(self, error: str | None) -> None:
        """Count a poll's outcome (None: it succeeded)."""
        if error is None:
            self.failures, self.error = 0, None
        else:
            self.failures += 1
            self.error = error[:300]
            self.metrics.source_poll_failures.labels(error.split(":", 1)[0]).inc()
        healthy = self.failures < SOURCE_UNHEALTHY_AFTER
        self.metrics.source_healthy.set(1 if healthy else 0)

    def health(self) -> dict[str, Any]:
        """The `/healthz` detail: the source's health."""
        healthy = self.failures < SOURCE_UNHEALTHY_AFTER
        return {
            "status": "ok" if healthy else "degraded",
            "source": {
                "name": self.source.name,
                "healthy": healthy,
                "failuresInARow": self.failures,
                "lastError": self.error,
            },
        }

    async def idle(self, delay: float) -> None:
        """Sleep until `delay` passes, the controller stops, or the source says it changed."""
        feedback = self.source.feedback
        waits = [asyncio.ensure_future(self.stopping.wait())]
        if feedback is not None:
            waits.append(asyncio.ensure_future(feedback.changed.wait()))
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
