"""Two `psctl run --source kubernetes --leader-election lease:...` processes on one API server.

The production path end to end: `KUBECONFIG` read by lightkube, the AWS sandbox over HTTP, the
Lease with its default term (10 s, renew every 2 s). Exactly one process reconciles (the other
makes no AWS call and runs no pass); killing it (SIGKILL: no release) hands over within 15 s;
the two never lead at the same moment, sampled every 50 ms through their /status.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from runtime.harness import eventually, orders_doc

from . import rbac
from .apiserver import FakeApiServer

LEASE = "privateservice-system/psctl-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One `psctl run` process and its HTTP endpoints."""

    def __init__(self, kubeconfig: Path, aws: Any, log: Path) -> None:
        self.port = _free_port()
        env = os.environ | aws.env | {"KUBECONFIG": str(kubeconfig)}
        env.pop("POD_NAMESPACE", None)
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controller",
                "run",
                "--source",
                "kubernetes",
                "--leader-election",
                f"lease:{LEASE}",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--poll-seconds",
                "1",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return bytes(r.read())
        except (urllib.error.URLError, OSError):
            return None

    def leader(self) -> bool:
        body = self._get("/status")
        return body is not None and bool(json.loads(body)["leader"])

    def up(self) -> bool:
        return self._get("/healthz") is not None

    def metric(self, name: str) -> float:
        body = self._get("/metrics") or b""
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.decode().splitlines()
            if line.startswith(f"{name}{{") or line.startswith(f"{name} ")
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class Sampler:
    """Reads both processes' /status every 50 ms; records any moment both lead."""

    def __init__(self, a: Process, b: Process) -> None:
        self.a, self.b, self.both, self.samples = a, b, 0, 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            a, b = await asyncio.gather(
                asyncio.to_thread(self.a.leader), asyncio.to_thread(self.b.leader)
            )
            self.samples += 1
            self.both += a and b
            await asyncio.sleep(0.05)


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
    a = Process(kubeconfig, aws, tmp_path / "a.log")
    b = Process(kubeconfig, aws, tmp_path / "b.log")
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
