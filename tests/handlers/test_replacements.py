"""The replacement table (issue 14): every `replace_on` field of every handler is classified
(downtime or not, with the AWS page), nothing else is listed except in-place changes named as
such, docs/replacements.md lists the same fields, and a target group's replacement is downtime
only while a listener forwards to it."""

from __future__ import annotations

from pathlib import Path

from controller.handlers.base import Delta, Observed
from controller.handlers.elbv2_target_group import TargetGroupHandler
from controller.handlers.registry import HANDLERS
from controller.handlers.replacements import SWEEP_DOWNTIME, TABLE, downtime_of

IN_PLACE = {("apigw.rest_api", "endpointType")}  # UpdateRestApi, classified all the same
DOC = (Path(__file__).parents[2] / "docs" / "replacements.md").read_text()


def test_every_replace_on_field_is_classified_with_a_doc_and_nothing_else_is_listed():
    """For each registered handler, the table's fields are exactly its `replace_on` (plus the
    named in-place ones), each entry cites an AWS page, and every kind listed exists."""
    kinds = {h.kind: h for h in HANDLERS}
    for handler in HANDLERS:
        listed = {e.field for e in TABLE.get(handler.kind, ())}
        extra = {f for f in listed if (handler.kind, f) not in IN_PLACE}
        assert extra == set(handler.replace_on), handler.kind
    assert set(TABLE) <= set(kinds)
    assert set(SWEEP_DOWNTIME) <= set(kinds)
    for entries in TABLE.values():
        assert all(e.doc.startswith("https://docs.aws.amazon.com/") for e in entries)


def test_the_doc_lists_every_classified_field():
    """docs/replacements.md names each kind and each of its fields, so people read the same
    list the engine applies."""
    for kind, entries in TABLE.items():
        assert f"`{kind}`" in DOC, kind
        for entry in entries:
            assert f"`{entry.field}`" in DOC, (kind, entry.field)


def test_downtime_names_the_field_and_only_for_fields_that_cut_clients_off():
    """An NLB scheme change is downtime (new DNS name); a log group rename is not; a REST API
    endpoint type change is downtime only to or from PRIVATE (EDGE <-> REGIONAL stays up)."""
    scheme = downtime_of("elbv2.load_balancer", [Delta("scheme", "internet-facing", "internal")])
    assert scheme is not None
    assert scheme.startswith("scheme: a new load balancer")
    assert downtime_of("logs.log_group", [Delta("name", "a", "b")]) is None
    assert downtime_of("apigw.rest_api", [Delta("endpointType", "REGIONAL", "EDGE")]) is None
    private = downtime_of("apigw.rest_api", [Delta("endpointType", "PRIVATE", "REGIONAL")])
    assert private is not None
    assert private.startswith("endpointType: to or from PRIVATE")


def _group(in_use: list[str]) -> Observed:
    return Observed(
        key="target-group",
        id="arn:tg",
        props={},
        tags={},
        outputs={"id": "arn:tg", "arn": "arn:tg", "loadBalancerArns": in_use},
    )


def test_a_target_group_replacement_is_downtime_only_while_a_listener_uses_it():
    """targetType ip -> alb on a group the NLB forwards to: downtime (AWS refuses to delete it
    in use); the same change on a group no load balancer uses: none."""
    handler = TargetGroupHandler.__new__(TargetGroupHandler)
    deltas = [Delta("targetType", "alb", "ip")]
    why = handler.downtime(deltas, _group(["arn:nlb"]))
    assert why is not None
    assert why.startswith("targetType: a listener forwards to it")
    assert handler.downtime(deltas, _group([])) is None
