"""Tests of `controller.alerts.sinks.WebhookSink` against a local aiohttp server."""

from __future__ import annotations

import socket
import time

import pytest
from structlog.testing import capture_logs

from controller.alerts import Alert, AlertDispatcher, DeliveryError, WebhookSink
from controller.spec.models import Alerts

FAST = (0.01, 0.02)


def _alert() -> Alert:
    return Alert(
        kind="drift",
        service="shop/orders",
        component="task-sg",
        resource="sg-123",
        field="ingress",
        expected=[],
        actual=[{"cidr": "0.0.0.0/0"}],
        action="corrected",
        severity="high",
    )


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/T0KEN"


async def test_retries_server_errors_then_delivers_once(webhook_server):
    """Two 500s, then 200: the alert arrives exactly once, with its human-readable `text`."""
    hook = await webhook_server(fail_first=2)
    sink = WebhookSink(backoff=FAST)
    try:
        await sink.send(_alert(), hook.url)
    finally:
        await sink.close()
    assert hook.requests == 3
    (body,) = hook.received
    assert body["text"].startswith("[high] shop/orders task-sg sg-123: ingress drifted")
    assert (body["service"], body["field"], body["severity"]) == ("shop/orders", "ingress", "high")


async def test_too_many_requests_is_retried(webhook_server):
    """A 429 is a wait, not a refusal: the sink retries."""
    hook = await webhook_server(fail_first=1, fail_status=429)
    sink = WebhookSink(backoff=FAST)
    try:
        await sink.send(_alert(), hook.url)
    finally:
        await sink.close()
    assert (hook.requests, len(hook.received)) == (2, 1)


async def test_client_error_is_not_retried(webhook_server):
    """A 4xx other than 429 will not get better: one request, then the sink gives up."""
    hook = await webhook_server(fail_first=10, fail_status=404)
    sink = WebhookSink(backoff=FAST)
    try:
        with pytest.raises(DeliveryError, match="HTTP 404"):
            await sink.send(_alert(), hook.url)
    finally:
        await sink.close()
    assert hook.requests == 1


async def test_dead_url_gives_up_after_retries_and_never_reaches_the_caller():
    """A closed port: the sink retries, gives up; the dispatcher counts it, logs it, never raises.

    The log names the host but never the URL's path (which carries the webhook's token).
    """
    url = _closed_port_url()
    sink = WebhookSink(retries=2, backoff=FAST, timeout=1)
    with pytest.raises(DeliveryError, match="failed 3 times"):
        await sink.send(_alert(), url)
    dispatcher = AlertDispatcher(webhook=sink)
    with capture_logs() as logs:
        await dispatcher.start()
        dispatcher.submit(_alert(), Alerts(webhook_url=url))
        await dispatcher.stop(timeout=3)
    assert dispatcher.failed["webhook"] == 1
    assert dispatcher.delivered == {"log": 1}
    retries = [e for e in logs if e["event"] == "webhook delivery failed; retrying"]
    assert [e["attempt"] for e in retries] == [1, 2]
    (failure,) = [e for e in logs if e["event"] == "alert delivery failed"]
    assert failure["log_level"] == "error"
    assert "T0KEN" not in repr(logs)


async def test_a_hanging_webhook_times_out_per_attempt(webhook_server):
    """A server that never answers costs `timeout` per attempt, then the sink gives up."""
    hook = await webhook_server(hang=True)
    sink = WebhookSink(retries=1, backoff=FAST, timeout=0.2)
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryError, match="TimeoutError"):
            await sink.send(_alert(), hook.url)
    finally:
        await sink.close()
    assert time.monotonic() - started < 1.5
    assert hook.requests == 2
