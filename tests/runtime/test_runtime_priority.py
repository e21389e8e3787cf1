"""Fair and parallel work (issue 9): urgent passes before routine resyncs, resyncs paced.

The controller runs with fake passes (no AWS): the tests hold the priority gate or count API
Gateway calls on the shared counter themselves, and wait on conditions, never on wall time.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from harness import eventually, orders_doc

from controller.alerts import AlertDispatcher
from controller.aws.session import AwsContext, AwsSettings
from controller.ports.source import Snapshot
from controller.reconcile.engine import Outcome
from controller.runtime import controller as runtime
from controller.runtime.pacing import WINDOW, ResyncPacer
from controller.runtime.settings import RuntimeSettings
from controller.runtime.slots import PriorityGate, Wake
from controller.runtime.step import PassReport, SpecState
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService


def _spec(name: str, resync: int = 300) -> PrivateService:
    loaded = parse_object(orders_doc(name, drift={"resyncSeconds": resync}), "mem")
    assert loaded.spec is not None
    return loaded.spec


class Listing:
    """A source listing whatever specs the test puts in it."""

    name = "test"
    feedback = None

    def __init__(self, specs: list[PrivateService]) -> None:
        self.specs = {ps.owner: ps for ps in specs}

    def add(self, ps: PrivateService) -> None:
        self.specs[ps.owner] = ps

    async def snapshot(self) -> Snapshot:
        specs = dict(self.specs)
        return Snapshot(specs=specs, origins=dict.fromkeys(specs, "mem"), invalid=())


def _controller(source: Listing, **settings: Any) -> runtime.Controller:
    base = {"listen_host": "127.0.0.1", "listen_port": 0, "poll_seconds": 0.05}
    aws = AwsContext(AwsSettings(region="us-east-1"))
    return runtime.Controller(source, aws, RuntimeSettings(**(base | settings)), AlertDispatcher())


async def test_the_gate_serves_urgent_waiters_first_then_in_arrival_order():
    """Routine waiters queued first still go after an urgent one; FIFO within each class."""
    gate = PriorityGate(1)
    await gate.acquire(urgent=True)
    order: list[str] = []

    async def take(name: str, urgent: bool) -> None:
        async with gate.slot(urgent):
            order.append(name)

    tasks = [asyncio.create_task(take(f"resync-{i}", False)) for i in range(3)]
    tasks.append(asyncio.create_task(take("new", True)))
    tasks.append(asyncio.create_task(take("change", True)))
    while gate.waiting < 5:
        await asyncio.sleep(0)
    assert gate.waiting_urgent() == 2
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["new", "change", "resync-0", "resync-1", "resync-2"]
    assert gate.free == 1


async def test_work_in_progress_goes_before_first_passes_and_both_before_resyncs():
    """With 1,000 new specs the first ones must finish: a requeue (a VPC Link that became
    available) overtakes first passes queued before it; a resync waits for both."""
    gate = PriorityGate(1)
    await gate.acquire(rank=Wake.REQUEUE.rank)
    order: list[str] = []

    async def take(name: str, wake: Wake) -> None:
        async with gate.slot(rank=wake.rank):
            order.append(name)

    arrivals = [
        ("resync", Wake.RESYNC),
        ("first-1", Wake.CREATE),
        ("first-2", Wake.CREATE),
        ("requeue", Wake.REQUEUE),
        ("drift", Wake.DRIFT),
    ]
    tasks = [asyncio.create_task(take(name, wake)) for name, wake in arrivals]
    while gate.waiting < len(arrivals):
        await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["requeue", "drift", "first-1", "first-2", "resync"]


async def test_a_cancelled_waiter_gives_up_its_place():
    """A worker cancelled while waiting (its spec forgotten) neither blocks nor leaks a slot."""
    gate = PriorityGate(1)
    await gate.acquire(urgent=False)
    gone = asyncio.create_task(gate.acquire(urgent=True))
    stays = asyncio.create_task(gate.acquire(urgent=False))
    while gate.waiting < 2:
        await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    gate.release()
    await stays
    gate.release()
    assert gate.free == 1


async def test_a_new_specs_first_pass_goes_before_waiting_resyncs(
    monkeypatch: pytest.MonkeyPatch,
):
    """Concurrency 1, the slot held, five settled specs due for a resync waiting, then a new spec:
    once the slot is free the new spec's first pass runs before any of the five resyncs."""
    order: list[tuple[str, Wake | None]] = []
    ctl: runtime.Controller

    def fake(state: SpecState, *_: Any) -> PassReport:
        order.append((state.owner, ctl.workers[state.owner].reason))
        state.status = {"phase": "Ready"}
        return PassReport(outcome=Outcome())

    monkeypatch.setattr(runtime, "run_pass", fake)
    settled = [_spec(f"settled-{i}") for i in range(5)]
    source = Listing(settled)
    ctl = _controller(source, concurrency=1)
    task = asyncio.create_task(ctl.run())
    try:
        await eventually(lambda: len(order) == 5, 10, "the five first passes")
        assert {reason for _, reason in order} == {Wake.CREATE}
        await eventually(lambda: len(ctl.pacer.settled) == 5, 10, "five settled specs")
        await ctl.slots.acquire(urgent=True)  # the test holds the only slot
        loop = asyncio.get_running_loop()
        for ps in settled:  # their resync timers expire
            worker = ctl.workers[ps.owner]
            worker.next_at = loop.time()
            worker.wake.set()
        await eventually(lambda: ctl.slots.waiting == 5, 10, "five resyncs waiting")
        new = _spec("newcomer")
        source.add(new)
        await eventually(lambda: ctl.slots.waiting == 6, 10, "the new spec waiting too")
        assert ctl.slots.waiting_urgent() == 1
        ctl.slots.release()
        await eventually(lambda: len(order) == 11, 10, "six more passes")
        assert order[5] == (new.owner, Wake.CREATE)
        assert order[6:] == [(ps.owner, Wake.RESYNC) for ps in settled]
    finally:
        ctl.stop()
        await asyncio.wait_for(task, 10)


