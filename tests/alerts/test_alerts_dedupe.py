"""Tests of `controller.alerts.dedupe`: repeat counting windows and contested fields."""

from __future__ import annotations

import pytest

from controller.alerts import Alert, ContestTracker, Deduper


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _alert(field: str = "healthCheck.path", actual: str = "/") -> Alert:
    return Alert(
        kind="drift",
        service="shop/orders",
        component="target-group",
        resource="arn:tg",
        field=field,
        expected="/healthz",
        actual=actual,
        action="corrected",
        severity="medium",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_first_alert_is_admitted_and_repeats_are_suppressed(clock):
    """Within the window only the first occurrence passes; with no repeat there is no follow-up."""
    dedupe = Deduper(60, clock)
    first = _alert()
    assert dedupe.admit(first) is first
    clock.advance(10)
    assert dedupe.admit(_alert(actual="/other")) is None
    assert dedupe.flush() == []  # the window has not ended
    lone = Deduper(60, clock)
    lone.admit(_alert())
    clock.advance(61)
    assert lone.flush() == []


def test_follow_up_after_the_window_carries_the_count(clock):
    """After the window, one follow-up with the total count (latest values), then forgotten."""
    dedupe = Deduper(60, clock)
    dedupe.admit(_alert(actual="/a"))
    clock.advance(5)
    dedupe.admit(_alert(actual="/b"))
    clock.advance(5)
    dedupe.admit(_alert(actual="/c"))
    clock.advance(50)
    (follow_up,) = dedupe.flush()
    assert (follow_up.count, follow_up.actual) == (3, "/c")
    assert dedupe.flush() == []
    fresh = _alert()
    assert dedupe.admit(fresh) is fresh


def test_different_fields_are_different_alerts(clock):
    """The key includes the field: two fields drifting at once are two alerts."""
    dedupe = Deduper(60, clock)
    assert dedupe.admit(_alert("healthCheck.path")) is not None
    assert dedupe.admit(_alert("healthCheck.port")) is not None


def test_an_unflushed_ended_window_keeps_its_follow_up(clock):
    """A repeat after the window opens a new one; the old window's count is not lost."""
    dedupe = Deduper(60, clock)
    dedupe.admit(_alert())
    dedupe.admit(_alert())
    clock.advance(61)
    new = _alert(actual="/new")
    assert dedupe.admit(new) is new
    assert [a.count for a in dedupe.flush()] == [2]


def test_contested_exactly_once_after_k_plus_one_corrections(clock):
    """K corrections within T are fine; the K+1st makes the field contested, reported once."""
    tracker = ContestTracker(max_corrections=3, within_seconds=600, clock=clock)
    results = []
    for _ in range(6):
        results.append(tracker.record("shop/orders", "tg", "healthCheck.path"))
        clock.advance(60)
    assert results == [False, False, False, True, False, False]
    assert tracker.is_contested("shop/orders", "tg", "healthCheck.path")
    assert not tracker.is_contested("shop/orders", "tg", "healthCheck.port")
    assert tracker.contested("shop/orders") == {("tg", "healthCheck.path")}
    assert tracker.contested("shop/other") == set()


def test_corrections_spread_wider_than_the_period_never_contest(clock):
    """A field corrected now and then (less than K+1 times in any T) is not contested."""
    tracker = ContestTracker(max_corrections=2, within_seconds=100, clock=clock)
    assert not any(tracker.record("shop/orders", "tg", "healthCheck.path") for _ in range(2))
    for _ in range(20):
        clock.advance(101)
        assert not tracker.record("shop/orders", "tg", "healthCheck.path")
    assert tracker.contested("shop/orders") == set()


def test_clear_gives_the_service_another_chance(clock):
    """After a spec change (`clear`), the field is no longer contested and counting restarts."""
    tracker = ContestTracker(max_corrections=1, within_seconds=600, clock=clock)
    tracker.record("shop/orders", "tg", "healthCheck.path")
    assert tracker.record("shop/orders", "tg", "healthCheck.path")
    tracker.record("shop/other", "tg", "healthCheck.path")
    assert tracker.record("shop/other", "tg", "healthCheck.path")
    tracker.clear("shop/orders")
    assert not tracker.is_contested("shop/orders", "tg", "healthCheck.path")
    assert tracker.is_contested("shop/other", "tg", "healthCheck.path")
    assert not tracker.record("shop/orders", "tg", "healthCheck.path")
    assert tracker.record("shop/orders", "tg", "healthCheck.path")
