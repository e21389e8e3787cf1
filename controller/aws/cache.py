"""The read snapshot: every AWS read of the chain, at botocore's level, shared by every pass.

AWS's control planes are rate-limited per account (API Gateway 10 calls/s in all, ELB Describe
10/s), and many specs read the same collections (GetRestApis, GetUsagePlans, GetApiKeys,
GetVpcLinks, DescribeLoadBalancers, DescribeTargetGroups, ...). Within `ttl` seconds the same
read with the same request is answered from here: botocore lets a `before-call` handler answer a
call without sending it. Two threads asking for the same read at once make one call (the second
waits for the first's answer: single flight). A 404 (the thing is not there) is kept like any
answer; other errors and throttles never are.

Freshness: our own writes invalidate what they can change, so a pass always reads its own
writes. For the REST protocols (API Gateway v1 and v2) a write forgets the reads of the item it
writes, of what lies below it, and of its ancestors (`_stale`): UpdateStage on
`/restapis/a/stages/prod` forgets `/restapis/a/stages/prod` and `/restapis/a`, not
`/restapis/b/resources`; a top-level list (`/restapis`) only when the write is on the list or one
of its items. A write outside the hierarchy (`/tags/{arn}`: tags are part of every listed item)
and every write of a query or JSON protocol service (EC2, ELB, ECS) forget the whole service.
`forget(service)` drops a service's reads on demand: the engine calls it when a resource is still
provisioning, so a wait is never answered by a stale read. A write forgets before it is sent and
again once answered, and a read that was on the wire while we wrote to its service is answered
but not stored (it may predate the write). `ttl` bounds how stale a change made behind the
controller's back can look. A stored read keeps the parsed answer and a `StoredReply` (status,
headers), not the HTTP body; a janitor thread drops expired entries every JANITOR_SECONDS.
Neighbours: `controller.aws.session` (registers it on each client), `controller.reconcile.engine`
(`forget` on waits).
"""

from __future__ import annotations

import copy
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

# Services whose reads are snapshotted (not: S3 and DynamoDB, which serve the source and the
# lease and must always be read afresh; STS; Secrets Manager, whose values never sit here).
SERVICES = frozenset(
    {
        "apigateway",
        "apigatewayv2",
        "elbv2",
        "ec2",
        "ecs",
        "iam",
        "logs",
        "lambda",
        "servicediscovery",
    }
)
READ_PREFIXES = ("Get", "Describe", "List")
REST_PROTOCOLS = frozenset({"rest-json", "rest-xml"})
HIT = "psctl_cache_hit"
FLIGHT_WAIT = 30.0  # seconds a reader waits for another thread's identical read
NOT_FOUND = 404  # absence is an answer too (an inline policy that is not there); errors are not
PURGE_EVERY = 256  # stores between two sweeps of expired entries
PASS_SECONDS = 5.0
"""The freshness the one-shot commands (plan, apply, delete, status) use: one pass's reads are
shared by every resource and every spec of the command, and a later pass reads afresh."""


JANITOR_SECONDS = 5.0
"""How often expired entries are dropped from every live cache, calls or not: at rest a whole
round of reads would otherwise stay until the next round's stores (with 1,000 specs, ~12,000
answers between two rounds)."""


@dataclass(frozen=True)
class StoredReply:
    """What a stored read answers in place of botocore's HTTP response: its status and headers
    (botocore and our after-call handlers read no more), not the raw body it was parsed from."""

    status_code: int
    headers: dict[str, str]


_LIVE: weakref.WeakSet[ReadCache] = weakref.WeakSet()
_JANITOR: list[threading.Thread] = []
_JANITOR_LOCK = threading.Lock()


def _sweep_forever() -> None:
    while True:
        time.sleep(JANITOR_SECONDS)
        for cache in list(_LIVE):
            cache.purge()


def _watch(cache: ReadCache) -> None:
    """Let the janitor thread (one per process, a daemon) purge `cache` while it lives."""
    with _JANITOR_LOCK:
        _LIVE.add(cache)
        if not _JANITOR:
            thread = threading.Thread(target=_sweep_forever, name="read-cache-janitor", daemon=True)
            thread.start()
            _JANITOR.append(thread)


def is_cacheable(service: str, operation: str) -> bool:
    """True for a read of a snapshotted service."""
    return service in SERVICES and operation.startswith(READ_PREFIXES)


