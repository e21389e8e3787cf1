"""Leader election with a DynamoDB lease (moto over HTTP): one leader, handovers, two controllers.

Short terms keep the tests fast: duration 4 s, renew every 1 s, so a leader stops leading 2 s
after its last good write and the lease lapses 4 s after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from harness import Running, eventually, orders_doc, write
from processes import Process, Sampler

from controller.aws.session import AwsContext, AwsSettings
from controller.errors import FencedError
from controller.runtime.controller import Controller
from controller.runtime.lease import DynamoLease

TABLE = "psctl-lease"
TERM = {"duration": 4.0, "renew_every": 1.0}


def _table(aws: Any) -> None:
    aws.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


class Replica:
    """One lease with its loop running, and a record of every moment both replicas led."""

    def __init__(self, access: Any, holder: str) -> None:
        self.lease = DynamoLease(access, TABLE, holder=holder, **TERM)
        self.task = asyncio.create_task(self.lease.run())

    def crash(self) -> None:
        """Stop renewing without releasing (the process died)."""
        self.task.cancel()

    async def stop(self) -> None:
        await self.lease.stop(release=True)
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def _pair(aws: Any) -> tuple[Replica, Replica]:
    _table(aws)
    a, b = Replica(aws, "replica-a"), Replica(aws, "replica-b")
    await eventually(lambda: a.lease.is_leader or b.lease.is_leader, 10, "a leader")
    return (a, b) if a.lease.is_leader else (b, a)


async def _never_both(a: Replica, b: Replica, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert not (a.lease.is_leader and b.lease.is_leader), "two leaders at once"
        await asyncio.sleep(0.02)


async def test_exactly_one_leads(aws: Any):
    """Two replicas on one table: one leads, the other stands by, through several renewals."""
    leader, standby = await _pair(aws)
    await _never_both(leader, standby, 3.5)
    assert leader.lease.is_leader
    assert not standby.lease.is_leader
    item = aws.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": "privateservice-controller"}}
    )["Item"]
    assert item["holder"]["S"] == leader.lease.holder
    await leader.stop()
    await standby.stop()


async def test_crashed_leader_is_replaced_within_15s(aws: Any):
    """A leader that dies without releasing is replaced once its lease lapses."""
    leader, standby = await _pair(aws)
    await asyncio.sleep(1.5)  # a renewal or two
    crashed_at = time.monotonic()
    leader.crash()
    await eventually(lambda: standby.lease.is_leader, 15, "the standby to take over")
    assert standby.lease.acquired_at is not None
    handover = standby.lease.acquired_at - crashed_at
    print(f"handover after a crash: {handover:.2f} s")
    assert handover < 15
    # the crashed one's own clock ended its leadership before the other started
    assert leader.lease.lost_at is not None
    assert leader.lease.lost_at <= standby.lease.acquired_at
    await standby.stop()


async def test_taken_lease_stops_leader_before_other_acquires(aws: Any):
    """The item is changed behind the leader's back: its renew fails and it stops at once; nobody
    leads until that other holder's lease lapses, then one replica (either) takes it."""
    leader, standby = await _pair(aws)
    expires = time.time() + 2
    aws.client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "privateservice-controller"},
            "holder": {"S": "someone-else"},
            "expiresAt": {"N": repr(expires)},
        },
    )
    await eventually(lambda: not leader.lease.is_leader, 5, "the leader to notice")
    assert leader.lease.lost_at is not None
    taken_until = time.monotonic() + (expires - time.time())
    await _never_both(leader, standby, 0.1)
    await eventually(
        lambda: leader.lease.is_leader or standby.lease.is_leader, 15, "a new leader", every=0.02
    )
    assert not standby.lease.is_leader or standby.lease.acquired_at is not None
    acquired = max(r.lease.acquired_at or 0.0 for r in (leader, standby) if r.lease.is_leader)
    assert leader.lease.lost_at <= acquired
    assert acquired >= taken_until - 0.1  # nobody took it from "someone-else" early
    await leader.stop()
    await standby.stop()


