"""The engine deletes through `Handler.remove`: a resource already gone (the kind's
`not_found_codes`) is a done delete, any other error answer is not (issue 10, item 2)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from fakes import Cloud, FakeHandler

from controller.handlers.base import Observed
from controller.handlers.ecs_task_definition import TaskDefinitionHandler
from controller.model.stack import Resource, Stack
from controller.reconcile.engine import Action, Engine

OWNER = "shop/orders"


class GoneOnDelete(FakeHandler):
    """Deletes answer with `code`, as AWS does for something already deleted elsewhere."""

    not_found_codes = ("TargetGroupNotFound",)

    def __init__(self, cloud: Cloud, code: str) -> None:
        super().__init__("tg", cloud)
        self.code = code

    def delete(self, have: Observed) -> None:
        super().delete(have)
        error = {"Error": {"Code": self.code, "Message": "nope"}}
        raise ClientError(error, "DeleteTargetGroup")  # type: ignore[arg-type]


def _stack() -> Stack:
    stack = Stack(owner=OWNER, tags={})
    stack.add(Resource("tg", "tg", "target-group", {"name": "tg"}))
    return stack


@pytest.mark.parametrize(
    ("code", "action"),
    [("TargetGroupNotFound", Action.DELETE), ("AccessDenied", Action.FAILED)],
)
def test_a_delete_that_meets_the_kinds_not_found_is_done(code: str, action: Action) -> None:
    """The handler's own NotFound code on delete counts as deleted; AccessDenied fails."""
    cloud = Cloud()
    engine = Engine({"tg": GoneOnDelete(cloud, code)})
    engine.apply(_stack())
    (change,) = engine.delete(_stack()).changes
    assert change.action is action


def test_a_kind_whose_not_found_code_also_means_refused_does_not_swallow_it() -> None:
    """ECS answers ClientException for a missing task definition and for a refused call: the
    task-definition handler's `gone_on_delete` is empty, so a refused delete is not done."""

    class Refused(GoneOnDelete):
        not_found_codes = ("ClientException",)
        gone_on_delete = ()

    cloud = Cloud()
    engine = Engine({"tg": Refused(cloud, "ClientException")})
    engine.apply(_stack())
    (change,) = engine.delete(_stack()).changes
    assert change.action is Action.FAILED
    assert TaskDefinitionHandler.gone_on_delete == ()