def test_why_the_next_pass_runs():
    """A failure, a requeue, drift and a settled pass each name the next pass's reason."""
    from controller.alerts import drift_alert

    assert runtime._due(PassReport(outcome=None, error="boom")) is Wake.RETRY
    assert runtime._due(PassReport(outcome=Outcome(requeue_after=5.0))) is Wake.REQUEUE
    drifted = PassReport(outcome=Outcome())
    drifted.alerts.append(drift_alert("shop/a", "nlb", "nlb", "x", 1, 2, "reported"))
    assert runtime._due(drifted) is Wake.DRIFT
    assert runtime._due(PassReport(outcome=Outcome())) is Wake.RESYNC
    assert all(w.urgent for w in Wake if w is not Wake.RESYNC)
    assert not Wake.RESYNC.urgent


async def test_the_resync_stretches_evenly_to_the_api_gateway_budget(
    monkeypatch: pytest.MonkeyPatch,
):
    """100 settled specs, 3 API Gateway calls per check, a budget of 5 calls/s, resyncSeconds 10:
    the effective period is 100 x 3 / 5 = 60 s, and the next checks are spaced by 3 / 5 s over it
    (in /status, in the metrics, and in the workers' next times)."""
    ctl: runtime.Controller

    def fake(state: SpecState, *_: Any) -> PassReport:
        for _ in range(3):
            ctl.aws.counter.record("apigateway", "GetRestApi")
        ctl.aws.counter.record("elbv2", "DescribeLoadBalancers")  # not API Gateway's budget
        state.status = {"phase": "Ready"}
        return PassReport(outcome=Outcome())

    monkeypatch.setattr(runtime, "run_pass", fake)
    specs = [_spec(f"svc-{i:03d}", resync=10) for i in range(100)]
    # one slot: when a spec settles no other pass is half-way (the estimate is exact)
    ctl = _controller(Listing(specs), read_budget_per_second=5.0, concurrency=1)
    task = asyncio.create_task(ctl.run())
    try:
        await eventually(lambda: len(ctl.pacer.settled) == 100, 30, "100 settled specs")
        assert ctl.status()["effectiveResyncSeconds"] == pytest.approx(60.0)
        assert "psctl_effective_resync_seconds 60.0" in ctl.metrics.render().decode()
        times = sorted(w.next_at for w in ctl.workers.values() if w.next_at is not None)
        assert len(times) == 100
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.6 - 1e-6  # evenly spaced, not in bursts
        assert times[-1] - times[0] >= 59.4 - 1e-6  # over the whole period
    finally:
        ctl.stop()
        await asyncio.wait_for(task, 10)


