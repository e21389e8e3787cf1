"""The object store of the fake API server: one global resourceVersion, the registry's write
semantics and the watch history.

Single-threaded by design: every method runs on the server's event loop (`apiserver` hops onto
it). What it implements, as the real registry does:
- every write bumps the global counter and stamps `metadata.resourceVersion`; a write that
  changes nothing is not a write (no new resourceVersion, no event);
- create sets `uid`, `creationTimestamp` and (custom resources) `generation: 1`; updates keep
  every system field; `generation` grows when anything but `metadata` (and `status`, with the
  status subresource) changes, and when a deletion is first requested;
- status subresource: main-resource writes keep the stored `status`, `/status` writes only it;
- optimistic concurrency (409 Conflict), finalizers and `deletionTimestamp`;
- a history of every change since the last `compact()`, from which watches replay.
Neighbours: `kinds`, `patching`, `selectors`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from .kinds import (
    Kind,
    already_exists,
    bad_request,
    conflict,
    expired,
    internal,
    invalid,
    not_found,
    unprocessable,
    unsupported_media_type,
)
from .patching import PatchError, PatchNotApplicableError, apply_merge, json_patch, merge_patch

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]
MERGE, JSON_PATCH = "application/merge-patch+json", "application/json-patch+json"
STRATEGIC, APPLY = "application/strategic-merge-patch+json", "application/apply-patch+yaml"
SYSTEM_FIELDS = ("uid", "creationTimestamp", "generation", "resourceVersion")
DROPPED_WHEN_EMPTY = ("labels", "annotations", "finalizers", "ownerReferences")
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the real SimpleNameGenerator's alphabet
MAX_HISTORY = 100_000


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(obj: Obj) -> dict[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def render(kind: Kind, obj: Obj) -> Obj:
    """A copy of a stored object as served under `kind` (its apiVersion)."""
    out = copy.deepcopy(obj)
    out["apiVersion"], out["kind"] = kind.api_version, kind.kind
    return out


@dataclass(frozen=True)
class Change:
    rv: int
    type: str
    storage: tuple[str, str]
    namespace: str
    obj: Obj
    prev: Obj | None


class Watcher:
    """One open watch: its scope, selector and queue (`None` ends the stream)."""

    def __init__(self, kind: Kind, namespace: str | None, predicate: Predicate) -> None:
        self.kind, self.namespace, self.predicate = kind, namespace, predicate
        self.queue: asyncio.Queue[tuple[str, Obj] | None] = asyncio.Queue()

    def translate(self, change: Change) -> tuple[str, Obj] | None:
        """The event this watcher sees, if any: an object leaving the selector is DELETED for it,
        one entering it ADDED."""
        if change.storage != self.kind.storage:
            return None
        if self.namespace is not None and change.namespace != self.namespace:
            return None
        now_in = self.predicate(change.obj)
        was_in = change.prev is not None and self.predicate(change.prev)
        event = change.type
        if change.type == "MODIFIED":
            if not now_in and not was_in:
                return None
            event = "MODIFIED" if now_in and was_in else ("ADDED" if now_in else "DELETED")
        elif not now_in:
            return None
        return event, render(self.kind, change.obj)

    def offer(self, change: Change) -> None:
        if (event := self.translate(change)) is not None:
            self.queue.put_nowait(event)

    def close(self) -> None:
        self.queue.put_nowait(None)


def _normalize(obj: Obj) -> Obj:
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        for key in DROPPED_WHEN_EMPTY:
            if key in metadata and not metadata[key]:
                del metadata[key]
    return obj


def _check_body(kind: Kind, body: Any) -> Obj:
    if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
        raise bad_request("the body of the request is not a valid object")
    if body.get("apiVersion") not in (None, kind.api_version):
        raise bad_request(
            f"the API version in the data ({body['apiVersion']}) does not match the expected "
            f"API version ({kind.api_version})"
        )
    if body.get("kind") not in (None, kind.kind):
        raise bad_request(
            f"the kind in the data ({body['kind']}) does not match the expected kind ({kind.kind})"
        )
    return body


class Store:
    def __init__(self) -> None:
        self.rv = 0
        self.floor = 0  # history holds every change after this resourceVersion
        self.history: list[Change] = []
        self.watchers: set[Watcher] = set()
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}

    # -- reads -----------------------------------------------------------------------------
    def _table(self, kind: Kind) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault(kind.storage, {})

    def _scope(self, kind: Kind, namespace: str | None) -> list[Obj]:
        table = self._table(kind)
        return [table[key] for key in sorted(table) if namespace in (None, key[0])]

    def peek(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        return self._table(kind).get((namespace, name))

    def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        existing = self.peek(kind, namespace, name)
        if existing is None:
            raise not_found(kind, name)
        return render(kind, existing)

    def list_objects(
        self,
        kind: Kind,
        namespace: str | None,
        predicate: Predicate,
        limit: int = 0,
        token: str | None = None,
    ) -> Obj:
        list_rv, start = self.rv, None
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                list_rv, start = int(decoded["rv"]), tuple(decoded["start"])
            except (ValueError, KeyError, TypeError) as exc:
                raise bad_request(f"continue key is not valid: {exc}") from exc
        items = [o for o in self._scope(kind, namespace) if predicate(o)]
        if start is not None:
            items = [o for o in items if (meta(o)["namespace"], meta(o)["name"]) >= start]
        list_meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if limit and len(items) > limit:
            following = meta(items[limit])
            cursor = {"rv": list_rv, "start": [following["namespace"], following["name"]]}
            list_meta["continue"] = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
            list_meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return {
            "apiVersion": kind.api_version,
            "kind": kind.list_kind,
            "metadata": list_meta,
            "items": [render(kind, o) for o in items],
        }

    # -- the write primitives ----------------------------------------------------------------
    def _record(self, kind: Kind, event: str, obj: Obj, prev: Obj | None) -> None:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if event == "DELETED":
            self._table(kind).pop(key, None)
        else:
            self._table(kind)[key] = obj
        change = Change(self.rv, event, kind.storage, key[0], copy.deepcopy(obj), prev)
        self.history.append(change)
        if len(self.history) > MAX_HISTORY:
            dropped = self.history[: MAX_HISTORY // 2]
            self.history = self.history[MAX_HISTORY // 2 :]
            self.floor = dropped[-1].rv
        for watcher in list(self.watchers):
            watcher.offer(change)

    def _write(self, kind: Kind, existing: Obj, new: Obj, dry_run: bool) -> Obj:
        _normalize(new)
        if new == existing:
            return render(kind, existing)
        if meta(new).get("deletionTimestamp") and not meta(new).get("finalizers"):
            return self._remove(kind, new, existing, dry_run)
        if not dry_run:
            self._record(kind, "MODIFIED", new, existing)
        return render(kind, new)

    def _remove(self, kind: Kind, last: Obj, prev: Obj, dry_run: bool) -> Obj:
        if not dry_run:
            self._record(kind, "DELETED", last, prev)
        return render(kind, last)

    # -- create ----------------------------------------------------------------------------
    def create(self, kind: Kind, namespace: str, body: Any, dry_run: bool = False) -> Obj:
        body = _check_body(kind, body)
        obj = copy.deepcopy(body)
        metadata = obj.setdefault("metadata", {})
        if metadata.get("namespace") not in (None, "", namespace):
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        if metadata.get("resourceVersion"):
            raise internal("resourceVersion should not be set on objects to be created")
        if not metadata.get("name"):
            if not metadata.get("generateName"):
                raise invalid(
                    kind, "", "metadata.name", "Required value", "name or generateName is required"
                )
            while True:
                suffix = "".join(random.choices(NAME_CHARS, k=5))
                metadata["name"] = metadata["generateName"] + suffix
                if self.peek(kind, namespace, metadata["name"]) is None:
                    break
        if self.peek(kind, namespace, metadata["name"]) is not None:
            raise already_exists(kind, metadata["name"])
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        metadata.update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp=now())
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            metadata.pop(key, None)
        if kind.custom:
            metadata["generation"] = 1
        if kind.status_subresource:
            obj.pop("status", None)
        _normalize(obj)
        if not dry_run:
            self._record(kind, "ADDED", obj, None)
        return render(kind, obj)

    # -- update (PUT) and patch --------------------------------------------------------------
    def update(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body: Any,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """PUT; returns the object and whether it was created."""
        body = _check_body(kind, body)
        metadata = meta(body)
        if metadata.get("name") != name:
            raise bad_request(
                f"the name of the object ({metadata.get('name', '')}) does not match the name "
                f"on the URL ({name})"
            )
        if metadata.get("namespace") not in (None, "", namespace):
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        existing = self.peek(kind, namespace, name)
        if existing is None:
            if not kind.create_on_update or subresource is not None:
                raise not_found(kind, name)
            fresh = copy.deepcopy(body)
            fresh["metadata"].pop("resourceVersion", None)
            return self.create(kind, namespace, fresh, dry_run), True
        sent = metadata.get("resourceVersion")
        if not sent and not kind.unconditional_update:
            detail = "0x0: must be specified for an update"
            raise invalid(kind, name, "metadata.resourceVersion", "Invalid value", detail)
        if sent and sent != meta(existing)["resourceVersion"]:
            raise conflict(kind, name)
        return self._update(kind, existing, body, subresource, dry_run), False

    def _update(
        self, kind: Kind, existing: Obj, body: Obj, subresource: str | None, dry_run: bool
    ) -> Obj:
        if subresource == "status":
            new = copy.deepcopy(existing)
            if "status" in body:
                new["status"] = copy.deepcopy(body["status"])
            else:
                new.pop("status", None)
            return self._write(kind, existing, new, dry_run)
        new = copy.deepcopy(body)
        new["apiVersion"], new["kind"] = existing["apiVersion"], existing["kind"]
        if kind.status_subresource:
            if "status" in existing:
                new["status"] = copy.deepcopy(existing["status"])
            else:
                new.pop("status", None)
        old_meta, new_meta = existing["metadata"], new.setdefault("metadata", {})
        name = old_meta["name"]
        if new_meta.get("uid") not in (None, "", old_meta["uid"]):
            detail = f'"{new_meta["uid"]}": field is immutable'
            raise invalid(kind, name, "metadata.uid", "Invalid value", detail)
        if new_meta.get("deletionTimestamp") and not old_meta.get("deletionTimestamp"):
            raise invalid(
                kind, name, "metadata.deletionTimestamp", "Invalid value", "field is immutable"
            )
        for key in (*SYSTEM_FIELDS, "deletionTimestamp", "deletionGracePeriodSeconds"):
            if key in old_meta:
                new_meta[key] = old_meta[key]
            else:
                new_meta.pop(key, None)
        new_meta["namespace"] = old_meta["namespace"]
        if old_meta.get("deletionTimestamp"):
            added = [
                f
                for f in new_meta.get("finalizers") or []
                if f not in old_meta.get("finalizers", [])
            ]
            if added:
                found = ", ".join(f'"{f}"' for f in sorted(set(added)))
                detail = (
                    "no new finalizers can be added if the object is being deleted, found new "
                    f"finalizers []string{{{found}}}"
                )
                raise invalid(kind, name, "metadata.finalizers", "Forbidden", detail)
        if kind.custom:
            ignored = {"apiVersion", "kind", "metadata"} | (
                {"status"} if kind.status_subresource else set()
            )
            old_rest = {k: v for k, v in existing.items() if k not in ignored}
            new_rest = {k: v for k, v in new.items() if k not in ignored}
            if old_rest != new_rest:
                new_meta["generation"] = old_meta.get("generation", 0) + 1
        return self._write(kind, existing, new, dry_run)

    def patch(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        raw: bytes,
        content_type: str,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """PATCH in any of the four content types; returns the object and whether it was created
        (server-side apply creates)."""
        if content_type == STRATEGIC and kind.custom:
            raise unsupported_media_type(content_type)
        if content_type not in (MERGE, JSON_PATCH, STRATEGIC, APPLY):
            raise unsupported_media_type(content_type)
        if content_type == APPLY and not field_manager:
            raise unprocessable(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                "required for apply patch"
            )
        if force and content_type != APPLY:
            raise unprocessable(
                'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified '
                "for non-apply patch"
            )
        try:
            body = yaml.safe_load(raw) if content_type == APPLY else json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"error decoding patch: {exc}") from exc
        existing = self.peek(kind, namespace, name)
        if existing is None:
            if content_type != APPLY or subresource is not None:
                raise not_found(kind, name)
            fresh = _check_body(kind, body)
            if meta(fresh).get("name") not in (None, name):
                raise bad_request("the name of the object does not match the name on the URL")
            fresh = merge_patch(fresh, {"metadata": {"name": name}})
            return self.create(kind, namespace, fresh, dry_run), True
        try:
            base = render(kind, existing)
            if content_type == JSON_PATCH:
                patched = json_patch(base, body)
            elif content_type == APPLY:
                patched = apply_merge(base, _check_body(kind, body))
            else:
                if not isinstance(body, dict):
                    raise PatchError("a merge patch must be a JSON object")
                patched = merge_patch(base, body)
        except PatchError as exc:
            raise bad_request(str(exc)) from exc
        except PatchNotApplicableError as exc:
            raise unprocessable(str(exc)) from exc
        patched = _check_body(kind, patched)
        patched_meta = patched.setdefault("metadata", {})
        if patched_meta.get("name") != name:
            raise bad_request("the name of the object does not match the name on the URL")
        sent = patched_meta.get("resourceVersion")
        if sent and sent != meta(existing)["resourceVersion"]:
            raise conflict(kind, name)
        return self._update(kind, existing, patched, subresource, dry_run), False

    # -- delete ----------------------------------------------------------------------------
    def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """The object marked for deletion (finalizers pending), else the removed object
        (custom resources) or a `Success` Status (built-in kinds)."""
        existing = self.peek(kind, namespace, name)
        if existing is None:
            raise not_found(kind, name)
        old_meta = existing["metadata"]
        for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = (preconditions or {}).get(field)
            if wanted and wanted != old_meta.get(field):
                raise conflict(
                    kind,
                    name,
                    f"Precondition failed: {label} in precondition: {wanted}, {label} in object "
                    f"meta: {old_meta.get(field)}",
                )
        if old_meta.get("finalizers"):
            if old_meta.get("deletionTimestamp"):
                return render(kind, existing)
            new = copy.deepcopy(existing)
            new_meta = new["metadata"]
            if new_meta.get("generation", 0) > 0:
                new_meta["generation"] += 1
            new_meta.update(deletionTimestamp=now(), deletionGracePeriodSeconds=0)
            if not dry_run:
                self._record(kind, "MODIFIED", new, existing)
            return render(kind, new)
        removed = self._remove(kind, copy.deepcopy(existing), existing, dry_run)
        if kind.custom:
            return removed
        details = {"name": name, "group": kind.group, "kind": kind.plural, "uid": old_meta["uid"]}
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {key: value for key, value in details.items() if value},
        }

    # -- watch -----------------------------------------------------------------------------
    def watch(
        self, kind: Kind, namespace: str | None, predicate: Predicate, resource_version: str | None
    ) -> tuple[list[tuple[str, Obj]], Watcher | None]:
        """The events to send first and the registered watcher (`None`: the stream ends after
        the first events, an ERROR)."""
        watcher = Watcher(kind, namespace, predicate)
        if resource_version in (None, "", "0"):
            initial = [
                ("ADDED", render(kind, o)) for o in self._scope(kind, namespace) if predicate(o)
            ]
        else:
            try:
                since = int(resource_version)
            except ValueError as exc:
                raise bad_request(f"invalid resource version: {resource_version!r}") from exc
            if since < self.floor:
                error = expired(f"too old resource version: {since} ({self.floor})")
                return [("ERROR", error.status())], None
            initial = [
                event
                for change in self.history
                if change.rv > since and (event := watcher.translate(change)) is not None
            ]
        self.watchers.add(watcher)
        return initial, watcher

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def close_watches(self) -> None:
        for watcher in list(self.watchers):
            watcher.close()
        self.watchers.clear()

    def compact(self) -> None:
        """Forget the history: a watch from any resourceVersion issued so far gets 410 Expired.

        The counter moves on by one, as writes to other resources move a real cluster's global
        resourceVersion: a list made after this returns a version a watch can start from."""
        self.history.clear()
        self.rv += 1
        self.floor = self.rv

    def all_objects(self, kind: Kind, namespace: str | None) -> list[Obj]:
        return [render(kind, o) for o in self._scope(kind, namespace)]
