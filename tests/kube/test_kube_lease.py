"""Leader election with a coordination.k8s.io/v1 Lease, against the fake API server.

Short terms keep the tests fast: duration 4 s, renew every 1 s, so a leader stops leading 2 s
after its last good renew, and a standby takes the Lease once it has seen it unchanged for 4 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from lightkube import AsyncClient, KubeConfig
from runtime.harness import eventually

from controller.kube.lease import KubeLease

from .apiserver import FakeApiServer

NAMESPACE, NAME = "privateservice-system", "privateservice-controller"
TERM = {"duration": 4.0, "renew_every": 1.0}


class Replica:
    """One KubeLease with its loop running, on its own client."""

    def __init__(self, config: KubeConfig, holder: str) -> None:
        self.client = AsyncClient(config=config)
        self.lease = KubeLease(self.client, NAMESPACE, NAME, holder=holder, **TERM)
        self.task = asyncio.create_task(self.lease.run())

    def crash(self) -> None:
        """Stop renewing without releasing (the process died)."""
        self.task.cancel()

    async def stop(self, release: bool = True) -> None:
        await self.lease.stop(release=release)
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.client.close()


@pytest.fixture
def config(kube_api: FakeApiServer, tmp_path: Path) -> KubeConfig:
    return KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))


async def _pair(config: KubeConfig) -> tuple[Replica, Replica]:
    a, b = Replica(config, "replica-a"), Replica(config, "replica-b")
    await eventually(lambda: a.lease.is_leader or b.lease.is_leader, 10, "a leader", every=0.02)
    return (a, b) if a.lease.is_leader else (b, a)


async def _never_both(a: Replica, b: Replica, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert not (a.lease.is_leader and b.lease.is_leader), "two leaders at once"
        await asyncio.sleep(0.02)


def _lease(kube_api: FakeApiServer) -> dict:
    stored = kube_api.get_object("leases", NAMESPACE, NAME)
    assert stored is not None
    return stored


async def test_exactly_one_leads(kube_api: FakeApiServer, config: KubeConfig):
    """Two replicas, one Lease: one leads and renews, the other stands by."""
    leader, standby = await _pair(config)
    renewed = _lease(kube_api)["spec"]["renewTime"]
    await _never_both(leader, standby, 3.0)
    assert leader.lease.is_leader
    assert not standby.lease.is_leader
    spec = _lease(kube_api)["spec"]
    assert spec["holderIdentity"] == leader.lease.holder
    assert spec["leaseDurationSeconds"] == 4
    assert spec["renewTime"] != renewed  # renewed meanwhile
    await leader.stop()
    await standby.stop()


async def test_crashed_leader_is_replaced_within_15s(kube_api: FakeApiServer, config: KubeConfig):
    """A leader that dies without releasing is replaced once the Lease stops changing for a
    term; its own clock ended its leadership before the other started."""
    leader, standby = await _pair(config)
    await asyncio.sleep(1.5)
    crashed_at = time.monotonic()
    leader.crash()
    await eventually(lambda: standby.lease.is_leader, 15, "the standby to take over", every=0.02)
    assert standby.lease.acquired_at is not None
    handover = standby.lease.acquired_at - crashed_at
    print(f"kubernetes lease: handover after a crash {handover:.2f} s")
    assert handover < 15
    assert leader.lease.lost_at is not None
    assert leader.lease.lost_at <= standby.lease.acquired_at
    spec = _lease(kube_api)["spec"]
    assert spec["holderIdentity"] == standby.lease.holder
    assert spec["leaseTransitions"] == 1
    await leader.stop(release=False)
    await standby.stop()


async def test_clean_release_hands_over_at_once(kube_api: FakeApiServer, config: KubeConfig):
    """A leader that stops cleanly clears the holder; the other takes it at its next try."""
    leader, standby = await _pair(config)
    released_at = time.monotonic()
    await leader.stop()
    await eventually(lambda: standby.lease.is_leader, 5, "the standby to take over", every=0.02)
    assert standby.lease.acquired_at is not None
    handover = standby.lease.acquired_at - released_at
    print(f"kubernetes lease: handover after a release {handover:.2f} s")
    assert handover < TERM["renew_every"] + 1
    await standby.stop()


async def test_taken_lease_stops_the_leader_at_once(kube_api: FakeApiServer, config: KubeConfig):
    """Someone else writes the Lease: the leader's next renew sees it and stops; nobody takes it
    from that holder until it has been unchanged for a whole term."""
    leader, standby = await _pair(config)
    stolen = _lease(kube_api)
    stolen["spec"]["holderIdentity"] = "someone-else"
    kube_api.replace(stolen)
    taken_at = time.monotonic()
    await eventually(lambda: not leader.lease.is_leader, 5, "the leader to notice", every=0.02)
    await eventually(
        lambda: leader.lease.is_leader or standby.lease.is_leader, 15, "a new leader", every=0.02
    )
    acquired = max(r.lease.acquired_at or 0.0 for r in (leader, standby) if r.lease.is_leader)
    assert leader.lease.lost_at is not None
    assert leader.lease.lost_at <= acquired
    assert acquired - taken_at >= TERM["duration"] - 0.1  # the other holder's term was respected
    await leader.stop()
    await standby.stop()


async def test_write_race_has_one_winner(kube_api: FakeApiServer, config: KubeConfig):
    """Two replicas starting together on no Lease: the create (409 AlreadyExists) or the
    replace (409 Conflict) decides; never two leaders."""
    replicas = [Replica(config, f"replica-{i}") for i in range(4)]
    await eventually(lambda: any(r.lease.is_leader for r in replicas), 10, "a leader", every=0.02)
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        assert sum(r.lease.is_leader for r in replicas) == 1
        await asyncio.sleep(0.02)
    for r in replicas:
        await r.stop()
