"""Tests of `controller.alerts.dispatcher`: dedupe, routing, isolation of slow sinks, stop."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from controller.alerts import Alert, AlertDispatcher, LogSink, WebhookSink
from controller.spec.models import Alerts

TOPIC = "arn:aws:sns:us-east-1:123456789012:drift"


def _alert(field: str = "healthCheck.path") -> Alert:
    return Alert(
        kind="drift",
        service="shop/orders",
        component="target-group",
        resource="arn:tg",
        field=field,
        expected="/healthz",
        actual="/",
        action="corrected",
        severity="medium",
    )


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_same_drift_three_times_is_one_alert_then_one_follow_up(recorder):
    """Three submits within the window: delivered once; after it, one follow-up with count 3.

    The clock is fake, the flusher real (it runs every 10 ms): nothing but the window's end
    releases the follow-up.
    """
    log, clock = recorder("log"), FakeClock()
    dispatcher = AlertDispatcher(log_sink=log, window_seconds=60, flush_interval=0.01, clock=clock)
    await dispatcher.start()
    try:
        for _ in range(3):
            dispatcher.submit(_alert(), Alerts())
            clock.now += 10
        (first,) = [a for a, _ in await log.wait_for(1)]
        assert first.count == 1
        await asyncio.sleep(0.1)
        assert len(log.sent) == 1
        clock.now += 31
        sent = await log.wait_for(2)
        assert [a.count for a, _ in sent] == [1, 3]
        await asyncio.sleep(0.1)
        assert len(log.sent) == 2
    finally:
        await dispatcher.stop()
    assert dispatcher.delivered == {"log": 2}


async def test_follow_up_with_the_real_clock_and_a_short_window(recorder):
    """With the real clock and a 0.2 s window, the follow-up comes by itself after the window."""
    log = recorder("log")
    dispatcher = AlertDispatcher(log_sink=log, window_seconds=0.2)
    await dispatcher.start()
    try:
        for _ in range(3):
            dispatcher.submit(_alert(), Alerts())
        sent = await log.wait_for(2, timeout=2)
        assert [a.count for a, _ in sent] == [1, 3]
    finally:
        await dispatcher.stop()


async def test_routes_to_log_sns_and_webhook_by_targets(recorder):
    """The log always; SNS on the service's topic, else the default; the webhook only when set."""
    log, sns, hook = recorder("log"), recorder("sns"), recorder("webhook")
    dispatcher = AlertDispatcher(log_sink=log, sns=sns, webhook=hook, default_sns_topic=TOPIC)
    await dispatcher.start()
    dispatcher.submit(_alert("a"), Alerts())
    dispatcher.submit(_alert("b"), Alerts(sns_topic_arn=TOPIC + "-own", webhook_url="http://h/x"))
    await dispatcher.stop()
    assert [(a.field, t) for a, t in log.sent] == [("a", None), ("b", None)]
    assert sorted((a.field, t) for a, t in sns.sent) == [("a", TOPIC), ("b", TOPIC + "-own")]
    assert [(a.field, t) for a, t in hook.sent] == [("b", "http://h/x")]
    assert [log.closed, sns.closed, hook.closed] == [True, True, True]


async def test_no_sns_without_a_topic_or_a_sink(recorder):
    """No topic anywhere, or no SNS sink wired: the alert goes to the log only."""
    log, sns = recorder("log"), recorder("sns")
    dispatcher = AlertDispatcher(log_sink=log, sns=sns)
    await dispatcher.start()
    dispatcher.submit(_alert(), Alerts())
    await dispatcher.stop()
    without_sink = AlertDispatcher(log_sink=recorder("log"), default_sns_topic=TOPIC)
    await without_sink.start()
    without_sink.submit(_alert(), Alerts())
    await without_sink.stop()
    assert (len(log.sent), sns.sent) == (1, [])
    assert without_sink.delivered == {"log": 1}


async def test_hanging_webhook_delays_neither_submit_nor_sns_nor_log(webhook_server, recorder):
    """While a webhook hangs, submit returns at once and SNS and the log keep delivering."""
    hook = await webhook_server(hang=True)
    sns = recorder("sns")
    dispatcher = AlertDispatcher(
        sns=sns, webhook=WebhookSink(timeout=30), lane_workers=1, default_sns_topic=TOPIC
    )
    targets = Alerts(webhook_url=hook.url)
    with capture_logs() as logs:
        await dispatcher.start()
        dispatcher.submit(_alert("first"), targets)
        await asyncio.wait_for(hook.arrived.wait(), 2)  # the webhook now hangs
        started = time.perf_counter()
        for i in range(100):
            dispatcher.submit(_alert(f"more{i}"), targets)
        assert time.perf_counter() - started < 0.05
        sent = await sns.wait_for(101, timeout=2)
        assert {a.field for a, _ in sent} >= {"first", "more99"}
        assert hook.requests == 1  # one worker for this URL, stuck: no task per alert
        started = time.monotonic()
        await dispatcher.stop(timeout=0.2)
    assert time.monotonic() - started < 1
    assert dispatcher.delivered == {"sns": 101, "log": 101}
    drift_logs = [e for e in logs if e["event"] == "drift alert"]
    assert len(drift_logs) == 101
    assert any(e["event"] == "alerts not delivered before stop" for e in logs)


async def test_full_queue_drops_the_oldest(recorder):
    """Submitting beyond the queue bound drops the oldest alert, counts and logs it."""
    log = recorder("log")
    dispatcher = AlertDispatcher(log_sink=log, queue_size=2)
    with capture_logs() as logs:
        for field in ("a", "b", "c"):
            dispatcher.submit(_alert(field), Alerts())
        await dispatcher.start()
        await dispatcher.stop()
    assert [a.field for a, _ in log.sent] == ["b", "c"]
    assert dispatcher.dropped == {"submit": 1}
    assert any(e["event"] == "alert queue full; dropped the oldest alert" for e in logs)


async def test_stop_sends_pending_follow_ups(recorder):
    """Repeats still inside their window are not lost at shutdown: stop sends their follow-up."""
    log = recorder("log")
    dispatcher = AlertDispatcher(log_sink=log, window_seconds=300)
    await dispatcher.start()
    dispatcher.submit(_alert(), Alerts())
    dispatcher.submit(_alert(), Alerts())
    await dispatcher.stop()
    assert [a.count for a, _ in log.sent] == [1, 2]


async def test_log_sink_logs_every_field():
    """The log sink writes one warning `drift alert` with the alert's fields and text."""
    with capture_logs() as logs:
        await LogSink().send(_alert(), None)
    (entry,) = logs
    assert entry["log_level"] == "warning"
    assert entry["event"] == "drift alert"
    assert entry["field"] == "healthCheck.path"
    assert entry["text"].startswith("[medium] shop/orders target-group arn:tg")