def test_without_a_budget_the_resync_is_the_specs_own():
    """read_budget_per_second None: every settled spec is checked every resyncSeconds."""
    pacer = ResyncPacer(None, lambda: 0)
    assert [pacer.settle(f"s{i}", 100.0, 10.0) for i in range(3)] == [110.0, 110.0, 110.0]
    assert pacer.effective() == 10.0


def test_the_cost_of_a_check_is_measured_over_windows_of_routine_passes_only():
    """Calls counted while an urgent pass ran are not charged to the checks (its window gives no
    sample); clean windows are averaged, exponentially weighted."""
    calls = [0]
    pacer = ResyncPacer(5.0, lambda: calls[0])

    def window(per_pass: int, urgent_calls: int = 0) -> None:
        if urgent_calls:
            pacer.started(routine=False)
            calls[0] += urgent_calls
        for _ in range(WINDOW):
            pacer.started(routine=True)
            calls[0] += per_pass
            pacer.finished(routine=True)
        if urgent_calls:
            pacer.finished(routine=False)

    window(4, urgent_calls=30)  # spoilt: until a clean window, the average of every pass
    assert pacer.per_check is None
    assert pacer.calls_per_check() == pytest.approx((30 + 4 * WINDOW) / (WINDOW + 1))
    window(9)  # began while that urgent pass ran: no sample either
    assert pacer.per_check is None
    window(4)
    assert pacer.calls_per_check() == pytest.approx(4.0)
    window(50, urgent_calls=500)
    window(50)
    assert pacer.calls_per_check() == pytest.approx(4.0)
    window(6)
    assert pacer.calls_per_check() == pytest.approx(4.0 + 0.3 * 2.0)
    assert pacer.spacing() == pytest.approx(4.6 / 5.0)
    fresh = ResyncPacer(5.0, lambda: 6)
    fresh.started(routine=False)
    fresh.started(routine=False)  # two passes in flight, six calls so far: three each
    assert fresh.calls_per_check() == 3.0


def test_specs_with_one_period_are_checked_in_the_same_rounds():
    """Specs that settled at different times share the rounds of their period (so one read of
    each account-wide list serves them all), spaced by the budget; a check is never later than
    one period on (after a pass off the rounds it comes early, once); without rounds (the event
    source's jittered backstop) the next check is simply one period on."""
    pacer = ResyncPacer(None, lambda: 0)
    assert pacer.settle("a", 117.0, 60.0) == 120.0  # early, once, to join the round
    assert pacer.settle("b", 131.0, 60.0) == 180.0
    assert pacer.settle("c", 151.0, 60.0) == 180.0
    assert pacer.settle("a", 120.4, 60.0) == 180.0  # then every period, on the round
    assert pacer.settle("a", 180.4, 60.0) == 240.0
    assert pacer.settle("d", 151.0, 60.0, rounds=False) == 211.0
    budgeted = ResyncPacer(5.0, lambda: 0)
    budgeted.per_check = 3.0  # 0.6 s apart within 5 calls/s
    times = [budgeted.settle(f"s{i}", 120.0 + 7 * i, 60.0) for i in range(4)]
    assert times == pytest.approx([180.0, 180.6, 181.2, 181.8])
