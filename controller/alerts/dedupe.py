"""Fewer, better alerts: repeats within a window become one count; a fought-over field is contested.

`Deduper` lets the first alert of a key through, counts its repeats within the window, and after
the window hands back one follow-up carrying the total. `ContestTracker` counts corrections per
(service, resource, field) and says, once, when a field keeps coming back so that the controller
stops fighting it. Both are synchronous, single-threaded (the event loop's) and take an injected
monotonic clock. Neighbours: `controller.alerts.model` (Alert, dedupe_key),
`controller.alerts.dispatcher` (uses Deduper), the runtime (uses ContestTracker).
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Hashable

from controller.alerts.model import Alert

Clock = Callable[[], float]


@dataclasses.dataclass
class _Window:
    start: float
    last: Alert
    count: int = 1


class Deduper:
    """The same alert key within `window_seconds` is one alert, then one follow-up with a count."""

    def __init__(self, window_seconds: float, clock: Clock = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self._clock = clock
        self._windows: dict[Hashable, _Window] = {}
        self._pending: list[Alert] = []

    def admit(self, alert: Alert) -> Alert | None:
        """`alert` when it opens a window for its key; None for a repeat (which is counted)."""
        now = self._clock()
        key = alert.dedupe_key()
        window = self._windows.get(key)
        if window is not None and now - window.start < self.window_seconds:
            window.count += 1
            window.last = alert
            return None
        if window is not None and window.count > 1:
            # the old window ended before anyone flushed it: keep its follow-up for the next flush
            self._pending.append(dataclasses.replace(window.last, count=window.count))
        self._windows[key] = _Window(start=now, last=alert)
        return alert

    def flush(self, now: float | None = None) -> list[Alert]:
        """One follow-up (latest occurrence, `count` = total) per ended window that had repeats.

        Every ended window is forgotten, so the next occurrence of its key is admitted again.
        """
        now = self._clock() if now is None else now
        follow_ups, self._pending = self._pending, []
        for key, window in list(self._windows.items()):
            if now - window.start >= self.window_seconds:
                del self._windows[key]
                if window.count > 1:
                    follow_ups.append(dataclasses.replace(window.last, count=window.count))
        return follow_ups

    def tracking(self, key: Hashable) -> bool:
        """True while `key` has an open window or a follow-up waiting for the next flush."""
        return key in self._windows or any(a.dedupe_key() == key for a in self._pending)


class ContestTracker:
    """A field corrected more than `max_corrections` times within `within_seconds` is contested."""

    def __init__(
        self, max_corrections: int, within_seconds: float, clock: Clock = time.monotonic
    ) -> None:
        self.max_corrections = max_corrections
        self.within_seconds = within_seconds
        self._clock = clock
        self._corrections: dict[tuple[str, str, str], deque[float]] = {}
        self._contested: set[tuple[str, str, str]] = set()

    def record(self, service: str, resource_key: str, field: str) -> bool:
        """Count one correction; True exactly once, when the field becomes contested."""
        key = (service, resource_key, field)
        if key in self._contested:
            return False
        now = self._clock()
        times = self._corrections.setdefault(key, deque())
        times.append(now)
        while times and now - times[0] > self.within_seconds:
            times.popleft()
        if len(times) > self.max_corrections:
            self._contested.add(key)
            del self._corrections[key]
            return True
        return False

    def is_contested(self, service: str, resource_key: str, field: str) -> bool:
        """True when the controller should leave this field alone."""
        return (service, resource_key, field) in self._contested

    def contested(self, service: str) -> set[tuple[str, str]]:
        """The (resource_key, field) pairs of `service` that are contested."""
        return {(r, f) for s, r, f in self._contested if s == service}

    def clear(self, service: str) -> None:
        """Forget `service`'s corrections and contests (its spec changed: another chance)."""
        self._contested = {k for k in self._contested if k[0] != service}
        for key in [k for k in self._corrections if k[0] == service]:
            del self._corrections[key]
