"""A spec's worker survives anything a pass throws, and retries it with backoff."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from harness import eventually, orders_doc

from controller.alerts import AlertDispatcher
from controller.aws.session import AwsContext, AwsSettings
from controller.ports.source import Snapshot
from controller.reconcile.engine import Outcome
from controller.runtime import controller as runtime
from controller.runtime.settings import RuntimeSettings
from controller.runtime.step import PassReport, SpecState
from controller.spec.loader import parse_object


class OneSpec:
    """A source that always lists the same spec."""

    name = "test"
    feedback = None

    def __init__(self) -> None:
        loaded = parse_object(orders_doc("orders-a"), "mem")
        assert loaded.spec is not None
        self.spec = loaded.spec

    async def snapshot(self) -> Snapshot:
        return Snapshot(
            specs={self.spec.owner: self.spec}, origins={self.spec.owner: "mem#0"}, invalid=()
        )


async def test_a_crashing_pass_is_retried_and_the_worker_lives_on(monkeypatch: pytest.MonkeyPatch):
    """A bug in a pass (any exception) is logged, counted as an error, backed off and retried."""
    calls: list[int] = []

    def flaky(state: SpecState, *_: Any) -> PassReport:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("boom")
        state.status = {"phase": "Ready"}
        return PassReport(outcome=Outcome())

    monkeypatch.setattr(runtime, "run_pass", flaky)
    aws = AwsContext(AwsSettings(region="us-east-1"))
    settings = RuntimeSettings(
        listen_host="127.0.0.1", listen_port=0, poll_seconds=0.1, backoff=(0.05, 0.1)
    )
    ctl = runtime.Controller(OneSpec(), aws, settings, AlertDispatcher())
    task = asyncio.create_task(ctl.run())
    try:
        await eventually(lambda: len(calls) >= 3, 10, "three passes")
        state = ctl.states["shop/orders-a"]
        assert state.status == {"phase": "Ready"}
        assert state.failures == 0
        assert ctl.workers["shop/orders-a"].task is not None
        assert not ctl.workers["shop/orders-a"].task.done()
        text = ctl.metrics.render().decode()
        assert 'psctl_reconciles_total{result="error"} 2.0' in text
    finally:
        ctl.stop()
        await asyncio.wait_for(task, 10)


class BrokenOnce(OneSpec):
    """A source whose first listing fails with a bug, not a temporary error."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def snapshot(self) -> Snapshot:
        self.calls += 1
        if self.calls == 1:
            raise KeyError("a bug in the source")
        return await super().snapshot()


async def test_a_crashing_source_poll_is_retried(monkeypatch: pytest.MonkeyPatch):
    """An unexpected exception in a poll is logged and backed off; polling goes on."""

    def ok(state: SpecState, *_: Any) -> PassReport:
        state.status = {"phase": "Ready"}
        return PassReport(outcome=Outcome())

    monkeypatch.setattr(runtime, "run_pass", ok)
    aws = AwsContext(AwsSettings(region="us-east-1"))
    settings = RuntimeSettings(
        listen_host="127.0.0.1", listen_port=0, poll_seconds=0.1, backoff=(0.05, 0.1)
    )
    source = BrokenOnce()
    ctl = runtime.Controller(source, aws, settings, AlertDispatcher())
    task = asyncio.create_task(ctl.run())
    try:
        await eventually(lambda: "shop/orders-a" in ctl.states, 10, "the spec after a crash")
        assert source.calls >= 2
        await eventually(ctl.ready, 10, "ready")
    finally:
        ctl.stop()
        await asyncio.wait_for(task, 10)


class Recording:
    """A source's feedback that records what the controller tells it (as Kubernetes gets it)."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls
        self.changed = asyncio.Event()

    async def prepare(self, owner: str) -> bool:
        return True

    async def report(self, owner: str, status: Any) -> None:
        return None

    async def report_invalid(self, owner: str, problems: Any) -> None:
        return None

    async def event(self, owner: str, kind: Any, reason: str, message: str) -> None:
        return None

    async def release(self, owner: str) -> None:
        self.calls.append("release")


class DeletedDuringAPass(OneSpec):
    """A source whose spec is marked for deletion (Kubernetes) once `mark` is set."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.feedback = Recording(calls)  # type: ignore[assignment]
        self.mark = False

    async def snapshot(self) -> Snapshot:
        snap = await super().snapshot()
        if self.mark:
            return Snapshot(snap.specs, snap.origins, (), deleting=frozenset(snap.specs))
        return snap


async def test_deletion_asked_during_a_normal_pass_still_runs_a_delete_pass(
    monkeypatch: pytest.MonkeyPatch,
):
    """A converged apply pass that was already running when the deletion came must not count as
    the delete pass: the spec is let go only after a real delete pass."""
    calls: list[str] = []
    in_pass, release = threading.Event(), threading.Event()
    source = DeletedDuringAPass(calls)

    def apply_pass(state: SpecState, *_: Any) -> PassReport:
        calls.append("apply")
        in_pass.set()
        release.wait(10)
        state.status = {"phase": "Ready"}
        return PassReport(outcome=Outcome())

    def delete_pass(state: SpecState, *_: Any) -> PassReport:
        calls.append("delete")
        return PassReport(outcome=Outcome())

    monkeypatch.setattr(runtime, "run_pass", apply_pass)
    monkeypatch.setattr(runtime, "run_delete_pass", delete_pass)
    aws = AwsContext(AwsSettings(region="us-east-1"))
    settings = RuntimeSettings(listen_host="127.0.0.1", listen_port=0, poll_seconds=0.05)
    ctl = runtime.Controller(source, aws, settings, AlertDispatcher())
    task = asyncio.create_task(ctl.run())
    try:
        await eventually(in_pass.is_set, 10, "the apply pass running")
        source.mark = True
        await eventually(lambda: ctl.workers["shop/orders-a"].deleting, 10, "deletion marked")
        release.set()
        await eventually(lambda: "release" in calls, 10, "the spec let go")
        assert calls[:3] == ["apply", "delete", "release"]
    finally:
        release.set()
        ctl.stop()
        await asyncio.wait_for(task, 10)


async def test_an_idle_spec_keeps_no_desired_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between passes a spec holds no desired stack (rebuilt by every pass): with 1,000 specs
    at rest those stacks were ~21 MB of the controller's memory (issue 9)."""
    seen: list[object] = []

    def with_stack(state: SpecState, *_: Any) -> PassReport:
        rec = SimpleNamespace(last_stack=object(), aws=aws)
        state.reconciler = rec  # type: ignore[assignment]
        seen.append(rec.last_stack)
        state.status = {"phase": "Ready"}
        return PassReport(outcome=Outcome())

    monkeypatch.setattr(runtime, "run_pass", with_stack)
    aws = AwsContext(AwsSettings(region="us-east-1"))
    settings = RuntimeSettings(listen_host="127.0.0.1", listen_port=0, poll_seconds=0.1)
    ctl = runtime.Controller(OneSpec(), aws, settings, AlertDispatcher())
    task = asyncio.create_task(ctl.run())
    try:
        await eventually(
            lambda: ctl.states.get("shop/orders-a") is not None and bool(seen), 10, "a pass"
        )
        state = ctl.states["shop/orders-a"]
        await eventually(lambda: state.status.get("phase") == "Ready", 10, "Ready")
        await eventually(lambda: state.reconciler.last_stack is None, 10, "the stack let go")  # type: ignore[union-attr]
        assert seen[0] is not None
    finally:
        ctl.stop()
        await asyncio.wait_for(task, 10)
