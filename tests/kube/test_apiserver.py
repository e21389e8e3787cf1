"""The fake API server's semantics, checked through lightkube's AsyncClient over loopback HTTP.

Each test pins one behaviour of the real kube-apiserver the controller relies on. Watches are
read from a background task with timeouts (`Watch.next`), never after fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType

from .apiserver import FakeApiServer
from .kinds import StatusError

PrivateService = create_namespaced_resource(
    "privateservice.io", "v1alpha1", "PrivateService", "privateservices"
)
PS_PATH = "/apis/privateservice.io/v1alpha1/namespaces/default/privateservices"
FINALIZER = "privateservice.io/finalizer"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def kubeconfig(kube_api: FakeApiServer, tmp_path: Path) -> Path:
    return kube_api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
async def client(kubeconfig: Path) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(config=KubeConfig.from_file(kubeconfig)) as kube:
        yield kube


@pytest.fixture
async def raw(kube_api: FakeApiServer) -> AsyncIterator[httpx2.AsyncClient]:
    """Plain HTTP, for what lightkube refuses to send."""
    headers = {"Authorization": f"Bearer {kube_api.token}"}
    async with httpx2.AsyncClient(base_url=kube_api.url, headers=headers) as http:
        yield http


def ps(name: str, namespace: str = "default", **fields: Any) -> Any:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    metadata.update(fields.pop("metadata", {}))
    return PrivateService(**{"metadata": metadata, "spec": {"replicas": 1}, **fields})


def error(caught: pytest.ExceptionInfo[ApiError]) -> dict[str, Any]:
    """The Status of an ApiError, as a dict."""
    return caught.value.status.to_dict()


def rv(obj: Any) -> int:
    return int(obj["metadata"]["resourceVersion"])


class Watch:
    """A lightkube watch drained by a task into a queue, so tests can wait with a timeout."""

    def __init__(self, stream: AsyncIterable[tuple[str, Any]]) -> None:
        self.queue: asyncio.Queue[tuple[str, Any] | Exception] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(stream))

    async def _pump(self, stream: AsyncIterable[tuple[str, Any]]) -> None:
        try:
            async for event in stream:
                self.queue.put_nowait(event)
        except Exception as exc:
            self.queue.put_nowait(exc)

    async def next(self, timeout: float = 5.0) -> tuple[str, Any]:
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def watching(client: AsyncClient, res: Any, **kwargs: Any) -> AsyncIterator[Watch]:
    watch = Watch(client.watch(res, **kwargs))
    try:
        yield watch
    finally:
        await watch.close()


def summary(event: tuple[str, Any]) -> tuple[str, str]:
    return event[0], event[1]["metadata"]["name"]


# -- connection --------------------------------------------------------------------------------
async def test_kubeconfig_is_accepted_and_the_token_is_required(
    kube_api: FakeApiServer, kubeconfig: Path, client: AsyncClient
) -> None:
    config = KubeConfig.from_file(kubeconfig).get()
    assert config is not None
    assert (config.cluster.server, config.namespace) == (kube_api.url, "default")
    assert [o async for o in client.list(PrivateService)] == []
    async with httpx2.AsyncClient(base_url=kube_api.url) as anonymous:
        response = await anonymous.get(f"{PS_PATH}/x")
    assert response.status_code == 401
    assert (response.json()["kind"], response.json()["reason"]) == ("Status", "Unauthorized")


def test_a_subprocess_reaches_it_through_kubeconfig(
    kube_api: FakeApiServer, kubeconfig: Path
) -> None:
    kube_api.create(
        {**ps("from-test"), "apiVersion": "privateservice.io/v1alpha1", "kind": "PrivateService"}
    )
    script = (
        "from lightkube import Client\n"
        "from lightkube.generic_resource import create_namespaced_resource as c\n"
        "PS = c('privateservice.io', 'v1alpha1', 'PrivateService', 'privateservices')\n"
        "print(Client().get(PS, 'from-test')['metadata']['uid'])\n"
    )
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    stored = kube_api.get_object("privateservices", "default", "from-test")
    assert stored is not None
    assert done.stdout.strip() == stored["metadata"]["uid"]


# -- 1. resourceVersion, system fields, lists --------------------------------------------------
async def test_writes_bump_one_global_resource_version_and_create_sets_system_fields(
    client: AsyncClient, raw: httpx2.AsyncClient
) -> None:
    first = await client.create(ps("a"))
    lease = await client.create(Lease(metadata=ObjectMeta(name="l", namespace="default")))
    second = await client.create(ps("b"))
    assert (rv(first), rv(lease.to_dict()), rv(second)) == (1, 2, 3)
    meta = first["metadata"]
    assert RFC3339.match(meta["creationTimestamp"])
    assert meta["generation"] == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert meta["uid"] != second["metadata"]["uid"]

    listing = client.list(PrivateService)
    items = [o async for o in listing]
    assert listing.resourceVersion == "3"
    assert [o["metadata"]["name"] for o in items] == ["a", "b"]
    assert {(o["apiVersion"], o["kind"]) for o in items} == {
        ("privateservice.io/v1alpha1", "PrivateService")
    }
    response = await raw.get(PS_PATH)
    assert response.json()["kind"] == "PrivateServiceList"
    assert response.json()["metadata"]["resourceVersion"] == "3"


async def test_list_pages_with_limit_and_continue(client: AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await client.create(ps(name))
    pages = client.list(PrivateService, chunk_size=2)
    assert [o["metadata"]["name"] async for o in pages] == ["a", "b", "c"]
    assert pages.resourceVersion == "3"


async def test_a_write_that_changes_nothing_is_not_a_write(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    created = await client.create(ps("a"))
    again = await client.replace(created)
    assert rv(again) == rv(created) == kube_api.resource_version


# -- 2. generation -----------------------------------------------------------------------------
async def test_generation_follows_spec_changes_only(client: AsyncClient) -> None:
    created = await client.create(ps("a"))
    labelled = await client.patch(
        PrivateService, "a", {"metadata": {"labels": {"team": "x"}}}, patch_type=PatchType.MERGE
    )
    assert labelled["metadata"]["generation"] == 1
    assert rv(labelled) == rv(created) + 1
    status = await client.replace(
        PrivateService.Status(**{**labelled, "status": {"phase": "Ready"}})
    )
    assert status["metadata"]["generation"] == 1
    assert rv(status) == rv(labelled) + 1
    changed = await client.patch(
        PrivateService, "a", {"spec": {"replicas": 2}}, patch_type=PatchType.MERGE
    )
    assert changed["metadata"]["generation"] == 2
    assert changed["status"] == {"phase": "Ready"}


# -- 3. status subresource ---------------------------------------------------------------------
async def test_main_resource_writes_ignore_status_and_status_writes_only_status(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    created = await client.create(ps("a", status={"phase": "Forged"}))
    assert "status" not in created
    created["status"] = {"phase": "Forged"}
    created["spec"] = {"replicas": 3}
    replaced = await client.replace(created)
    assert "status" not in replaced
    assert replaced["spec"] == {"replicas": 3}

    body = {**replaced, "spec": {"replicas": 9}, "status": {"phase": "Ready"}}
    body["metadata"] = {**replaced["metadata"], "labels": {"ignored": "yes"}}
    status = await client.replace(PrivateService.Status(**body))
    assert status["status"] == {"phase": "Ready"}
    assert status["spec"] == {"replicas": 3}
    assert "labels" not in status["metadata"]

    patched = await client.patch(
        PrivateService.Status,
        "a",
        {"status": {"endpoint": "https://e"}, "spec": {"replicas": 7}},
        patch_type=PatchType.MERGE,
    )
    assert patched["status"] == {"phase": "Ready", "endpoint": "https://e"}
    assert patched["spec"] == {"replicas": 3}
    whole = await client.get(PrivateService.Status, "a")
    assert whole["spec"] == {"replicas": 3}
    assert whole["status"]["phase"] == "Ready"

    writes = [(r.method, r.path) for r in kube_api.requests if r.method in ("PUT", "PATCH")]
    assert writes == [
        ("PUT", f"{PS_PATH}/a"),
        ("PUT", f"{PS_PATH}/a/status"),
        ("PATCH", f"{PS_PATH}/a/status"),
    ]


# -- 4. optimistic concurrency and errors ------------------------------------------------------
async def test_a_stale_replace_conflicts(client: AsyncClient) -> None:
    read = await client.create(ps("x"))
    await client.replace(PrivateService(**{**read, "spec": {"replicas": 2}}))
    with pytest.raises(ApiError) as caught:
        await client.replace(PrivateService(**{**read, "spec": {"replicas": 3}}))
    status = caught.value.status
    assert (status.code, status.reason, status.status, status.kind) == (
        409,
        "Conflict",
        "Failure",
        "Status",
    )
    assert status.message == (
        'Operation cannot be fulfilled on privateservices.privateservice.io "x": the object has '
        "been modified; please apply your changes to the latest version and try again"
    )
    assert error(caught)["details"] == {
        "name": "x",
        "group": "privateservice.io",
        "kind": "privateservices",
    }


async def test_a_stale_resource_version_in_a_merge_patch_conflicts(client: AsyncClient) -> None:
    created = await client.create(ps("x"))
    bumped = await client.patch(
        PrivateService, "x", {"metadata": {"labels": {"a": "b"}}}, patch_type=PatchType.MERGE
    )
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}}
    with pytest.raises(ApiError) as caught:
        await client.patch(PrivateService, "x", stale, patch_type=PatchType.MERGE)
    assert (caught.value.status.code, caught.value.status.reason) == (409, "Conflict")
    fresh = {"metadata": {"resourceVersion": bumped["metadata"]["resourceVersion"]}, "spec": {}}
    assert await client.patch(PrivateService, "x", fresh, patch_type=PatchType.MERGE)


async def test_replace_without_resource_version_is_invalid_for_custom_resources(
    client: AsyncClient,
) -> None:
    await client.create(ps("x"))
    with pytest.raises(ApiError) as caught:
        await client.replace(ps("x"))
    assert (caught.value.status.code, caught.value.status.reason) == (422, "Invalid")
    assert (
        "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
        in (error(caught)["message"])
    )


async def test_create_of_an_existing_name_and_get_of_a_missing_one(client: AsyncClient) -> None:
    await client.create(ps("x"))
    with pytest.raises(ApiError) as exists:
        await client.create(ps("x"))
    assert (exists.value.status.code, exists.value.status.reason) == (409, "AlreadyExists")
    assert exists.value.status.message == 'privateservices.privateservice.io "x" already exists'
    with pytest.raises(ApiError) as missing:
        await client.get(PrivateService, "nope")
    assert (missing.value.status.code, missing.value.status.reason) == (404, "NotFound")
    assert error(missing)["details"]["name"] == "nope"
    with pytest.raises(ApiError) as no_patch:
        await client.patch(PrivateService, "nope", {"spec": {}}, patch_type=PatchType.MERGE)
    assert no_patch.value.status.code == 404


# -- 5. patch content types --------------------------------------------------------------------
async def test_json_patch_operations_and_a_failed_test(client: AsyncClient) -> None:
    await client.create(ps("x", spec={"replicas": 1, "ports": [80]}))
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/spec/ports/-", "value": 443},
        {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        {"op": "remove", "path": "/spec/ports/0"},
    ]
    patched = await client.patch(PrivateService, "x", ops, patch_type=PatchType.JSON)
    assert patched["spec"] == {"replicas": 2, "ports": [443]}
    assert patched["metadata"]["finalizers"] == [FINALIZER]
    failing = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 5},
    ]
    with pytest.raises(ApiError) as caught:
        await client.patch(PrivateService, "x", failing, patch_type=PatchType.JSON)
    assert (caught.value.status.code, caught.value.status.reason) == (422, "Invalid")
    assert (await client.get(PrivateService, "x"))["spec"]["replicas"] == 2


async def test_server_side_apply_creates_merges_and_needs_a_field_manager(
    client: AsyncClient, raw: httpx2.AsyncClient
) -> None:
    applied = await client.apply(ps("x", spec={"replicas": 1, "image": "a"}), field_manager="me")
    assert applied["metadata"]["generation"] == 1
    again = await client.apply(ps("x", spec={"replicas": 2}), field_manager="me")
    assert again["spec"] == {"replicas": 2, "image": "a"}
    assert again["metadata"]["generation"] == 2
    response = await raw.patch(
        f"{PS_PATH}/x",
        content=b'{"spec": {"replicas": 3}}',
        headers={"Content-Type": PatchType.APPLY.value},
    )
    assert response.status_code == 422
    assert "fieldManager: Required value" in response.json()["message"]


async def test_strategic_merge_patch_of_a_custom_resource_is_unsupported(
    client: AsyncClient,
) -> None:
    await client.create(ps("x"))
    with pytest.raises(ApiError) as caught:
        await client.patch(PrivateService, "x", {"spec": {"replicas": 2}})  # lightkube's default
    assert (caught.value.status.code, caught.value.status.reason) == (415, "UnsupportedMediaType")


# -- 6. finalizers and deletion ----------------------------------------------------------------
async def test_finalizers_hold_deletion_until_removed(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    since = str(kube_api.resource_version)
    async with watching(client, PrivateService, resource_version=since) as watch:
        created = await client.create(ps("x", metadata={"finalizers": [FINALIZER]}))
        await client.delete(PrivateService, "x")
        marked = await client.get(PrivateService, "x")
        meta = marked["metadata"]
        assert RFC3339.match(meta["deletionTimestamp"])
        assert meta["deletionGracePeriodSeconds"] == 0
        assert rv(marked) == rv(created) + 1
        await client.delete(PrivateService, "x")  # again: nothing changes
        assert (await client.get(PrivateService, "x"))["metadata"] == meta
        assert summary(await watch.next()) == ("ADDED", "x")
        event, obj = await watch.next()
        assert (event, obj["metadata"]["deletionTimestamp"]) == (
            "MODIFIED",
            meta["deletionTimestamp"],
        )

        await client.patch(
            PrivateService, "x", {"metadata": {"finalizers": None}}, patch_type=PatchType.MERGE
        )
        event, last = await watch.next()
        assert event == "DELETED"
        assert last["metadata"]["deletionTimestamp"] == meta["deletionTimestamp"]
        assert "finalizers" not in last["metadata"]
        assert rv(last) == rv(marked) + 1
    with pytest.raises(ApiError) as gone:
        await client.get(PrivateService, "x")
    assert gone.value.status.code == 404
    assert kube_api.objects("privateservices") == []


async def test_no_new_finalizers_and_no_undeleting_while_being_deleted(
    client: AsyncClient,
) -> None:
    await client.create(ps("x", metadata={"finalizers": [FINALIZER]}))
    await client.delete(PrivateService, "x")
    more = {"metadata": {"finalizers": [FINALIZER, "other/finalizer"]}}
    with pytest.raises(ApiError) as caught:
        await client.patch(PrivateService, "x", more, patch_type=PatchType.MERGE)
    assert (caught.value.status.code, caught.value.status.reason) == (422, "Invalid")
    assert (
        "Forbidden: no new finalizers can be added if the object is being deleted"
        in (error(caught)["message"])
    )
    undelete = {"metadata": {"deletionTimestamp": None}, "spec": {"replicas": 4}}
    kept = await client.patch(PrivateService, "x", undelete, patch_type=PatchType.MERGE)
    assert kept["metadata"]["deletionTimestamp"]
    assert kept["spec"]["replicas"] == 4


async def test_delete_without_finalizers_removes_at_once(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    created = await client.create(ps("x"))
    async with watching(client, PrivateService, resource_version=str(rv(created))) as watch:
        await client.delete(PrivateService, "x")
        event, obj = await watch.next()
    assert (event, obj["metadata"]["uid"]) == ("DELETED", created["metadata"]["uid"])
    assert rv(obj) == rv(created) + 1
    assert kube_api.get_object("privateservices", "default", "x") is None


# -- 7. watch ----------------------------------------------------------------------------------
async def test_watch_replays_history_after_a_resource_version(client: AsyncClient) -> None:
    a = await client.create(ps("a"))
    await client.create(ps("b"))
    await client.patch(PrivateService, "a", {"spec": {"replicas": 5}}, patch_type=PatchType.MERGE)
    async with watching(client, PrivateService, resource_version=str(rv(a))) as watch:
        assert summary(await watch.next()) == ("ADDED", "b")
        event, obj = await watch.next()
        assert (event, obj["spec"]["replicas"]) == ("MODIFIED", 5)
        await client.create(ps("c"))
        assert summary(await watch.next()) == ("ADDED", "c")


async def test_watch_without_resource_version_starts_with_synthetic_added(
    client: AsyncClient,
) -> None:
    await client.create(ps("a"))
    await client.patch(PrivateService, "a", {"spec": {"replicas": 5}}, patch_type=PatchType.MERGE)
    await client.create(ps("b"))
    async with watching(client, PrivateService) as watch:
        first, second = await watch.next(), await watch.next()
        assert [summary(first), summary(second)] == [("ADDED", "a"), ("ADDED", "b")]
        assert first[1]["spec"]["replicas"] == 5
        await client.delete(PrivateService, "b")
        assert summary(await watch.next()) == ("DELETED", "b")


async def test_watch_from_a_compacted_resource_version_raises_410(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    await client.create(ps("a"))
    latest = await client.create(ps("b"))
    kube_api.compact()
    async with watching(client, PrivateService, resource_version=str(rv(latest))) as watch:
        with pytest.raises(ApiError) as caught:
            await watch.next()
    status = caught.value.status
    assert (status.code, status.reason) == (410, "Expired")
    assert error(caught)["message"] == f"too old resource version: {rv(latest)} (3)"
    listing = client.list(PrivateService)
    assert len([o async for o in listing]) == 2
    assert listing.resourceVersion == "3"
    async with watching(client, PrivateService, resource_version=listing.resourceVersion) as fresh:
        await client.create(ps("c"))
        assert summary(await fresh.next()) == ("ADDED", "c")


async def test_a_namespaced_watch_sees_only_its_namespace(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    since = str(kube_api.resource_version)
    async with (
        watching(client, PrivateService, namespace="team-a", resource_version=since) as team_a,
        watching(client, PrivateService, namespace="*", resource_version=since) as everywhere,
    ):
        await client.create(ps("first", namespace="team-a"))
        assert summary(await team_a.next()) == ("ADDED", "first")
        assert summary(await everywhere.next()) == ("ADDED", "first")
        assert kube_api.open_watches == 2
        await client.create(ps("other", namespace="team-b"))
        await client.create(ps("mine", namespace="team-a"))
        assert summary(await team_a.next()) == ("ADDED", "mine")
        assert summary(await everywhere.next()) == ("ADDED", "other")
        assert summary(await everywhere.next()) == ("ADDED", "mine")
    paths = {r.path for r in kube_api.requests if r.method == "GET"}
    assert "/apis/privateservice.io/v1alpha1/privateservices" in paths
    deadline = time.monotonic() + 5
    while kube_api.open_watches and time.monotonic() < deadline:  # released on disconnect
        await asyncio.sleep(0.01)
    assert kube_api.open_watches == 0


async def test_label_selector_watch_sees_objects_enter_and_leave(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    since = str(kube_api.resource_version)
    async with watching(
        client, PrivateService, labels={"team": "a"}, resource_version=since
    ) as watch:
        await client.create(ps("x"))
        labels = {"metadata": {"labels": {"team": "a"}}}
        await client.patch(PrivateService, "x", labels, patch_type=PatchType.MERGE)
        assert summary(await watch.next()) == ("ADDED", "x")
        labels = {"metadata": {"labels": {"team": "b"}}}
        await client.patch(PrivateService, "x", labels, patch_type=PatchType.MERGE)
        assert summary(await watch.next()) == ("DELETED", "x")


async def test_closed_watches_are_resumed_by_lightkube_from_the_last_version(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    async with watching(client, PrivateService, resource_version="0") as watch:
        await client.create(ps("a"))
        assert summary(await watch.next()) == ("ADDED", "a")
        kube_api.close_watches()
        await client.create(ps("b"))
        assert summary(await watch.next()) == ("ADDED", "b")
    watches = [r for r in kube_api.requests if r.method == "GET" and r.path == PS_PATH]
    assert len(watches) >= 2


async def test_timeout_seconds_ends_the_stream(
    kube_api: FakeApiServer, raw: httpx2.AsyncClient
) -> None:
    started = time.monotonic()
    params = {"watch": "true", "timeoutSeconds": "1", "resourceVersion": "0"}
    async with raw.stream("GET", PS_PATH, params=params, timeout=5) as response:
        assert response.status_code == 200
        assert [line async for line in response.aiter_lines()] == []
    assert 0.9 <= time.monotonic() - started < 3


# -- events and leases -------------------------------------------------------------------------
async def test_events_are_created_with_generate_name_and_bumped_by_merge_patch(
    kube_api: FakeApiServer, client: AsyncClient
) -> None:
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    event = Event(
        metadata=ObjectMeta(generateName="x.", namespace="default"),
        involvedObject=ObjectReference(kind="PrivateService", name="x", namespace="default"),
        reason="Reconciled",
        message="all good",
        type="Normal",
        count=1,
        firstTimestamp=stamp,
        lastTimestamp=stamp,
        source=EventSource(component="privateservice-controller"),
    )
    created = await client.create(event)
    name = created.to_dict()["metadata"]["name"]
    assert re.fullmatch(r"x\.[bcdfghjklmnpqrstvwxz2456789]{5}", name)
    later = "2025-01-01T00:05:00Z"
    bumped = await client.patch(
        Event,
        name,
        {"count": 2, "lastTimestamp": later},
        namespace="default",
        patch_type=PatchType.MERGE,
    )
    assert bumped.count == 2
    assert bumped.lastTimestamp == datetime(2025, 1, 1, 0, 5, tzinfo=UTC)
    assert [e["count"] for e in kube_api.events("default")] == [2]
    assert [e.reason async for e in client.list(Event, namespace="*")] == ["Reconciled"]
    chosen = client.list(Event, fields={"involvedObject.name": "x"})
    assert [e.to_dict()["metadata"]["name"] async for e in chosen] == [name]


async def test_lease_create_and_racing_replaces(client: AsyncClient) -> None:
    spec = LeaseSpec(holderIdentity="one", leaseDurationSeconds=10)
    await client.create(Lease(metadata=ObjectMeta(name="leader", namespace="default"), spec=spec))
    read_by_one = await client.get(Lease, "leader")
    read_by_two = await client.get(Lease, "leader")
    assert read_by_one.spec is not None
    assert read_by_two.spec is not None
    read_by_one.spec.leaseTransitions = 1
    won = await client.replace(read_by_one)
    assert won.to_dict()["spec"]["leaseTransitions"] == 1
    read_by_two.spec.holderIdentity = "two"
    with pytest.raises(ApiError) as caught:
        await client.replace(read_by_two)
    assert (caught.value.status.code, caught.value.status.reason) == (409, "Conflict")
    assert 'leases.coordination.k8s.io "leader"' in error(caught)["message"]
    with pytest.raises(ApiError) as exists:
        await client.create(Lease(metadata=ObjectMeta(name="leader", namespace="default")))
    assert exists.value.status.reason == "AlreadyExists"
    put_created = await client.replace(Lease(metadata=ObjectMeta(name="new", namespace="default")))
    assert put_created.to_dict()["metadata"]["resourceVersion"]
    await client.delete(Lease, "new")
    names = [lease.to_dict()["metadata"]["name"] async for lease in client.list(Lease)]
    assert names == ["leader"]


# -- 8. hooks ----------------------------------------------------------------------------------
async def test_fail_next_injects_one_error(kube_api: FakeApiServer, client: AsyncClient) -> None:
    await client.create(ps("x"))
    kube_api.fail_next("GET", "/privateservices/x", 503, "ServiceUnavailable")
    with pytest.raises(ApiError) as caught:
        await client.get(PrivateService, "x")
    assert (caught.value.status.code, caught.value.status.reason) == (503, "ServiceUnavailable")
    assert (await client.get(PrivateService, "x"))["metadata"]["name"] == "x"


def test_direct_helpers_share_the_semantics(kube_api: FakeApiServer) -> None:
    body = {
        **ps("x", metadata={"finalizers": [FINALIZER]}),
        "apiVersion": "privateservice.io/v1alpha1",
        "kind": "PrivateService",
    }
    created = kube_api.create(body)
    assert created["metadata"]["generation"] == 1
    with pytest.raises(StatusError) as exists:
        kube_api.create(body)
    assert exists.value.code == 409
    changed = kube_api.replace({**created, "spec": {"replicas": 2}})
    assert changed["metadata"]["generation"] == 2
    with pytest.raises(StatusError) as stale:
        kube_api.replace(created)
    assert stale.value.reason == "Conflict"
    status = kube_api.replace({**changed, "status": {"phase": "Ready"}}, subresource="status")
    assert status["metadata"]["generation"] == 2
    marked = kube_api.delete("privateservices", "default", "x")
    assert marked["metadata"]["deletionTimestamp"]
    kube_api.patch("privateservices", "default", "x", {"metadata": {"finalizers": []}})
    assert kube_api.objects("privateservices") == []
