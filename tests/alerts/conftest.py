"""Fixtures of the alert tests: a local webhook server and a recording sink.

- `webhook_server`: a factory of aiohttp servers on 127.0.0.1 (port 0) that record what they
  receive, fail the first N requests with a status, or hang until the test ends.
- `recorder`: a factory of sinks that record (alert, target) and can be awaited for arrivals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from controller.alerts import Alert


@dataclass
class Hook:
    """One running webhook server and what it saw."""

    url: str
    fail_first: int = 0
    fail_status: int = 500
    hang: bool = False
    requests: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.arrived.set()
        if self.hang:
            await self.release.wait()
            return web.Response(status=504)
        if self.requests <= self.fail_first:
            return web.Response(status=self.fail_status, text="not now")
        self.received.append(await request.json())
        return web.Response(status=200, text="ok")


@pytest.fixture
async def webhook_server() -> AsyncIterator[Callable[..., Awaitable[Hook]]]:
    """Start webhook servers on demand; all are released and stopped at the end of the test."""
    runners: list[tuple[web.AppRunner, Hook]] = []

    async def start(fail_first: int = 0, fail_status: int = 500, hang: bool = False) -> Hook:
        hook = Hook(url="", fail_first=fail_first, fail_status=fail_status, hang=hang)
        app = web.Application()
        app.router.add_post("/hooks/T0KEN", hook.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.01)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        hook.url = f"http://{host}:{port}/hooks/T0KEN"
        runners.append((runner, hook))
        return hook

    yield start
    for runner, hook in runners:
        hook.release.set()
        await runner.cleanup()


@dataclass
class Recorder:
    """A sink that records every (alert, target) it is given."""

    name: str
    sent: list[tuple[Alert, str | None]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    closed: bool = False

    async def send(self, alert: Alert, target: str | None) -> None:
        async with self.changed:
            self.sent.append((alert, target))
            self.changed.notify_all()

    async def close(self) -> None:
        self.closed = True

    async def wait_for(self, n: int, timeout: float = 2.0) -> list[tuple[Alert, str | None]]:
        """Wait until at least `n` alerts were sent; the alerts sent so far."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: len(self.sent) >= n), timeout)
        return list(self.sent)


@pytest.fixture
def recorder() -> Callable[[str], Recorder]:
    """Make a recording sink with a given name (`log`, `sns`, `webhook`)."""
    return Recorder
