"""A resource we created moments ago that reads back without its tags (ECS under load) is a
short wait, not a conflict (issue 11, item 8); a stranger's at our name still is a conflict."""

from __future__ import annotations

import pytest
from fakes import Cloud, FakeHandler

from controller.aws import tags as ownership
from controller.handlers import base
from controller.model.stack import Resource, Stack
from controller.reconcile.engine import Action, Engine

OWNER = "shop/orders"


def _stack() -> Stack:
    stack = Stack(owner=OWNER, tags={"team": "shop"})
    stack.add(Resource("svc", "svc", "ecs-service", {"name": "svc"}))
    return stack


def test_our_own_fresh_resource_without_tags_is_a_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Created in pass 1; pass 2 reads it without tags: WAIT (2 s), no conflict, no call; once
    the grace has passed the same reading is a conflict."""
    cloud = Cloud()
    engine = Engine({"svc": FakeHandler("svc", cloud)})  # type: ignore[dict-item]
    first = engine.apply(_stack())
    assert [c.action for c in first.changes] == [Action.CREATE]
    cloud.items[("svc", "svc")]["tags"] = {}  # the read lags: no tags yet
    cloud.calls.clear()

    second = engine.apply(_stack())
    (change,) = second.changes
    assert change.action is Action.WAIT
    assert change.message == "created moments ago; its tags are not visible yet"
    assert second.requeue_after == 2.0
    assert cloud.calls == []

    monkeypatch.setattr(base, "CREATED_GRACE_SECONDS", 0.0)
    (late,) = engine.apply(_stack()).changes
    assert late.action is Action.CONFLICT


def test_a_strangers_resource_is_still_a_conflict() -> None:
    """Never created by this engine: no grace."""
    cloud = Cloud()
    cloud.items[("svc", "svc")] = {
        "id": "theirs",
        "props": {"name": "svc"},
        "tags": {},
        "key": "svc",
    }
    (change,) = Engine({"svc": FakeHandler("svc", cloud)}).apply(_stack()).changes  # type: ignore[dict-item]
    assert change.action is Action.CONFLICT
    assert ownership.OWNER in (change.message or "")
