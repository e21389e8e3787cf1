"""Two `psctl run --source kubernetes --leader-election lease:...` processes on one API server.

The production path end to end: `KUBECONFIG` read by lightkube, the AWS sandbox over HTTP, the
Lease with its default term (10 s, renew every 2 s). Exactly one process reconciles (the other
makes no AWS call and runs no pass); killing it (SIGKILL: no release) hands over within 15 s;
the two never lead at the same moment, sampled every 50 ms through their /status.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from runtime.harness import eventually, orders_doc
from runtime.processes import Process, Sampler

from . import rbac
from .apiserver import FakeApiServer

LEASE = "privateservice-system/psctl-test"


def _status(kube_api: FakeApiServer) -> dict[str, Any]:
    stored = kube_api.get_object("privateservices", "shop", "orders")
    return {} if stored is None else dict(stored.get("status") or {})


async def test_two_processes_one_writes_and_kill_hands_over(
    kube_api: FakeApiServer, aws: Any, tmp_path: Path
):
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    doc = orders_doc("orders", drift={"resyncSeconds": 5})
    doc["metadata"]["namespace"] = "shop"
    kube_api.create(doc)
    args = ["--source", "kubernetes", "--leader-election", f"lease:{LEASE}"]
    env = aws.env | {"KUBECONFIG": str(kubeconfig)}
    a = Process(args, env, tmp_path / "a.log")
    b = Process(args, env, tmp_path / "b.log")
    sampler: Sampler | None = None
    try:
        await eventually(lambda: a.up() and b.up(), 30, "both processes serving")
        sampler = Sampler(a, b)
        await eventually(lambda: _status(kube_api).get("phase") == "Ready", 120, "Ready")
        leader, standby = (a, b) if a.leader() else (b, a)
        assert leader.leader()
        assert not standby.leader()
        assert leader.metric("psctl_aws_calls_total") > 0
        assert standby.metric("psctl_aws_calls_total") == 0  # not one AWS call
        assert standby.metric("psctl_reconciles_total") == 0  # not one pass
        lease = kube_api.get_object("leases", *LEASE.split("/"))
        assert lease is not None
        holder = lease["spec"]["holderIdentity"]

        killed_at = time.monotonic()
        leader.proc.send_signal(signal.SIGKILL)  # no release: the Lease must lapse
        await eventually(standby.leader, 20, "the standby to lead", every=0.05)
        handover = time.monotonic() - killed_at
        print(f"kubernetes lease, two processes: handover after SIGKILL {handover:.1f} s")
        assert handover < 15
        lease = kube_api.get_object("leases", *LEASE.split("/"))
        assert lease is not None
        assert lease["spec"]["holderIdentity"] != holder

        # the new leader reconciles: an edit is applied by it
        kube_api.patch(
            "privateservices", "shop", "orders", {"spec": {"service": {"desiredCount": 3}}}
        )
        await eventually(
            lambda: (
                _status(kube_api).get("observedGeneration") == 2
                and _status(kube_api).get("phase") == "Ready"
            ),
            60,
            "the edit applied by the new leader",
        )
        assert standby.metric("psctl_reconciles_total") > 0
        assert sampler.samples > 50
        assert sampler.both == 0, "both processes led at the same moment"

        # every call both processes made is granted by deploy/kubernetes's RBAC; nothing else is
        # granted but Events (no drift here, so none is recorded in this test)
        needs = rbac.needed(kube_api.requests)
        assert ("coordination.k8s.io", "leases", "update", "privateservice-system") in needs
        assert ("privateservice.io", "privateservices/status", "patch", "shop") in needs
        assert {n for n in needs if not rbac.granted(n)} == set()
        events = {("", "events", "create"), ("", "events", "patch")}  # test_kube_controller's
        used = {(g, r, v) for g, r, v, _ in needs} | events
        assert {(g, r, v) for g, r, v, _ in rbac.grants()} <= used
    finally:
        if sampler is not None:
            sampler.task.cancel()
        a.stop()
        b.stop()
