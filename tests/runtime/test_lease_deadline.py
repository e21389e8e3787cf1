"""The lease's leadership ends at its monotonic deadline, read directly (issue 11, item 4): a
thread asking `is_leader` while the event loop is too busy to run the timer is told no."""

from __future__ import annotations

import time

from controller.ports.lease import LeaseBase


class _Lease(LeaseBase):
    async def _try_acquire(self) -> bool:
        return True

    async def _try_renew(self) -> bool:
        return True

    async def _release(self) -> None:
        return None


async def test_is_leader_follows_the_deadline_even_when_the_loop_is_blocked() -> None:
    """Held with 0.2 s left; the loop is then blocked for 0.3 s (the timer cannot fire), and
    `is_leader` is False all the same although `leading` is still set."""
    lease = _Lease("me", duration=10.0, renew_every=3.0, margin=None)
    lease._hold(time.monotonic() - (lease.duration - lease.margin) + 0.2)
    assert lease.is_leader
    time.sleep(0.3)  # blocks the event loop: `_lose` is not called
    assert lease.leading.is_set()
    assert not lease.is_leader
    await lease.stop(release=False)
    assert not lease.leading.is_set()
