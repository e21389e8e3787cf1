"""The controller's HTTP endpoints: /healthz, /readyz, /metrics, /status, /doctor (aiohttp).

`/doctor?spec=ns/name` diagnoses that spec's chain now (`controller.runtime.diagnosis`) and
answers its JSON (400 without `spec`, 404 for a spec the controller does not hold).

An address that cannot be bound (in use) is a `ControllerError` saying what to do: `psctl`
prints it as one line. Neighbours: `controller.runtime.controller` (the state served),
`controller.runtime.metrics`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from controller.errors import ControllerError


class StatusServer:
    """Serves health, readiness, metrics and the status of every spec."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ready: Callable[[], bool],
        metrics: Callable[[], bytes],
        status: Callable[[], dict[str, Any]],
        doctor: Callable[[str], Awaitable[tuple[int, dict[str, Any]]]] | None = None,
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._ready, self._metrics, self._status = ready, metrics, status
        self._doctor = doctor
        self._health = health
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics_handler)
        app.router.add_get("/status", self._status_handler)
        if self._doctor is not None:
            app.router.add_get("/doctor", self._doctor_handler)
        return app

    async def start(self) -> None:
        """Listen; `bound_port` is the real port (useful with port 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # in use, not ours to bind, no such address
            await self._runner.cleanup()
            self._runner = None
            raise ControllerError(
                f"cannot listen on {self.host}:{self.port} "
                f"({os.strerror(exc.errno) if exc.errno else exc}): "
                f"choose another address with --listen, e.g. --listen {self.host}:0 for any "
                "free port"
            ) from None
        server = site._server  # aiohttp exposes the bound sockets only here
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        """200 while the process serves (a liveness probe must not restart it for a bad spec
        file); the detail says whether the source's polls keep failing (`degraded`)."""
        detail = self._health() if self._health is not None else {}
        return web.json_response({"status": detail.pop("status", "ok"), **detail})

    async def _readyz(self, _: web.Request) -> web.Response:
        ready = self._ready()
        return web.json_response({"ready": ready}, status=200 if ready else 503)

    async def _metrics_handler(self, _: web.Request) -> web.Response:
        return web.Response(body=self._metrics(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _status_handler(self, _: web.Request) -> web.Response:
        return web.json_response(self._status())

    async def _doctor_handler(self, request: web.Request) -> web.Response:
        owner = request.query.get("spec", "")
        if self._doctor is None or "/" not in owner:
            return web.json_response({"error": "ask /doctor?spec=NAMESPACE/NAME"}, status=400)
        code, body = await self._doctor(owner)
        return web.json_response(body, status=code)
