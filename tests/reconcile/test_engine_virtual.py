"""A virtual kind (nothing of its own in AWS, such as retiring old listeners) is observed like
any other but never deleted: a stack's delete would otherwise find it on every pass and never
finish."""

from __future__ import annotations

from fakes import Cloud, FakeHandler

from controller.handlers.base import Desired, Observed
from controller.model.stack import Resource, Stack
from controller.reconcile.engine import Action, Engine

OWNER = "shop/orders"


class Step(FakeHandler):
    """Always observed (ours by construction), whatever AWS holds; records deletes."""

    virtual = True

    def __init__(self, cloud: Cloud) -> None:
        super().__init__("step", cloud)
        self.deletes = 0

    def observe(self, want: Desired) -> Observed | None:
        return Observed(want.key, "step", dict(want.props), dict(want.tags))

    def delete(self, have: Observed) -> None:
        self.deletes += 1


def test_a_virtual_kind_is_left_out_of_a_delete() -> None:
    """Deleting a stack of a real resource and a virtual step: the resource is deleted, the
    step is neither deleted nor reported, and the next delete pass has nothing left."""
    cloud = Cloud()
    step = Step(cloud)
    engine = Engine({"lb": FakeHandler("lb", cloud), "step": step})
    stack = Stack(owner=OWNER, tags={})
    stack.add(Resource("lb", "lb", "nlb", {"name": "lb"}))
    stack.add(Resource("step", "step", "old-listeners", {"name": "step"}))
    engine.apply(stack)
    first = engine.delete(stack)
    assert [(c.key, c.action) for c in first.changes] == [("lb", Action.DELETE)]
    assert step.deletes == 0
    assert engine.delete(stack).changes == []
