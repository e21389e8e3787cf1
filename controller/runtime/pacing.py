"""When each settled spec's next routine check is due, within the controller's API Gateway budget.

API Gateway's control plane allows 10 requests/s per account, shared with every other user of
the account. Routine checks of settled specs are the controller's elastic spending: when N of
them cannot each be checked every `drift.resyncSeconds` within
`RuntimeSettings.read_budget_per_second`, the resync stretches to
`max(resyncSeconds, N * calls_per_check / budget)` and the checks are spaced evenly, one every
`calls_per_check / budget` seconds, instead of in bursts. `calls_per_check` is measured, not
configured: an exponentially weighted average, over windows of routine passes during which no
urgent pass ran, of the API Gateway calls the shared `CallCounter` saw per routine pass (passes
run concurrently on one counter, so a window of routine passes only is what can be attributed).
Until a first window closes, the average over every pass so far (those in flight included)
stands in. Checks of specs with the same period fall on the same rounds of the clock
(`round_of`), so their shared reads are shared.
Neighbours: `controller.runtime.controller` (asks for next times, reports passes),
`controller.aws.session` (`CallCounter`), `.slots` (which passes are routine).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge

from controller.aws.session import CallCounter

APIGATEWAY = ("apigateway", "apigatewayv2")
WINDOW = 10  # routine passes per sample
ALPHA = 0.3  # weight of a new sample in the average


def apigateway_calls(counter: CallCounter) -> int:
    """API Gateway control-plane calls counted so far (REST and HTTP APIs share the limit)."""
    return sum(n for (service, _), n in counter.snapshot().items() if service in APIGATEWAY)


def round_of(when: float, period: float) -> float:
    """The last multiple of `period` at or before `when` (the clock's rounds of that period).

    Specs with the same resync period are checked in the same round rather than wherever each
    one first settled, so the account-wide lists they all read (GetRestApis, GetUsagePlans,
    DescribeLoadBalancers, ...) are read once per round within the read snapshot's lifetime,
    not once per spec spread over the period. Asked for `now + period`, it is never later than
    one period from now (a check is never late); after a pass off the rounds (a first pass, a
    drift found) the next check may come early, once, to join them.
    """
    return math.floor(when / period) * period if period > 0 else when


class ResyncPacer:
    """Measures the API Gateway cost of a routine check and spaces the checks within a budget."""

    def __init__(self, budget: float | None, calls: Callable[[], int]) -> None:
        self.budget = budget
        self._calls = calls
        self.per_check: float | None = None  # the measured average, once a window closed
        self.settled: set[str] = set()  # owners whose next pass is a routine resync
        self.shortest_resync: dict[str, float] = {}
        self._passes = 0  # started
        self._urgent_running = 0
        self._window_start = calls()
        self._window_routine = 0
        self._window_clean = True
        self._last_slot: float | None = None

    # -- measuring ----------------------------------------------------------------------
    def started(self, routine: bool) -> None:
        """A pass takes a slot; an urgent one spoils the current window."""
        self._passes += 1
        if not routine:
            self._urgent_running += 1
            self._window_clean = False

    def finished(self, routine: bool) -> None:
        """A pass ended; closes a window every `WINDOW` routine passes."""
        if not routine:
            self._urgent_running -= 1
            return
        self._window_routine += 1
        if self._window_routine < WINDOW:
            return
        total = self._calls()
        if self._window_clean:
            sample = (total - self._window_start) / self._window_routine
            old = self.per_check
            self.per_check = sample if old is None else old + ALPHA * (sample - old)
        self._window_start, self._window_routine = total, 0
        self._window_clean = self._urgent_running == 0

    def calls_per_check(self) -> float:
        """The measured average, or until then the average over every pass so far."""
        if self.per_check is not None:
            return self.per_check
        return self._calls() / self._passes if self._passes else 0.0

    # -- scheduling ---------------------------------------------------------------------
    def spacing(self) -> float:
        """Seconds between two routine checks that keep them within the budget (0: no limit)."""
        if self.budget is None or self.budget <= 0:
            return 0.0
        return self.calls_per_check() / self.budget

    def stretched(self) -> float:
        """The period the budget alone allows for every settled spec: N x spacing."""
        return len(self.settled) * self.spacing()

    def effective(self) -> float | None:
        """max(resyncSeconds, N x calls per check / budget); None while no spec is settled."""
        if not self.settled:
            return None
        return max(min(self.shortest_resync[o] for o in self.settled), self.stretched())

    def settle(self, owner: str, now: float, resync: float, *, rounds: bool = True) -> float:
        """`owner` is settled: the time of its next routine check, on the last round of its
        resync period up to `now + resync` (`round_of`; `rounds=False`: at `now + resync`, for
        a period jittered on purpose), spaced from the others' by the budget."""
        self.settled.add(owner)
        self.shortest_resync[owner] = resync
        due = round_of(now + resync, resync) if rounds else now + resync
        gap = self.spacing()
        if gap <= 0:
            return due
        # the chain of reserved times runs at most one resync plus one stretched period ahead
        # (it may, when specs settle together): a lower estimate or fewer specs take effect
        last = self._last_slot if self._last_slot is not None else now - gap
        last = min(last, due + self.stretched())
        self._last_slot = max(due, last + gap)
        return self._last_slot

    def unsettle(self, owner: str) -> None:
        """`owner`'s next pass is not routine (or it is gone)."""
        self.settled.discard(owner)
        self.shortest_resync.pop(owner, None)

    def register(self, registry: CollectorRegistry) -> None:
        """Gauges of the effective resync and the measured cost of one check."""
        Gauge(
            "psctl_effective_resync_seconds",
            "Resync period of settled specs once stretched to the API Gateway budget",
            registry=registry,
        ).set_function(lambda: self.effective() or 0.0)
        Gauge(
            "psctl_apigateway_calls_per_check",
            "API Gateway calls of one routine check (measured average)",
            registry=registry,
        ).set_function(self.calls_per_check)
