"""The engine's downtime policy (issue 14): a change that cuts clients off (an NLB's scheme: a
new DNS name) is planned as `replace (downtime: ...)`, refused by `refuse` with nothing
changed, held back and reported by `report` (drift under psctl run), made by `allow`; a sweep
deleting an API (api.type REST -> HTTP) is the same."""

from __future__ import annotations

import pytest
from fakes import Cloud, FakeHandler

from controller.model.stack import Ref, Resource, Stack
from controller.reconcile.engine import Action, Engine
from controller.reconcile.render import change_json, change_lines

OWNER = "shop/orders"
NLB = "elbv2.load_balancer"
SG = "ec2.security_group"
API = "apigw.rest_api"


def make_stack(*, scheme: str = "internal", port: int = 80, api: bool = True) -> Stack:
    """sg <- nlb; an optional REST API."""
    stack = Stack(owner=OWNER, tags={})
    stack.add(Resource("nlb-sg", SG, "nlb-sg", {"name": "sg", "port": port}))
    stack.add(Resource("nlb", NLB, "nlb", {"name": "nlb", "sg": Ref("nlb-sg"), "scheme": scheme}))
    if api:
        stack.add(Resource("rest-api", API, "rest-api", {"name": "api"}))
    return stack


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def make_engine(cloud: Cloud, policy: str) -> Engine:
    handlers = {
        SG: FakeHandler(SG, cloud),
        NLB: FakeHandler(NLB, cloud, replace_on=("name", "type", "scheme", "subnetMappings")),
        API: FakeHandler(API, cloud),
    }
    engine = Engine(handlers)  # type: ignore[arg-type]
    engine.downtime_policy = policy  # type: ignore[assignment]
    return engine


def applied(cloud: Cloud) -> Cloud:
    """The stack as created, the call log cleared."""
    assert make_engine(cloud, "allow").apply(make_stack()).changes
    cloud.calls.clear()
    return cloud


def test_a_plan_marks_a_scheme_replacement_as_downtime_and_says_why(cloud):
    """Dry run: REPLACE with `downtime` naming the field and the reason; the text says
    `replace (downtime: scheme: ...)`, the JSON has it too; nothing is called."""
    applied(cloud)
    out = make_engine(cloud, "allow").apply(make_stack(scheme="internet-facing"), dry_run=True)
    nlb = next(c for c in out.changes if c.key == "nlb")
    assert nlb.action is Action.REPLACE
    assert nlb.downtime is not None
    assert nlb.downtime.startswith("scheme: a new load balancer")
    head = change_lines(nlb)[0]
    assert head.startswith("-/+ replace (downtime: scheme: a new load balancer has a new DNS")
    assert change_json(nlb)["downtime"] == nlb.downtime
    assert cloud.calls == []


def test_refuse_fails_the_replacement_naming_field_and_flag_and_deletes_nothing(cloud):
    """`refuse` (psctl apply without --allow-replace): FAILED, one message naming the resource,
    the field and --allow-replace; the NLB is neither deleted nor created."""
    applied(cloud)
    before = cloud.items[(NLB, "nlb")]["id"]
    out = make_engine(cloud, "refuse").apply(make_stack(scheme="internet-facing"))
    nlb = next(c for c in out.changes if c.key == "nlb")
    assert nlb.action is Action.FAILED
    assert nlb in out.errors
    assert f"not replacing {before}: scheme:" in (nlb.message or "")
    assert "--allow-replace" in (nlb.message or "")
    assert not any(kind == NLB for _, kind, _ in cloud.calls)
    assert cloud.items[(NLB, "nlb")]["id"] == before


def test_report_holds_a_drifted_scheme_back_and_keeps_the_nlb_serving(cloud):
    """`report` (drift under psctl run): not replaced, NOOP with `held_back` and the reason,
    its outputs still flow; a change without downtime in the same pass is still made."""
    applied(cloud)
    before = cloud.items[(NLB, "nlb")]["id"]
    cloud.items[(NLB, "nlb")]["props"]["scheme"] = "internet-facing"  # drifted
    out = make_engine(cloud, "report").apply(make_stack(port=81))
    nlb = next(c for c in out.changes if c.key == "nlb")
    assert (nlb.action, nlb.held_back) == (Action.NOOP, True)
    assert "left alone" in (nlb.message or "")
    assert "scheme" in (nlb.message or "")
    assert out.outputs["nlb"]["id"] == before
    assert cloud.items[(NLB, "nlb")]["id"] == before
    assert ("update", SG, "sg") in cloud.calls
    assert not any(kind == NLB for _, kind, _ in cloud.calls)


def test_allow_replaces_once_for_a_new_spec(cloud):
    """`allow` (apply --allow-replace, a spec change under psctl run): deleted and created."""
    applied(cloud)
    before = cloud.items[(NLB, "nlb")]["id"]
    out = make_engine(cloud, "allow").apply(make_stack(scheme="internet-facing"))
    nlb = next(c for c in out.changes if c.key == "nlb")
    assert nlb.action is Action.REPLACE
    assert nlb.downtime
    assert cloud.items[(NLB, "nlb")]["id"] != before
    assert cloud.items[(NLB, "nlb")]["props"]["scheme"] == "internet-facing"


def test_a_sweep_deleting_the_rest_api_is_downtime_refused_or_held(cloud):
    """api.type REST -> HTTP: the sweep would delete the REST API (its invoke URL): planned as a
    downtime delete, refused by `refuse`, held back by `report`, deleted by `allow`."""
    applied(cloud)
    plan = make_engine(cloud, "allow").apply(make_stack(api=False), dry_run=True)
    (gone,) = [c for c in plan.changes if c.key == "rest-api"]
    assert gone.action is Action.DELETE
    assert "invoke URL" in (gone.downtime or "")
    assert change_lines(gone)[0].startswith("- delete (downtime: (resource): its invoke URL")
    refused = make_engine(cloud, "refuse").apply(make_stack(api=False))
    assert [c.key for c in refused.errors] == ["rest-api"]
    held = make_engine(cloud, "report").apply(make_stack(api=False))
    (kept,) = [c for c in held.changes if c.key == "rest-api"]
    assert (kept.action, kept.held_back) == (Action.NOOP, True)
    assert (API, "api") in cloud.items
    make_engine(cloud, "allow").apply(make_stack(api=False))
    assert (API, "api") not in cloud.items


def test_a_change_without_downtime_is_not_marked(cloud):
    """An in-place update of a kind with no downtime entry: UPDATE, no `downtime`, made even
    under `refuse`."""
    applied(cloud)
    out = make_engine(cloud, "refuse").apply(make_stack(port=81))
    sg = next(c for c in out.changes if c.key == "nlb-sg")
    assert (sg.action, sg.downtime) == (Action.UPDATE, None)
    assert ("update", SG, "sg") in cloud.calls
