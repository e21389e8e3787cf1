"""The Kubernetes source against the fake API server: informer, snapshots, status, events,
finalizers (no AWS here: `test_kube_controller` runs the whole chain)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import AsyncClient, KubeConfig
from runtime.harness import eventually, orders_doc

from controller.errors import TemporaryError
from controller.kube.client import FINALIZER
from controller.kube.source import KubernetesSource

from .apiserver import FakeApiServer

PLURAL = "privateservices"


def ps(name: str, namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    doc = orders_doc(name, **spec)
    doc["metadata"]["namespace"] = namespace
    return doc


@pytest.fixture
async def source(kube_api: FakeApiServer, tmp_path: Path) -> AsyncIterator[KubernetesSource]:
    config = KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    src = KubernetesSource(lambda: AsyncClient(config=config), holder="test-replica")
    yield src
    await src.close()


async def synced(src: KubernetesSource) -> None:
    async def ready() -> bool:
        try:
            await src.snapshot()
        except TemporaryError:
            return False
        return True

    await eventually(ready, 10, "the first list", every=0.05)


async def test_lists_then_watches(kube_api: FakeApiServer, source: KubernetesSource):
    kube_api.create(ps("orders-a"))
    with pytest.raises(TemporaryError, match="waiting for the first list"):
        await source.snapshot()
    await synced(source)
    snap = await source.snapshot()
    assert set(snap.specs) == {"shop/orders-a"}
    assert snap.origins["shop/orders-a"] == "kubernetes:shop/orders-a"
    assert snap.complete

    source.changed.clear()
    kube_api.create(ps("orders-b", namespace="billing"))
    await asyncio.wait_for(source.changed.wait(), 5)  # a watch event, not a poll
    assert set((await source.snapshot()).specs) == {"shop/orders-a", "billing/orders-b"}
    assert source.relists == 1


async def test_one_namespace_only(kube_api: FakeApiServer, tmp_path: Path):
    config = KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    src = KubernetesSource(lambda: AsyncClient(config=config), "billing")
    try:
        kube_api.create(ps("orders-a"))
        kube_api.create(ps("orders-b", namespace="billing"))
        await synced(src)
        assert set((await src.snapshot()).specs) == {"billing/orders-b"}
        assert src.name == "kubernetes:billing"
    finally:
        await src.close()


async def test_410_gone_relists_and_misses_nothing(
    kube_api: FakeApiServer, source: KubernetesSource
):
    kube_api.create(ps("orders-a"))
    await synced(source)
    # the server forgets its history and drops the watch; meanwhile the objects change
    kube_api.compact()
    kube_api.close_watches()
    kube_api.create(ps("orders-b"))
    kube_api.delete(PLURAL, "shop", "orders-a")
    await eventually(lambda: source.relists >= 2, 10, "a new list after 410 Gone", every=0.05)
    await eventually(
        lambda: set(source.objects) == {"shop/orders-b"}, 10, "the cache current", every=0.05
    )
    assert set((await source.snapshot()).specs) == {"shop/orders-b"}


async def test_invalid_object_is_reported_with_its_owner(
    kube_api: FakeApiServer, source: KubernetesSource
):
    bad = ps("orders-a")
    bad["spec"]["container"]["port"] = 0
    kube_api.create(bad)
    await synced(source)
    snap = await source.snapshot()
    assert snap.specs == {}
    (invalid,) = snap.invalid
    assert invalid.owner == "shop/orders-a"
    assert any("spec.container.port" in p for p in invalid.problems)

    await source.feedback.report_invalid("shop/orders-a", invalid.problems)
    stored = kube_api.get_object(PLURAL, "shop", "orders-a")
    assert stored is not None
    status = stored["status"]
    assert status["phase"] == "Failed"
    assert status["observedGeneration"] == 1
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.container.port" in ready["message"]
    assert stored["metadata"]["generation"] == 1  # a status write is not a spec change


async def test_finalizer_added_once_and_deletion_waits_for_release(
    kube_api: FakeApiServer, source: KubernetesSource
):
    kube_api.create(ps("orders-a"))
    await synced(source)
    assert await source.feedback.prepare("shop/orders-a")
    stored = kube_api.get_object(PLURAL, "shop", "orders-a")
    assert stored is not None
    assert stored["metadata"]["finalizers"] == [FINALIZER]
    kube_api.clear_requests()
    assert await source.feedback.prepare("shop/orders-a")  # already there: no write
    assert [r for r in kube_api.requests if r[0] != "GET"] == []

    kube_api.delete(PLURAL, "shop", "orders-a")
    await eventually(
        lambda: (
            "shop/orders-a"
            in asyncio.run_coroutine_threadsafe(_deleting(source), asyncio.get_running_loop())
            if False
            else _deleting(source)
        ),
        10,
        "the deletion seen",
        every=0.05,
    )
    assert kube_api.get_object(PLURAL, "shop", "orders-a") is not None  # held by the finalizer
    await source.feedback.release("shop/orders-a")
    assert kube_api.get_object(PLURAL, "shop", "orders-a") is None
    await eventually(lambda: not source.objects, 10, "the DELETED event", every=0.05)


async def _deleting(source: KubernetesSource) -> frozenset[str]:
    return (await source.snapshot()).deleting


async def test_object_deleted_without_our_finalizer_is_left_out(
    kube_api: FakeApiServer, source: KubernetesSource
):
    other = ps("orders-a")
    other["metadata"]["finalizers"] = ["example.com/other"]
    kube_api.create(other)
    await synced(source)
    kube_api.delete(PLURAL, "shop", "orders-a")
    await eventually(
        lambda: source.objects["shop/orders-a"]["metadata"].get("deletionTimestamp"),
        10,
        "the deletion seen",
        every=0.05,
    )
    snap = await source.snapshot()
    assert "shop/orders-a" not in snap.specs
    assert snap.deleting == frozenset()
    assert not await source.feedback.prepare("shop/orders-a")  # no finalizer on a deleting object


async def test_status_through_the_subresource_only_when_it_says_something_new(
    kube_api: FakeApiServer, source: KubernetesSource
):
    kube_api.create(ps("orders-a"))
    await synced(source)
    first = {
        "observedGeneration": 1,
        "phase": "Provisioning",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "R",
                "message": "",
                "lastTransitionTime": "t1",
            }
        ],
        "endpoint": "https://old.example",
        "lastReconcileTime": "t1",
    }
    kube_api.clear_requests()
    await source.feedback.report("shop/orders-a", first)
    writes = [r for r in kube_api.requests if r[0] in ("PATCH", "PUT")]
    assert len(writes) == 1
    assert writes[0][1].endswith("/privateservices/orders-a/status")

    # only the time of the pass differs: nothing written
    await source.feedback.report("shop/orders-a", first | {"lastReconcileTime": "t2"})
    assert len([r for r in kube_api.requests if r[0] in ("PATCH", "PUT")]) == 1

    # a condition whose status holds keeps its lastTransitionTime; a key that went is removed
    second = copy.deepcopy(first)
    second["phase"] = "Ready"
    second["conditions"][0]["lastTransitionTime"] = "t3"
    second["conditions"][0]["message"] = "still not"
    del second["endpoint"]
    await source.feedback.report("shop/orders-a", second)
    stored = kube_api.get_object(PLURAL, "shop", "orders-a")
    assert stored is not None
    assert stored["status"]["phase"] == "Ready"
    assert "endpoint" not in stored["status"]
    assert stored["status"]["conditions"][0]["lastTransitionTime"] == "t1"
    assert stored["status"]["conditions"][0]["message"] == "still not"


async def test_events_are_aggregated(kube_api: FakeApiServer, source: KubernetesSource):
    kube_api.create(ps("orders-a"))
    await synced(source)
    for _ in range(3):
        await source.feedback.event("shop/orders-a", "Warning", "Drift", "nlb: x changed")
    await source.feedback.event("shop/orders-a", "Warning", "ReconcileFailed", "boom")
    events = sorted(kube_api.events("shop"), key=lambda e: e["reason"])
    assert [(e["reason"], e["count"]) for e in events] == [("Drift", 3), ("ReconcileFailed", 1)]
    involved = events[0]["involvedObject"]
    assert (involved["kind"], involved["name"], involved["namespace"]) == (
        "PrivateService",
        "orders-a",
        "shop",
    )
    assert involved["uid"]


async def test_api_failures_are_temporary_errors(kube_api: FakeApiServer, source: KubernetesSource):
    kube_api.create(ps("orders-a"))
    await synced(source)
    kube_api.fail_next("PATCH", "/orders-a/status", 500)
    with pytest.raises(TemporaryError, match="status"):
        await source.feedback.report("shop/orders-a", {"phase": "Ready"})
    await source.feedback.report("shop/orders-a", {"phase": "Ready"})  # the retry writes
    stored = kube_api.get_object(PLURAL, "shop", "orders-a")
    assert stored is not None
    assert stored["status"]["phase"] == "Ready"


async def test_status_patch_removes_nested_keys_and_skips_what_the_server_has(
    kube_api: FakeApiServer, source: KubernetesSource
):
    """Compared with the status the object has (whoever wrote it): a nested key that went is
    removed, a null is not sent as news, and a status already there is not written again."""
    kube_api.create(ps("orders-a"))
    await synced(source)
    await source.feedback.report(
        "shop/orders-a",
        {"phase": "Ready", "drift": {"lastDetected": "t1", "corrections": 1}, "endpoint": None},
    )
    stored = kube_api.get_object(PLURAL, "shop", "orders-a")
    assert stored is not None
    assert stored["status"] == {"phase": "Ready", "drift": {"lastDetected": "t1", "corrections": 1}}

    await source.feedback.report(
        "shop/orders-a", {"phase": "Ready", "drift": {"lastDetected": None, "corrections": 1}}
    )
    stored = kube_api.get_object(PLURAL, "shop", "orders-a")
    assert stored is not None
    assert stored["status"]["drift"] == {"corrections": 1}

    # another replica wrote the same status meanwhile: nothing to write
    kube_api.patch(
        PLURAL, "shop", "orders-a", {"status": {"phase": "Degraded"}}, subresource="status"
    )
    await eventually(
        lambda: source.objects["shop/orders-a"]["status"]["phase"] == "Degraded", 10, "watched"
    )
    kube_api.clear_requests()
    await source.feedback.report(
        "shop/orders-a", {"phase": "Degraded", "drift": {"corrections": 1}, "endpoint": None}
    )
    assert [r for r in kube_api.requests if r.method != "GET"] == []


async def test_a_missing_crd_is_named_in_the_error(tmp_path: Path):
    """An API server without the CRD answers 404: the source says what to install."""
    server = FakeApiServer()  # no CRD registered
    with server:
        config = KubeConfig.from_file(server.write_kubeconfig(tmp_path / "kubeconfig"))
        src = KubernetesSource(lambda: AsyncClient(config=config))
        try:
            with pytest.raises(TemporaryError):
                await src.snapshot()
            await eventually(lambda: src.error, 10, "the list to fail", every=0.05)
            with pytest.raises(TemporaryError, match="is the PrivateService CRD installed"):
                await src.snapshot()
        finally:
            await src.close()
