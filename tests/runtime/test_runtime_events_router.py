"""The event router (controller.runtime.events) without AWS: index, drops, attribution, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from controller.alerts import drift_alert
from controller.ports.events import ChangeEvent, Delivery, Identity, aliases
from controller.reconcile.engine import Action, Change, Outcome
from controller.runtime.event_index import observed_ids
from controller.runtime.events import EventRouter

OWN = Identity("arn:aws:sts::123456789012:assumed-role/psctl/task", "ASIAOWN")


def event(ids: set[str], key: str = "AKIAALICE", **kw: object) -> ChangeEvent:
    """An event by alice (unless `key` says otherwise) naming `ids`."""
    fields: dict[str, object] = {
        "event_id": "e",
        "event_name": "AuthorizeSecurityGroupIngress",
        "event_source": "ec2.amazonaws.com",
        "event_time": datetime.now(UTC),
        "changed_by": "arn:aws:iam::123456789012:user/alice",
        "access_key_id": key,
        "source_ip": "203.0.113.7",
        "region": "us-east-1",
        "ids": frozenset(ids),
    }
    fields.update(kw)
    return ChangeEvent(**fields)  # type: ignore[arg-type]


class FakeSource:
    """Hands out one batch, then fails as often as asked, then answers empty."""

    name = "fake"

    def __init__(self, batch: list[Delivery], failures: int = 0) -> None:
        self.batches = [batch]
        self.failures = failures
        self.deleted: list[str] = []

    async def receive(self) -> list[Delivery]:
        if self.batches:
            return self.batches.pop()
        if self.failures:
            self.failures -= 1
            raise OSError("AWS.SimpleQueueService.NonExistentQueue")
        await asyncio.sleep(0.01)
        return []

    async def delete(self, receipts: Sequence[str]) -> None:
        self.deleted += receipts

    async def backlog(self) -> int:
        return 0

    async def identity(self) -> Identity:
        return OWN


def router(source: FakeSource, woken: list[str]) -> EventRouter:
    """A router whose wake records the owners it queued a pass for."""

    def wake(owner: str, _event: ChangeEvent) -> bool:
        woken.append(owner)
        return True

    r = EventRouter(source, CollectorRegistry(), wake, lambda: True, retry=(0.01,))
    arn = "arn:aws:ecs:r:1:service/c/orders"
    r.index.observe("default/orders", {"sg-1", arn, *aliases(arn)})
    r.index.observe("default/billing", {"sg-2"})
    return r


def test_observed_ids_and_aliases() -> None:
    """A pass's change ids and outputs are indexed, ECS service ARNs also as cluster/service."""
    outcome = Outcome(
        changes=[Change("sg", "SecurityGroup", "task-sg", Action.NOOP, id="sg-1")],
        outputs={"svc": {"arn": "arn:aws:ecs:us-east-1:1:service/c/orders", "n": 3}},
    )
    ids = observed_ids(outcome, None)
    assert {"sg-1", "arn:aws:ecs:us-east-1:1:service/c/orders", "ecs-service:c/orders"} <= ids


def test_routes_only_what_we_own_and_not_our_own_writes() -> None:
    """Routed: the owning spec only (a burst: a pass at once and one after it). Dropped and
    deleted: own writes, unowned, malformed, failed calls."""
    batch = [
        Delivery("r1", event({"sg-1"})),
        Delivery("r2", event({"sg-1"}, key="ASIAOWN")),
        Delivery("r3", event({"sg-999"})),
        Delivery("r4", None, "not JSON"),
        Delivery("r5", event({"sg-2"}, error_code="InvalidPermission.Duplicate")),
        Delivery("r6", event({"ecs-service:c/orders"})),
    ]
    source, woken = FakeSource(batch), []
    r = router(source, woken)
    stopping = asyncio.Event()

    async def scenario() -> None:
        task = asyncio.create_task(r.run(stopping))
        while len(source.deleted) < len(batch):
            await asyncio.sleep(0.01)
        stopping.set()
        await task

    asyncio.run(scenario())
    assert woken == ["default/orders", "default/orders"]  # a burst: at once, then once more
    assert sorted(source.deleted) == ["r1", "r2", "r3", "r4", "r5", "r6"]
    counts = {
        s.labels["result"]: s.value
        for m in r.metrics.received.collect()
        for s in m.samples
        if s.name.endswith("_total")
    }
    assert counts == {"routed": 2, "own": 1, "unowned": 1, "malformed": 1, "failed_call": 1}


def test_source_failure_reported_then_recovered() -> None:
    """A failing queue is reported as failed, retried, and reported ok once it answers."""
    source, woken = FakeSource([], failures=3), []
    r = router(source, woken)
    stopping = asyncio.Event()
    seen: list[str] = []

    async def scenario() -> None:
        task = asyncio.create_task(r.run(stopping))
        while "ok" not in seen or "failed" not in seen:
            seen.append(r.state)
            await asyncio.sleep(0.005)
        stopping.set()
        await task

    asyncio.run(scenario())
    assert seen.index("failed") < len(seen) - 1 - seen[::-1].index("ok")
    assert r.status()["state"] == "ok"
    assert r.metrics.failures._value.get() == 3  # type: ignore[attr-defined]


def test_attribution_and_backstop() -> None:
    """Drift after an event names who did it; drift no event announced is a backstop find."""
    r = router(FakeSource([]), [])
    r.route(Delivery("r", event({"sg-1"})))
    alert = drift_alert(
        "default/orders", "task-sg", "sg-1", "ingress", [], ["0.0.0.0/0"], "corrected"
    )
    [named] = r.attribute("default/orders", r.take("default/orders"), [alert])
    assert named.changed_by == "arn:aws:iam::123456789012:user/alice"
    assert "changed by arn:aws:iam::123456789012:user/alice at" in named.text()
    assert "via AuthorizeSecurityGroupIngress from 203.0.113.7" in named.text()
    assert named.to_json()["eventName"] == "AuthorizeSecurityGroupIngress"
    [plain] = r.attribute("default/orders", r.take("default/orders"), [alert])
    assert plain.changed_by is None
    assert r.spec_status("default/orders")["backstopFinds"] == 1


def test_each_alert_names_the_event_about_its_resource() -> None:
    """Two changers in one pass: each alert names the one whose call named its resource (a
    usage-plan key's resource id is `<plan>/<key>`)."""
    r = router(FakeSource([]), [])
    r.index.observe("default/orders", {"u1", "k1"})
    bob = "arn:aws:iam::123456789012:user/bob"
    r.route(Delivery("a", event({"sg-1"})))
    r.route(Delivery("b", event({"u1", "k1"}, key="AKIABOB", changed_by=bob)))
    sg = drift_alert("default/orders", "task-sg", "sg-1", "ingress", [], [], "corrected")
    key = drift_alert("default/orders", "usage-plan-key", "u1/k1", "(resource)", 1, 0, "corrected")
    named = r.attribute("default/orders", r.take("default/orders"), [sg, key])
    assert [a.changed_by for a in named] == ["arn:aws:iam::123456789012:user/alice", bob]