def _stale(read_path: str, write_path: str) -> bool:
    """A write on `write_path` may change what a read of `read_path` returns.

    The read is the written item, something below it, or one of its ancestors; a top-level
    collection (`/restapis`) only when the write is on it or on one of its items (a changed
    integration deep inside an API does not change GetRestApis).
    """
    read = [s for s in read_path.split("/") if s]
    write = [s for s in write_path.split("/") if s]
    if read[: len(write)] == write:  # the item itself, or below it
        return len(write) >= 2 or read == write
    if write[: len(read)] == read:  # an ancestor
        return len(read) > 1 or len(write) <= 2
    return False


Key = tuple[str, str, str, str]  # service, operation, url path, the rest of the request


class ReadCache:
    """(service, operation, request) -> (http response, parsed response, time stored)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.hits = 0
        self._entries: dict[Key, tuple[Any, Any, float]] = {}
        self._flights: dict[Key, threading.Event] = {}
        # bumped by every write: a read that was on the wire across a write is not stored
        self._generation: dict[str, int] = {}
        self._stores = 0
        self._lock = threading.Lock()
        _watch(self)

    @staticmethod
    def _key(service: str, operation: str, params: dict[str, Any]) -> Key:
        request = (
            sorted((params.get("query_string") or {}).items()),
            params.get("body"),
        )
        return (service, operation, str(params.get("url_path") or "/"), repr(request))

    def before_call(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> tuple[Any, Any] | None:
        """botocore `before-call`: answer a fresh stored read, or None to send the call.

        When the same read is already on the wire from another thread, wait for its answer.
        """
        service, operation = model.service_model.service_name, model.name
        if not is_cacheable(service, operation):
            return None
        key = self._key(service, operation, params)
        context["psctl_key"] = key
        for _attempt in range(2):
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and time.monotonic() - entry[2] <= self.ttl:
                    self.hits += 1
                    context[HIT] = True
                    return entry[0], copy.deepcopy(entry[1])
                flight = self._flights.get(key)
                if flight is None:
                    self._flights[key] = threading.Event()
                    context["psctl_flight"] = True
                    context["psctl_generation"] = self._generation.get(service, 0)
                    return None
            flight.wait(FLIGHT_WAIT)  # another thread is reading it: take its answer
        return None

    def after_call(
        self, model: Any, http_response: Any, parsed: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """botocore `after-call`: keep a successful read and wake the threads waiting for it;
        after a write, forget again what it changed (a read sent between our forgetting and
        AWS applying the write may have been stored meanwhile)."""
        write = context.pop("psctl_write", None)
        if write is not None:
            self.on_write(*write)
        if context.get(HIT):
            return
        key: Key | None = context.get("psctl_key")
        if key is None:
            return
        with self._lock:
            current = self._generation.get(key[0], 0) == context.get("psctl_generation")
            status = getattr(http_response, "status_code", 500)
            if current and (status < 300 or status == NOT_FOUND):
                reply = StoredReply(status, dict(getattr(http_response, "headers", None) or {}))
                self._entries[key] = (reply, copy.deepcopy(parsed), time.monotonic())
                self._stores += 1
                if self._stores % PURGE_EVERY == 0:
                    self._purge()
            self._land(key, context)
        del model

    def after_call_error(self, context: dict[str, Any], **_: Any) -> None:
        """botocore `after-call-error` (no answer at all): release the waiting threads; a write
        that may or may not have landed forgets what it may have changed."""
        write = context.pop("psctl_write", None)
        if write is not None:
            self.on_write(*write)
        key: Key | None = context.get("psctl_key")
        if key is not None:
            with self._lock:
                self._land(key, context)

    def _purge(self) -> None:
        """Drop expired entries (a spec that went away must not leave its reads behind)."""
        now = time.monotonic()
        for old in [k for k, (_, _, at) in self._entries.items() if now - at > self.ttl]:
            del self._entries[old]

    def purge(self) -> None:
        """`_purge` under the lock (the janitor's call)."""
        with self._lock:
            self._purge()

    @property
    def size(self) -> int:
        """Entries held (fresh or not yet purged)."""
        return len(self._entries)

    def _land(self, key: Key, context: dict[str, Any]) -> None:
        if context.pop("psctl_flight", False):
            flight = self._flights.pop(key, None)
            if flight is not None:
                flight.set()

    def on_write(self, service: str, protocol: str, url_path: str | None) -> None:
        """Forget what a write on `service` (at `url_path`, for REST protocols) may change."""
        whole = protocol not in REST_PROTOCOLS or not url_path or "tags" in url_path.split("/")[:3]
        with self._lock:
            self._generation[service] = self._generation.get(service, 0) + 1
            stale = [
                k
                for k in self._entries
                if k[0] == service and (whole or _stale(k[2], url_path or "/"))
            ]
            for old in stale:
                del self._entries[old]

    def invalidate(self, service: str) -> None:
        """Forget every entry of `service`."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == service]:
                del self._entries[key]
