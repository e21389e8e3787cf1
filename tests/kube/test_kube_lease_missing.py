"""A deleted Kubernetes Lease is one held by an unknown holder for a whole term (issue 11,
item 4): nobody leads until it has been missing for `duration` (4 s terms here)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from lightkube import KubeConfig
from runtime.harness import eventually

from .apiserver import FakeApiServer
from .test_kube_lease import NAME, NAMESPACE, TERM, _pair


async def _watch(a: Any, b: Any, seconds: float) -> float | None:
    """Sample every 20 ms: never two leaders; when someone led again (monotonic), or None."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        leading = [r for r in (a, b) if r.lease.is_leader]
        assert len(leading) < 2, "two leaders at once"
        if leading:
            return time.monotonic()
        await asyncio.sleep(0.02)
    return None


async def test_a_deleted_kubernetes_lease_is_waited_out_for_a_term(
    kube_api: FakeApiServer, tmp_path: Path
) -> None:
    """Same with a Lease object deleted through the API server."""
    config = KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    leader, standby = await _pair(config)
    # the standby has read the lease since it was made (one that was made and deleted between
    # two of its reads looks to it like one missing all along: a limit of this rule)
    await asyncio.sleep(TERM["renew_every"] * 1.5)
    kube_api.delete("leases", NAMESPACE, NAME)
    deleted_at = time.monotonic()
    await eventually(lambda: not leader.lease.is_leader, 5, "the leader to notice", every=0.02)
    again = await _watch(leader, standby, 15)
    assert again is not None
    assert again - deleted_at >= TERM["duration"] - 0.1
    await leader.stop()
    await standby.stop()
