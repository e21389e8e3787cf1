"""The lease's shared logic: the local deadline and the `leading` / `standby` events.

A backend (`controller.runtime.lease.DynamoLease`, `controller.kube.lease.KubeLease`) only writes
the lease; `LeaseBase` decides, on this replica's monotonic clock, how long a successful write
lets it lead (see `controller.runtime.lease` for why the holder stops before another can start).
It lives below the runtime and Kubernetes so that both backends share it while neither imports
the other. Neighbours: the two backends, `controller.runtime.controller` (the only user).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

import structlog

log = structlog.get_logger(__name__)

LEASE_NAME = "privateservice-controller"


def default_holder() -> str:
    """A unique name for this replica: hostname, pid and a uuid."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


class LeaseBase:
    """A lease kept by `run()`; `leading` is set while it is held. Backends write it.

    A backend implements `_try_acquire`, `_try_renew` (each True when the write succeeded; a
    renew that finds the lease taken calls `_lose("taken")`) and `_release`. The local deadline
    is the same for every backend: leader until `sent + duration - margin` on this replica's
    monotonic clock, `sent` being when the last successful write was sent.
    """

    backend = "lease"

    def __init__(
        self,
        holder: str | None,
        duration: float,
        renew_every: float,
        margin: float | None,
    ) -> None:
        self.holder = holder or default_holder()
        self.duration, self.renew_every = duration, renew_every
        self.margin = 2 * renew_every if margin is None else margin
        if self.duration - self.margin <= self.renew_every:
            msg = "lease: duration - margin must exceed renew_every (one renew per term, at least)"
            raise ValueError(msg)
        self.leading = asyncio.Event()
        """Set while this replica holds the lease (by its own, conservative, clock)."""
        self.standby = asyncio.Event()
        """The opposite of `leading`, to wait on."""
        self.standby.set()
        self.acquired_at: float | None = None
        """time.monotonic() of the last transition to leader (tests measure handovers)."""
        self.lost_at: float | None = None
        """time.monotonic() of the last transition away from leader."""
        self._deadline: asyncio.TimerHandle | None = None
        self._until = 0.0  # time.monotonic() at which leadership ends, whatever the loop does
        self._missing_since: float | None = None  # when this replica first saw no lease at all
        self._closing = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        """True while the lease is held: `leading` is set AND the monotonic deadline has not
        passed. The deadline is read itself, so that a thread asking (the AWS context's write
        gate, before every HTTP attempt) gets the right answer even while the event loop is too
        busy to run the timer that clears `leading`."""
        return self.leading.is_set() and time.monotonic() < self._until

    # -- the loop ----------------------------------------------------------------------
    async def run(self) -> None:
        """Acquire, then renew every `renew_every` seconds, until `stop()` (or cancellation)."""
        while not self._closing.is_set():
            sent = time.monotonic()
            ok = await (self._try_renew() if self.is_leader else self._try_acquire())
            if ok:
                self._hold(sent)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.renew_every)

    async def stop(self, *, release: bool = True) -> None:
        """End the loop (the caller awaits `run()`); give the lease back if held."""
        self._closing.set()
        held = self.is_leader
        self._lose("stopped")
        if release and held:
            await self._release()

    # -- what a backend writes -----------------------------------------------------------
    async def _try_acquire(self) -> bool:
        raise NotImplementedError

    async def _try_renew(self) -> bool:
        raise NotImplementedError

    async def _release(self) -> None:
        raise NotImplementedError

    def _missing_for_a_term(self) -> bool:
        """Called when the lease is not there at all: True once it has been missing for a whole
        term by this replica's clock. A missing lease is treated as one held by an unknown
        holder (someone deleted it while a leader was still writing, by its own deadline, for
        up to `duration - margin`): taking it at once gave two leaders for up to a second."""
        now = time.monotonic()
        if self._missing_since is None:
            self._missing_since = now
        return now - self._missing_since >= self.duration

    def _lease_seen(self) -> None:
        """The lease exists (or was just made): the next absence starts a new term."""
        self._missing_since = None

    # -- local state -------------------------------------------------------------------
    def _hold(self, sent: float) -> None:
        """A write sent at monotonic `sent` succeeded: lead until sent + duration - margin."""
        if self._closing.is_set():
            return
        until = sent + self.duration - self.margin
        remaining = until - time.monotonic()
        if remaining <= 0:  # the answer came too late to count
            self._lose("late")
            return
        if self._deadline is not None:
            self._deadline.cancel()
        self._until = until
        self._deadline = asyncio.get_running_loop().call_later(
            remaining, self._lose, "not renewed in time"
        )
        if not self.is_leader:
            self.acquired_at = time.monotonic()
            self.leading.set()
            self.standby.clear()
            log.info("lease acquired: leading", holder=self.holder, backend=self.backend)

    def _lose(self, why: str) -> None:
        self._until = 0.0
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self.leading.is_set():
            self.lost_at = time.monotonic()
            self.leading.clear()
            self.standby.set()
            log.warning("lease released: standing by", holder=self.holder, reason=why)