class _Unreachable:
    """DynamoDB as seen from a partitioned replica: every call fails to connect."""

    def client(self, _: str) -> Any:
        return self

    def __getattr__(self, _: str) -> Any:
        def fail(**__: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.unreachable")

        return fail


async def test_partitioned_leader_stops_before_other_acquires(aws: Any):
    """A leader that cannot reach DynamoDB stops leading by its own clock, before the lease lapses
    and the other replica takes it."""
    leader, standby = await _pair(aws)
    leader.lease.aws = _Unreachable()
    partitioned_at = time.monotonic()
    await eventually(lambda: standby.lease.is_leader, 15, "the standby to take over")
    assert leader.lease.lost_at is not None
    assert standby.lease.acquired_at is not None
    gap = standby.lease.acquired_at - leader.lease.lost_at
    handover = standby.lease.acquired_at - partitioned_at
    print(
        f"partitioned leader stopped after {leader.lease.lost_at - partitioned_at:.2f} s; "
        f"the other led {gap:.2f} s later; handover {handover:.2f} s"
    )
    assert gap > 0
    assert handover < 15
    await leader.stop()
    await standby.stop()


async def test_clean_release_hands_over_at_once(aws: Any):
    """A leader that stops cleanly deletes its lease; the other takes it at its next try."""
    leader, standby = await _pair(aws)
    released_at = time.monotonic()
    await leader.stop()
    await eventually(lambda: standby.lease.is_leader, 5, "the standby to take over", every=0.02)
    assert standby.lease.acquired_at is not None
    handover = standby.lease.acquired_at - released_at
    print(f"handover after a release: {handover:.2f} s")
    assert handover < TERM["renew_every"] + 1
    await standby.stop()


def test_bad_terms_are_refused():
    """A term too short for one renewal before the local deadline is a configuration error."""
    with pytest.raises(ValueError, match="renew_every"):
        DynamoLease(object(), TABLE, duration=4.0, renew_every=2.0)  # type: ignore[arg-type]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_two_controllers_one_writes_and_hands_over(aws: Any, tmp_path: Path):
    """Two controllers on one spec and one lease table: only the leader makes mutating calls;
    both serve /readyz and /status; when the leader stops, the other reconciles, and its first
    pass finds nothing to change."""
    _table(aws)
    write(tmp_path, orders_doc("orders", drift={"resyncSeconds": 5}))
    owner = "shop/orders"
    first, second = Running(tmp_path, aws), Running(tmp_path, aws)
    first.controller.lease = DynamoLease(aws, TABLE, holder="first", **TERM)
    second.controller.lease = DynamoLease(aws, TABLE, holder="second", **TERM)
    async with first, second:
        await eventually(
            lambda: first.phase(owner) == "Ready" or second.phase(owner) == "Ready", 60, "Ready"
        )
        leader, standby = (first, second) if first.controller.leader() else (second, first)
        assert leader.mutating() > 0
        assert standby.mutating() == 0
        assert standby.aws.counter.total() == 0
        assert standby.phase(owner) is None
        assert await asyncio.to_thread(_get, f"{standby.url}/readyz") == (200, b'{"ready": true}')
        assert standby.controller.status()["leader"] is False
        assert leader.controller.status()["leader"] is True

        await leader.__aexit__(None, None, None)
        await eventually(lambda: standby.phase(owner) is not None, 15, "the standby's first pass")
        print(f"mutating calls of the new leader's first pass: {standby.mutating()}")
        assert standby.mutating() == 0
        assert standby.phase(owner) == "Ready"
        # it keeps reconciling: a drift is put back by the new leader
        ecs = aws.client("ecs")
        ecs.update_service(cluster="shop", service="ps-shop-orders", desiredCount=5)
        await eventually(
            lambda: (
                ecs.describe_services(cluster="shop", services=["ps-shop-orders"])["services"][0][
                    "desiredCount"
                ]
                != 5
            ),
            15,
            "the drift corrected by the new leader",
        )
        assert standby.mutating() > 0


def test_mutating_calls_are_fenced_once_the_lease_is_lost(aws: Any):
    """A pass still running when its replica loses the lease sends no mutating call: the AWS
    context refuses it before the wire (reads go on)."""
    leading = [True]
    ctx = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    ctx.write_gate = lambda: leading[0]
    logs = ctx.client("logs")
    logs.create_log_group(logGroupName="/psctl/while-leading")
    leading[0] = False
    with pytest.raises(FencedError, match="logs:CreateLogGroup not sent"):
        logs.create_log_group(logGroupName="/psctl/after-the-lease")
    names = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]  # reads go on
    assert "/psctl/while-leading" in names
    assert "/psctl/after-the-lease" not in names
    # a sibling context for another region is fenced the same way
    with pytest.raises(FencedError):
        ctx.for_region("eu-west-1").client("logs").create_log_group(logGroupName="/psctl/x")


async def test_the_controller_fences_its_aws_context_with_its_lease(aws: Any, tmp_path: Path):
    run = Running(tmp_path, aws)
    lease = DynamoLease(aws, TABLE, holder="only", **TERM)
    controller = Controller(
        run.controller.source, run.aws, run.settings, run.controller.dispatcher, lease
    )
    assert controller.aws.write_gate is not None
    assert controller.aws.write_gate() is False  # not leading yet
    lease._hold(time.monotonic())  # a write sent just now succeeded: leading for a term
    assert controller.aws.write_gate() is True


async def test_two_processes_on_a_dynamodb_lease_kill_hands_over(aws: Any, tmp_path: Path):
    """`psctl run --leader-election dynamodb:TABLE` twice on one spec directory, with the default
    term (10 s, renew every 3 s): one process makes AWS calls, the other none; SIGKILL of the
    leader hands over within 15 s; the two never lead at the same moment."""
    _table(aws)
    specs = tmp_path / "specs"
    specs.mkdir()
    write(specs, orders_doc("orders", drift={"resyncSeconds": 5}))
    args = ["--source", str(specs), "--leader-election", f"dynamodb:{TABLE}"]
    a = Process(args, aws.env, tmp_path / "a.log")
    b = Process(args, aws.env, tmp_path / "b.log")
    sampler: Sampler | None = None
    try:
        await eventually(lambda: a.up() and b.up(), 30, "both processes serving")
        sampler = Sampler(a, b)
        await eventually(lambda: a.leader() or b.leader(), 30, "a leader")
        leader, standby = (a, b) if a.leader() else (b, a)
        await eventually(lambda: leader.metric("psctl_reconciles_total") >= 2, 60, "passes")
        assert standby.metric("psctl_aws_calls_total") == 0
        assert standby.metric("psctl_reconciles_total") == 0

        killed_at = time.monotonic()
        leader.proc.send_signal(signal.SIGKILL)
        await eventually(standby.leader, 20, "the standby to lead", every=0.05)
        handover = time.monotonic() - killed_at
        print(f"dynamodb lease, two processes: handover after SIGKILL {handover:.1f} s")
        assert handover < 15
        await eventually(lambda: standby.metric("psctl_reconciles_total") > 0, 30, "a pass")
        assert sampler.samples > 50
        assert sampler.both == 0, "both processes led at the same moment"
    finally:
        if sampler is not None:
            sampler.task.cancel()
        a.stop()
        b.stop()
