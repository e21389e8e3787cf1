"""The API Gateway base shared by v1 and v2 handlers: the spelling tables, find-by-name, paging,
and the operation names each handler derives from its spelling."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from controller.aws import tags as ownership
from controller.handlers.apigw_common import V1, V2, ApiGatewayHandler, paged, pick_named, tags_of
from controller.handlers.registry import HANDLERS

OWNER = "shop/orders"


def _owned_tags(spelling_tags: str) -> dict[str, Any]:
    return {spelling_tags: ownership.owner_tags(OWNER, "api", {})}


def test_pick_named_prefers_ours_in_either_spelling() -> None:
    """Among same-named objects the one with our owner tag wins, read with each version's field
    names (v1 `name`/`tags`, v2 `Name`/`Tags`); a same-named foreign one is still returned."""
    for spelling in (V1, V2):
        foreign = {spelling.name: "orders", spelling.tags: {"team": "x"}, "n": 1}
        ours = {spelling.name: "orders", **_owned_tags(spelling.tags), "n": 2}
        other = {spelling.name: "billing", **_owned_tags(spelling.tags), "n": 3}
        assert pick_named([foreign, ours, other], "orders", OWNER, spelling) == ours
        assert pick_named([foreign, other], "orders", OWNER, spelling) == foreign
        assert pick_named([other], "orders", OWNER, spelling) is None
        assert tags_of(ours, spelling) == ownership.owner_tags(OWNER, "api", {})


@pytest.mark.parametrize("spelling", [V1, V2], ids=["v1", "v2"])
def test_paged_follows_the_version_page_token(spelling: Any) -> None:
    """`paged` sends the version's page token (`position` / `NextToken`) until a page has none,
    passing the caller's arguments on every call."""
    pages = {
        None: {spelling.items: [1, 2], spelling.next_page: "p2"},
        "p2": {spelling.items: [3], spelling.next_page: "p3"},
        "p3": {spelling.items: []},
    }
    calls: list[dict[str, Any]] = []

    def call(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return pages[kwargs.get(spelling.next_page)]

    assert list(paged(call, spelling, apiId="a1")) == [1, 2, 3]
    assert calls == [
        {"apiId": "a1"},
        {"apiId": "a1", spelling.next_page: "p2"},
        {"apiId": "a1", spelling.next_page: "p3"},
    ]


API_GATEWAY_HANDLERS = [h for h in HANDLERS if issubclass(h, ApiGatewayHandler)]


@pytest.mark.parametrize("handler", API_GATEWAY_HANDLERS, ids=lambda h: h.kind)
def test_operation_names_from_the_spelling_exist(handler: type[ApiGatewayHandler]) -> None:
    """Every operation a handler names through its spelling (`Delete<noun>` always, `Create` and
    `Update` where it sends them) is an operation of its service in botocore's model of the API
    (the throttle message names it), and the service follows the spelling's version."""
    model = botocore.session.get_session().get_service_model(handler.spelling.service)
    assert handler.service == handler.spelling.service
    verbs = ["Delete"]
    if "_make" in vars(handler):
        verbs.append("Create")
    if "_send_update" in vars(handler):
        verbs.append("Update")
    for verb in verbs:
        assert f"{verb}{handler.spelling.noun}" in model.operation_names, (handler.kind, verb)
