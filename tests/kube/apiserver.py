"""A small fake Kubernetes API server for the tests: HTTP on loopback, in a background thread.

`FakeApiServer` serves, with the real server's semantics (see `store` for the list), the custom
resources of the CRDs given to `register_crd`, core v1 Events and coordination.k8s.io/v1 Leases:
namespaced collection and item paths (`/status` when the CRD enables it), and the all-namespaces
list/watch path of each. It requires the bearer token of the kubeconfig `write_kubeconfig`
writes, so anything that reaches it went through a real kubeconfig.

It runs an aiohttp server on its own event loop in its own thread, so an asyncio test, a
synchronous one and a subprocess (with `KUBECONFIG`) can all use it. The test hooks
(`objects`, `compact`, `close_watches`, `create`, ...) are thread-safe: they run on the server's
loop. Neighbours: `store` (semantics), `kinds`, `patching`, `selectors`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import yaml
from aiohttp import web

from .kinds import EVENT, LEASE, Kind, StatusError, bad_request
from .selectors import parse_selectors
from .store import MERGE, Obj, Store, meta, render

T = TypeVar("T")
TOKEN = "fake-apiserver-token"


class RecordedRequest(NamedTuple):
    method: str
    path: str
    content_type: str


def _json(code: int, body: Any) -> web.Response:
    # exactly `application/json` (no charset): lightkube only builds an ApiError from that
    return web.Response(
        status=code, body=json.dumps(body).encode(), content_type="application/json"
    )


def _not_found_path() -> StatusError:
    return StatusError(404, "NotFound", "the server could not find the requested resource", {})


def _method_not_allowed(method: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", f"the server does not allow this method ({method})")


async def _read_json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read() or b"null")
    except ValueError as exc:
        raise bad_request(f"the body of the request is not valid JSON: {exc}") from exc


class FakeApiServer:
    """See the module docstring. Use as a context manager, or `start()` / `stop()`."""

    token = TOKEN

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self._requested_port, self._port = host, port, 0
        self.store = Store()
        self._kinds: dict[tuple[str, str, str], Kind] = {}
        for kind in (EVENT, LEASE):
            self.register_kind(kind)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[tuple[str, str, StatusError]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- kinds -------------------------------------------------------------------------------
    def register_kind(self, kind: Kind) -> None:
        self._kinds[(kind.group, kind.version, kind.plural)] = kind

    def register_crd(self, crd: dict[str, Any]) -> list[Kind]:
        """Serve the custom resource a CRD document (a parsed YAML dict) defines."""
        kinds = Kind.from_crd(crd)
        for kind in kinds:
            self.register_kind(kind)
        return kinds

    def kind(self, plural: str) -> Kind:
        """The (first registered) kind of this plural: `privateservices`, `events`, `leases`."""
        for kind in self._kinds.values():
            if kind.plural == plural:
                return kind
        raise KeyError(plural)

    def _kind_of(self, obj: Obj) -> Kind:
        for kind in self._kinds.values():
            if (kind.api_version, kind.kind) == (obj.get("apiVersion"), obj.get("kind")):
                return kind
        raise KeyError(f"{obj.get('apiVersion')} {obj.get('kind')}")

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the server is not running")
        return f"http://{self.host}:{self._port}"

    def start(self) -> FakeApiServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="fake-kube-apiserver", daemon=True
        )
        self._thread.start()
        ready.result(timeout=30)
        return self

    def _serve(self, ready: concurrent.futures.Future[None]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            ready.set_exception(exc)
            loop.close()
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=2.0,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._requested_port).start()
        self._port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._thread, self._loop, self._port = None, None, 0

    async def _shutdown(self) -> None:
        self.store.close_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        """A kubeconfig (plain http, bearer token, current context in `namespace`)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": "fake", "namespace": namespace},
                }
            ],
            "current-context": "fake",
        }
        target.write_text(yaml.safe_dump(config), encoding="utf-8")
        return target

    # -- test hooks (thread-safe) ------------------------------------------------------------
    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server loop (directly when not running or already on it)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or threading.current_thread() is thread:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def compact(self) -> None:
        """Forget the watch history: watching from any older resourceVersion gets 410."""
        self._call(self.store.compact)

    def close_watches(self) -> None:
        """End every open watch stream, as an API server restart would."""
        self._call(self.store.close_watches)

    def objects(self, plural: str, namespace: str | None = None) -> list[Obj]:
        kind = self.kind(plural)
        return self._call(lambda: self.store.all_objects(kind, namespace))

    def get_object(self, plural: str, namespace: str, name: str) -> Obj | None:
        kind = self.kind(plural)
        found = self._call(lambda: self.store.peek(kind, namespace, name))
        return None if found is None else render(kind, found)

    def events(self, namespace: str | None = None) -> list[Obj]:
        return self.objects("events", namespace)

    @property
    def open_watches(self) -> int:
        """How many watch streams are open now (poll it to know a client is watching)."""
        return self._call(lambda: len(self.store.watchers))

    @property
    def resource_version(self) -> int:
        return self._call(lambda: self.store.rv)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request so far: (method, path without query, content type or "")."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def fail_next(
        self,
        method: str,
        path_suffix: str,
        status_code: int = 500,
        reason: str = "InternalError",
        message: str | None = None,
    ) -> None:
        """Answer the next `method` request whose path ends with `path_suffix` with this error
        (a `Status` body), once."""
        error = StatusError(status_code, reason, message or f"injected failure ({reason})")
        with self._lock:
            self._failures.append((method.upper(), path_suffix, error))

    def create(self, obj: Obj) -> Obj:
        """Like `kubectl create`: the stored object (raises `StatusError`)."""
        kind = self._kind_of(obj)
        namespace = meta(obj).get("namespace") or "default"
        return self._call(lambda: self.store.create(kind, namespace, obj))

    def replace(self, obj: Obj, subresource: str | None = None) -> Obj:
        """Like `kubectl replace` (PUT, to `/status` with `subresource="status"`)."""
        kind = self._kind_of(obj)
        namespace, name = meta(obj).get("namespace") or "default", meta(obj).get("name", "")
        return self._call(lambda: self.store.update(kind, namespace, name, obj, subresource)[0])

    def patch(
        self,
        plural: str,
        namespace: str,
        name: str,
        patch: Any,
        content_type: str = MERGE,
        subresource: str | None = None,
        field_manager: str | None = None,
    ) -> Obj:
        """Like `kubectl patch --type merge` (or another content type)."""
        kind, raw = self.kind(plural), json.dumps(patch).encode()
        return self._call(
            lambda: self.store.patch(
                kind, namespace, name, raw, content_type, subresource, field_manager
            )[0]
        )

    def delete(self, plural: str, namespace: str, name: str) -> Obj:
        """Like `kubectl delete --wait=false`: marked for deletion, or gone."""
        kind = self.kind(plural)
        return self._call(lambda: self.store.delete(kind, namespace, name))

    # -- HTTP ----------------------------------------------------------------------------------
    def _take_failure(self, method: str, path: str) -> StatusError | None:
        with self._lock:
            for index, (wanted, suffix, error) in enumerate(self._failures):
                if wanted == method and path.endswith(suffix):
                    del self._failures[index]
                    return error
        return None

    def _route(self, path: str) -> tuple[Kind, str | None, str | None, str | None]:
        """(kind, namespace or None for all namespaces, name, subresource)."""
        parts = [part for part in path.split("/") if part]
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _not_found_path()
        namespace = name = subresource = None
        if len(rest) == 1:
            plural = rest[0]
        elif 3 <= len(rest) <= 5 and rest[0] == "namespaces":
            namespace, plural = rest[1], rest[2]
            name = rest[3] if len(rest) > 3 else None
            subresource = rest[4] if len(rest) > 4 else None
        else:
            raise _not_found_path()
        kind = self._kinds.get((group, version, plural))
        if kind is None or (
            subresource is not None and not (subresource == "status" and kind.status_subresource)
        ):
            raise _not_found_path()
        return kind, namespace, name, subresource

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        with self._lock:
            self._requests.append(RecordedRequest(request.method, request.path, content_type))
        try:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                raise StatusError(401, "Unauthorized", "Unauthorized")
            failure = self._take_failure(request.method, request.path)
            if failure is not None:
                raise failure
            if request.path == "/version":
                return _json(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake"})
            return await self._dispatch(request, content_type, *self._route(request.path))
        except StatusError as exc:
            return _json(exc.code, exc.status())

    async def _dispatch(
        self,
        request: web.Request,
        content_type: str,
        kind: Kind,
        namespace: str | None,
        name: str | None,
        subresource: str | None,
    ) -> web.StreamResponse:
        query, method, store = request.query, request.method, self.store
        dry_run = query.get("dryRun") == "All"
        if name is None:
            if method == "GET":
                try:
                    predicate = parse_selectors(
                        query.get("labelSelector"), query.get("fieldSelector"), kind.field_labels
                    )
                except ValueError as exc:
                    raise bad_request(str(exc)) from exc
                if query.get("watch") in ("true", "1"):
                    return await self._watch(request, kind, namespace, predicate)
                limit = int(query.get("limit") or 0)
                body = store.list_objects(kind, namespace, predicate, limit, query.get("continue"))
                return _json(200, body)
            if namespace is not None and method == "POST":
                return _json(201, store.create(kind, namespace, await _read_json(request), dry_run))
            if namespace is not None and method == "DELETE":
                removed = [
                    store.delete(kind, namespace, meta(o)["name"], dry_run=dry_run)
                    for o in store.all_objects(kind, namespace)
                ]
                items = [o for o in removed if o.get("kind") != "Status"]
                list_meta = {"resourceVersion": str(store.rv)}
                return _json(
                    200,
                    {
                        "apiVersion": kind.api_version,
                        "kind": kind.list_kind,
                        "metadata": list_meta,
                        "items": items,
                    },
                )
            raise _method_not_allowed(method)
        assert namespace is not None
        if method == "GET":
            return _json(200, store.get(kind, namespace, name))
        if method == "PUT":
            body = await _read_json(request)
            obj, created = store.update(kind, namespace, name, body, subresource, dry_run)
            return _json(201 if created else 200, obj)
        if method == "PATCH":
            obj, created = store.patch(
                kind,
                namespace,
                name,
                await request.read(),
                content_type,
                subresource,
                query.get("fieldManager"),
                query.get("force") == "true",
                dry_run,
            )
            return _json(201 if created else 200, obj)
        if method == "DELETE" and subresource is None:
            options = await _read_json(request) if request.body_exists else None
            preconditions = options.get("preconditions") if isinstance(options, dict) else None
            return _json(200, store.delete(kind, namespace, name, preconditions, dry_run))
        raise _method_not_allowed(method)

    async def _watch(
        self,
        request: web.Request,
        kind: Kind,
        namespace: str | None,
        predicate: Callable[[Obj], bool],
    ) -> web.StreamResponse:
        """Newline-delimited JSON watch events, each written (and flushed) as it happens."""
        timeout = request.query.get("timeoutSeconds")
        initial, watcher = self.store.watch(
            kind, namespace, predicate, request.query.get("resourceVersion")
        )
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            for event_type, obj in initial:
                await response.write(_line(event_type, obj))
            if watcher is not None:
                async with asyncio.timeout(float(timeout) if timeout else None):
                    while (event := await watcher.queue.get()) is not None:
                        await response.write(_line(*event))
        except (TimeoutError, ConnectionError):
            pass
        finally:
            if watcher is not None:
                self.store.unwatch(watcher)
        return response


def _line(event_type: str, obj: Obj) -> bytes:
    return json.dumps({"type": event_type, "object": obj}).encode() + b"\n"
