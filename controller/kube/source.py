"""PrivateService custom resources as a spec source: an informer (list, then watch) and snapshots.

A background task keeps a cache of every PrivateService object (of one namespace, or of all):
it lists them, then watches from the list's resourceVersion. A watch that ends with 410 Gone
(the server no longer has that version) is answered by a new list; any other failure by a new
list after a backoff. Each change sets `changed`, which wakes the controller's poller, so an
edit is seen at once rather than at the next poll. `snapshot()` turns the cache into the
level-based `Snapshot` every source returns: until the first list has completed it raises a
`TemporaryError`, and while the watch is broken the snapshot is marked incomplete (nothing is
pruned on it).

An object carrying a `deletionTimestamp` and our finalizer is in `Snapshot.deleting`: the
controller deletes (or retains) its AWS resources, then `feedback.release` lets it go. One with a
deletionTimestamp but without our finalizer was never reconciled (or someone removed the
finalizer by hand): it is left out, as if already gone.
Neighbours: `feedback` (status, events, finalizers), `client`, `controller.ports.source`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from httpx2 import HTTPError
from lightkube import ALL_NS, ApiError, AsyncClient

from controller.errors import TemporaryError
from controller.kube.client import FINALIZER, PrivateService
from controller.kube.feedback import KubeFeedback, owner_of, plain
from controller.ports.source import Invalid, Snapshot
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService as Spec

log = structlog.get_logger(__name__)

RELIST_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)


class KubernetesSource:
    """PrivateService objects of a namespace (or all) as specs, with status written back."""

    def __init__(
        self,
        client_factory: Callable[[], AsyncClient],
        namespace: str | None = None,
        *,
        holder: str = "privateservice-controller",
    ) -> None:
        self.namespace = namespace
        self.name = f"kubernetes:{namespace}" if namespace else "kubernetes"
        self._factory = client_factory
        self._client: AsyncClient | None = None
        self.objects: dict[str, dict[str, Any]] = {}
        """owner -> the object as last listed or watched (the informer's cache)."""
        self.synced = False
        """True once the first list has completed."""
        self.watching = False
        """True while a watch is established: the cache is current."""
        self.relists = 0
        """Lists made (the first one, and one after each 410 Gone or broken watch)."""
        self.error: str | None = None
        """Why the last list or watch failed, in words that say what to fix."""
        self._task: asyncio.Task[None] | None = None
        self.feedback = KubeFeedback(self.client, self.objects, holder)
        self.changed = self.feedback.changed
        """Set by every change of the cache; the controller's poller clears it."""

    def client(self) -> AsyncClient:
        """The lightkube client (created on first use, inside the running loop)."""
        if self._client is None:
            self._client = self._factory()
        return self._client

    # -- the Source protocol -----------------------------------------------------------
    async def snapshot(self) -> Snapshot:
        """The cached objects as specs; a `TemporaryError` until the first list is done."""
        if self._task is None:
            self._task = asyncio.create_task(self._inform())
        if not self.synced:
            why = f": {self.error}" if self.error else ""
            raise TemporaryError(f"{self.name}: waiting for the first list of PrivateServices{why}")
        specs: dict[str, Spec] = {}
        origins: dict[str, str] = {}
        warnings: dict[str, tuple[str, ...]] = {}
        invalid: list[Invalid] = []
        deleting: set[str] = set()
        for owner, obj in sorted(self.objects.items()):
            meta = obj.get("metadata", {})
            if meta.get("deletionTimestamp"):
                if FINALIZER not in meta.get("finalizers", []):
                    continue  # never reconciled, or released by hand: going away on its own
                deleting.add(owner)
            location = origins[owner] = f"kubernetes:{owner}"
            doc = parse_object({k: v for k, v in obj.items() if k != "status"}, location)
            if not doc.valid or doc.spec is None:  # the owner is the object's, valid or not
                invalid.append(Invalid(location, tuple(str(p) for p in doc.problems), owner))
                continue
            specs[owner] = doc.spec
            if doc.warnings:
                warnings[owner] = tuple(str(p) for p in doc.warnings)
        return Snapshot(
            specs,
            origins,
            tuple(invalid),
            warnings,
            complete=self.watching,
            deleting=frozenset(deleting),
        )

    async def close(self) -> None:
        """Stop the informer and close the client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.close()

    # -- the informer ------------------------------------------------------------------
    async def _inform(self) -> None:
        failures = 0
        while True:
            try:
                version = await self._list()
                failures = 0
                await self._watch(version)
            except (HTTPError, OSError) as exc:  # ApiError (an answer) is an HTTPError too
                self.watching = False
                if isinstance(exc, ApiError) and exc.status.code == 410:
                    log.info("watch expired (410 Gone): listing again", source=self.name)
                    continue
                failures += 1
                self.error = (
                    _explain(exc)
                    if isinstance(exc, ApiError)
                    else f"cannot reach the API server: {exc}"
                )
                log.warning("kubernetes list/watch failed", source=self.name, error=self.error)
            await asyncio.sleep(RELIST_BACKOFF[min(failures, len(RELIST_BACKOFF)) - 1])

    async def _list(self) -> str:
        listing = self.client().list(PrivateService, namespace=self.namespace or ALL_NS)
        fresh: dict[str, dict[str, Any]] = {}
        async for item in listing:
            obj = plain(item)
            fresh[owner_of(obj)] = obj
        self.relists += 1
        self.error = None
        self.objects.clear()
        self.objects.update(fresh)
        self.synced = True
        self.changed.set()
        return listing.resourceVersion

    async def _watch(self, version: str) -> None:
        stream = self.client().watch(
            PrivateService, namespace=self.namespace or ALL_NS, resource_version=version
        )
        self.watching = True
        async for kind, item in stream:
            obj = plain(item)
            if kind == "DELETED":
                self.objects.pop(owner_of(obj), None)
            elif kind in ("ADDED", "MODIFIED"):
                self.objects[owner_of(obj)] = obj
            else:
                continue  # BOOKMARK
            self.changed.set()


def _explain(exc: ApiError) -> str:
    """An API error of list/watch, with what usually causes it."""
    code, message = exc.status.code, exc.status.message
    if code == 404:
        return (
            f"404 {message}: is the PrivateService CRD installed? "
            "(kubectl apply -f crds/privateservice.yaml)"
        )
    if code in (401, 403):
        return (
            f"{code} {message}: the controller's service account needs list and watch on "
            "privateservices.privateservice.io (deploy/kubernetes/base/rbac.yaml)"
        )
    return f"{code} {message}"
