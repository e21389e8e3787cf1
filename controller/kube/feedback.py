"""What the controller writes back to Kubernetes: status, Events, and our finalizer.

- Status goes through the status subresource as a JSON merge patch computed against the
  object's current status (as the informer last saw it, or as our own last write returned it):
  the contract's status with `observedGeneration` (the generation of the spec the pass ran on),
  null for every key that went (at any depth), nulls dropped as the server drops them. A
  condition keeps its `lastTransitionTime` while its status does not change. Nothing is written
  when only `lastReconcileTime` would change: a resync without news costs no API write, and a
  status another replica wrote is compared with, not a cache of our own.
- Events (core/v1) are aggregated as client-go's recorder does: the same type, reason and
  message for the same object within `EVENT_WINDOW` seconds bumps `count` and `lastTimestamp`
  of the existing Event instead of creating another.
- The finalizer is added before the first pass of an object and removed once its AWS resources
  are gone (or kept, under Retain); both writes carry the resourceVersion they are based on, so a
  concurrent change to the finalizer list is a 409 and is retried, never overwritten.
Every method raises `TemporaryError` on an API failure; the controller logs it and retries with
the next pass. Neighbours: `source` (owns the cache this reads), `client`, the runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, cast

import structlog
from httpx2 import HTTPError
from lightkube import ApiError, AsyncClient
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType

from controller.errors import TemporaryError
from controller.kube.client import FIELD_MANAGER, FINALIZER, PrivateService
from controller.spec.models import API_VERSION, KIND

log = structlog.get_logger(__name__)

EVENT_WINDOW = 600.0
MESSAGE_LIMIT = 1024
EventType = Literal["Normal", "Warning"]


def owner_of(obj: Mapping[str, Any]) -> str:
    """`<namespace>/<name>` of an object."""
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', 'default')}/{meta.get('name', '')}"


@contextlib.contextmanager
def _temporary(owner: str, what: str) -> Iterator[None]:
    """An API failure as a `TemporaryError` naming the object and the write (the cause kept)."""
    try:
        yield
    except ApiError as exc:  # before HTTPError: it is one
        raise TemporaryError(f"{owner}: {what}: {exc.status.message}") from exc
    except HTTPError as exc:
        raise TemporaryError(f"{owner}: {what}: {exc}") from exc


def plain(item: Any) -> dict[str, Any]:
    """A lightkube object (generic or typed) as a plain JSON-like dict."""
    to_dict = getattr(item, "to_dict", None)
    return dict(to_dict() if to_dict is not None else item)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeFeedback:
    """Writes status, Events and finalizers for the objects of a `KubernetesSource`."""

    def __init__(
        self,
        client: Callable[[], AsyncClient],
        objects: dict[str, dict[str, Any]],
        holder: str,
    ) -> None:
        self._client, self.objects, self.holder = client, objects, holder
        self._events: dict[tuple[str, str, str, str], tuple[str, int, float]] = {}
        self.changed = asyncio.Event()
        """Set by every change of the objects (the source's informer sets it)."""

    # -- finalizer -----------------------------------------------------------------------
    async def prepare(self, owner: str) -> bool:
        """Before a pass: make sure the object carries our finalizer. False: it is gone."""
        obj = self.objects.get(owner)
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER in finalizers:
            return True
        if meta.get("deletionTimestamp"):
            return False  # no finalizer may be added to an object being deleted
        await self._patch_meta(owner, meta, [*finalizers, FINALIZER])
        log.info("finalizer added", owner=owner)
        return True

    async def release(self, owner: str) -> None:
        """The AWS side is done: remove our finalizer, so that Kubernetes deletes the object."""
        obj = self.objects.get(owner)
        if obj is None:
            return
        meta = obj.get("metadata", {})
        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER not in finalizers:
            return
        await self._patch_meta(owner, meta, [f for f in finalizers if f != FINALIZER])
        log.info("finalizer removed: the object may go", owner=owner)

    async def _patch_meta(self, owner: str, meta: Mapping[str, Any], finalizers: list[str]) -> None:
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        await self._patch(owner, "finalizer", PrivateService, patch)

    async def _patch(self, owner: str, what: str, resource: Any, body: dict[str, Any]) -> None:
        """Merge-patch the object (or its status); keep what the server answered in the cache,
        so that the next pass does not patch again before the watch says the same."""
        namespace, name = owner.split("/", 1)
        with _temporary(owner, what):
            try:
                res = await self._client().patch(
                    resource, name, body, namespace=namespace, patch_type=PatchType.MERGE
                )
            except ApiError as exc:
                if exc.status.code != 404:
                    raise
                self.objects.pop(owner, None)  # gone: nothing left to write
                return
        if owner in self.objects:
            self.objects[owner] = plain(res)

    # -- status --------------------------------------------------------------------------
    async def report(self, owner: str, status: Mapping[str, Any]) -> None:
        """Write `status` to the object's status subresource, when it says something new."""
        obj = self.objects.get(owner)
        if obj is None:
            return
        previous = dict(obj.get("status") or {})
        new = _without_nulls(_keep_transition_times(dict(status), previous))
        if not merge_patch(_news(previous), _news(new)):
            return
        await self._patch(
            owner, "status", PrivateService.Status, {"status": merge_patch(previous, new)}
        )

    async def report_invalid(self, owner: str, problems: Sequence[str]) -> None:
        """Status Failed, with every problem, for an object whose spec is invalid."""
        obj = self.objects.get(owner)
        if obj is None:
            return
        generation = obj.get("metadata", {}).get("generation")
        await self.report(owner, invalid_status(generation, problems))

    # -- events --------------------------------------------------------------------------
    async def event(self, owner: str, kind: EventType, reason: str, message: str) -> None:
        """Record a Kubernetes Event on the object (aggregated with identical recent ones)."""
        obj = self.objects.get(owner)
        if obj is None:
            return
        message = message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."
        key = (owner, kind, reason, message)
        namespace, name = owner.split("/", 1)
        now, stamp = time.monotonic(), _now()
        seen = self._events.get(key)
        with _temporary(owner, "event"):
            if seen is not None and now - seen[2] < EVENT_WINDOW:
                event_name, count, first = seen
                patch = {"count": count + 1, "lastTimestamp": stamp}
                await self._client().patch(
                    Event, event_name, patch, namespace=namespace, patch_type=PatchType.MERGE
                )
                self._events[key] = (event_name, count + 1, first)
                return
            meta = obj.get("metadata", {})
            created = await self._client().create(
                cast("Callable[[dict[str, Any]], Event]", Event.from_dict)(
                    {
                        "metadata": {"generateName": f"{name}.", "namespace": namespace},
                        "involvedObject": {
                            "apiVersion": API_VERSION,
                            "kind": KIND,
                            "name": name,
                            "namespace": namespace,
                            "uid": meta.get("uid"),
                            "resourceVersion": meta.get("resourceVersion"),
                        },
                        "type": kind,
                        "reason": reason,
                        "message": message,
                        "count": 1,
                        "firstTimestamp": stamp,
                        "lastTimestamp": stamp,
                        "source": {"component": FIELD_MANAGER},
                        "reportingComponent": FIELD_MANAGER,
                        "reportingInstance": self.holder,
                    }
                )
            )
        created_name = created.metadata.name if created.metadata else None
        self._events[key] = (created_name or "", 1, now)
        if len(self._events) > 4096:  # forget the oldest half: aggregation is best effort
            for stale in sorted(self._events, key=lambda k: self._events[k][2])[:2048]:
                del self._events[stale]


def invalid_status(generation: int | None, problems: Sequence[str]) -> dict[str, Any]:
    """The status of an object whose spec is invalid: Failed, naming every problem."""
    at = _now()
    message = "; ".join(problems)
    status: dict[str, Any] = {
        "phase": "Failed",
        "conditions": [
            {
                "type": kind,
                "status": "False",
                "reason": "InvalidSpec",
                "message": message,
                "lastTransitionTime": at,
            }
            for kind in ("Ready", "Synced")
        ],
        "lastReconcileTime": at,
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def _keep_transition_times(new: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """A condition whose status did not change keeps its lastTransitionTime."""
    before = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}
    conditions = []
    for cond in new.get("conditions") or []:
        prior = before.get(cond.get("type"))
        if prior is not None and prior.get("status") == cond.get("status"):
            conditions.append(cond | {"lastTransitionTime": prior.get("lastTransitionTime")})
        else:
            conditions.append(cond)
    if "conditions" in new:
        new["conditions"] = conditions
    return new


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`: changed keys, nested objects
    recursed into, and null for every key that went."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            sub = merge_patch(before, value)
            if sub:
                patch[key] = sub
        elif key not in old or value != before:
            patch[key] = value
    patch.update({key: None for key in old if key not in new})
    return patch


def _without_nulls(value: Any) -> Any:
    """What the server keeps of a merge patch: no key whose value is null (lists as they are)."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _news(status: Mapping[str, Any]) -> dict[str, Any]:
    """What makes a status worth writing: all of it but the time of the pass."""
    return {k: v for k, v in status.items() if k != "lastReconcileTime"}
