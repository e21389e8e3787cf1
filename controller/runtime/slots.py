"""Why a spec's worker woke, and the priority gate its pass waits at for one of the slots.

`psctl run` bounds the passes running at once (`RuntimeSettings.concurrency`). A first-come gate
let 1,000 new specs queue behind routine resyncs of settled ones (issue 9), so the gate has two
classes: urgent passes (a spec's first pass, a spec change, a requeue the engine asked for, a
retry after a failure, a deletion, a check after drift, a change an event announced) go
before routine resyncs (a settled spec whose timer expired). Among urgent passes, work in
progress (a requeue, a retry, a change, drift, a deletion, an event) goes before a spec's first
pass: with 1,000 new specs, the first ones finish (their VPC Link becomes available, their next
pass runs) instead of waiting behind 999 first passes.
Within a rank, first come first served. Routine passes are never dropped: they run as soon as no
urgent pass waits, which under a burst of new specs is intended.
`Worker` is one spec's wake-up state; `follow_lease` wakes every worker when the lease is taken.
Neighbours: `controller.runtime.controller` (wakes workers, takes slots), `.pacing` (when the
routine resyncs are due).
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from controller.ports.lease import LeaseBase


class Wake(enum.Enum):
    """Why a worker runs its next pass."""

    CREATE = "create"  # the spec's first pass
    CHANGE = "change"  # the spec changed in its source
    REQUEUE = "requeue"  # the engine asked to come back (after a mutation, or a wait)
    RETRY = "retry"  # the last pass failed
    DRIFT = "drift"  # the last pass found drift
    DELETE = "delete"  # the spec is being deleted
    EVENT = "event"  # a CloudTrail event says someone changed one of its resources
    RESYNC = "resync"  # a settled spec's resync timer expired: routine

    @property
    def urgent(self) -> bool:
        """Everything but a routine resync goes first."""
        return self is not Wake.RESYNC

    @property
    def rank(self) -> int:
        """Lower goes first: work in progress 0, a first pass 1, a routine resync 2."""
        return ROUTINE if self is Wake.RESYNC else FIRST if self is Wake.CREATE else 0


FIRST, ROUTINE = 1, 2


def most_urgent(a: Wake | None, b: Wake | None) -> Wake | None:
    """Of two pending reasons, the one that ranks higher (the first on a tie)."""
    if a is None:
        return b
    if b is None:
        return a
    return b if b.urgent and not a.urgent else a


class PriorityGate:
    """A semaphore whose waiters are served urgent first, then in arrival order."""

    def __init__(self, slots: int) -> None:
        self.free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def waiting(self) -> int:
        """Passes waiting for a slot (cancelled waits excluded)."""
        return sum(not fut.done() for *_, fut in self._waiters)

    def waiting_urgent(self) -> int:
        """Urgent passes waiting for a slot."""
        return sum(rank < ROUTINE and not fut.done() for rank, _, fut in self._waiters)

    async def acquire(self, urgent: bool = True, rank: int | None = None) -> None:
        """Take a slot; wait behind every waiter of a lower rank (`Wake.rank`; without one,
        urgent is 0 and routine 2) and every earlier one of the same rank."""
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        order = rank if rank is not None else (0 if urgent else ROUTINE)
        heapq.heappush(self._waiters, (order, next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # granted just as it was cancelled: pass on
                self.release()
            raise

    def release(self) -> None:
        """Give the slot to the first waiter in line, or free it."""
        while self._waiters:
            *_, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)
                return
        self.free += 1

    @asynccontextmanager
    async def slot(self, urgent: bool = True, rank: int | None = None) -> AsyncIterator[None]:
        """`async with gate.slot(rank=wake.rank):` one pass."""
        await self.acquire(urgent, rank)
        try:
            yield
        finally:
            self.release()


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


async def follow_lease(
    lease: LeaseBase, stopping: asyncio.Event, workers: Mapping[str, Worker]
) -> None:
    """Keep the lease, and wake every worker each time it is taken (a reason kept while
    standing by still counts)."""
    keeper = asyncio.create_task(lease.run())
    try:
        while not stopping.is_set():
            await lease.leading.wait()
            for w in workers.values():
                w.poke(Wake.RESYNC)
            await lease.standby.wait()
    finally:
        keeper.cancel()
