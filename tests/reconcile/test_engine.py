"""The engine's rules, against an in-memory cloud: order, ownership, waits, dry runs, sweeps."""

from collections.abc import Callable

import pytest
from fakes import Cloud, FakeHandler, temporary

from controller.aws import tags as ownership
from controller.errors import PermanentError
from controller.model.stack import Ref, Resource, Stack
from controller.reconcile import engine as engine_module
from controller.reconcile.engine import Action, Engine

OWNER = "shop/orders"


def make_stack(*, with_key: bool = True, port: int = 80) -> Stack:
    """sg <- lb <- listener; cluster (shared); an optional api key."""
    stack = Stack(owner=OWNER, tags={"team": "shop"})
    stack.add(Resource("cluster", "cluster", "ecs-cluster", {"name": "shop"}))
    stack.add(
        Resource(
            "sg",
            "sg",
            "nlb-sg",
            {"name": "sg", "port": port},
            spec_paths={"port": "loadBalancer.listener.port"},
        )
    )
    stack.add(Resource("lb", "lb", "nlb", {"name": "lb", "sg": Ref("sg"), "scheme": "internal"}))
    stack.add(
        Resource(
            "listener",
            "listener",
            "listener",
            {"name": "listener", "lb": Ref("lb", "arn"), "cluster": Ref("cluster")},
        )
    )
    if with_key:
        stack.add(Resource("api-key/a", "key", "api-key", {"name": "key-a"}))
    return stack


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


@pytest.fixture
def engine(cloud: Cloud) -> Callable[..., Engine]:
    def make(**kw: object) -> Engine:
        handlers = {
            "cluster": FakeHandler("cluster", cloud, shared=True),
            "sg": FakeHandler("sg", cloud),
            "lb": FakeHandler("lb", cloud, replace_on=("scheme",)),
            "listener": FakeHandler("listener", cloud),
            "key": FakeHandler("key", cloud),
        }
        return Engine(handlers, **kw)  # type: ignore[arg-type]

    return make


def test_apply_creates_in_dependency_order_then_converges(cloud, engine):
    """First pass creates everything, producers before consumers; the second changes nothing."""
    out = engine().apply(make_stack())
    order = [name for _, _, name in cloud.calls]
    assert order.index("sg") < order.index("lb") < order.index("listener")
    assert {c.action for c in out.changes} == {Action.CREATE}
    lb = cloud.items[("listener", "listener")]["props"]["lb"]
    assert lb == f"arn:{cloud.items[('lb', 'lb')]['id']}"
    assert cloud.items[("sg", "sg")]["tags"] == {
        "team": "shop",
        ownership.OWNER: OWNER,
        ownership.COMPONENT: "nlb-sg",
    }
    cloud.calls.clear()
    again = engine().apply(make_stack())
    assert again.converged
    assert cloud.calls == []


def test_a_resource_at_our_name_without_our_tag_is_never_touched(cloud, engine):
    """Conflict: not updated, not deleted; what depends on it waits; the rest goes on."""
    cloud.items[("lb", "lb")] = {
        "id": "theirs",
        "props": {"name": "lb", "scheme": "x"},
        "tags": {"owner": "someone"},
        "key": "lb",
    }
    out = engine().apply(make_stack())
    by_key = {c.key: c for c in out.changes}
    assert by_key["lb"].action is Action.CONFLICT
    assert "not touched" in (by_key["lb"].message or "")
    assert by_key["listener"].action is Action.BLOCKED
    assert by_key["sg"].action is Action.CREATE
    assert cloud.items[("lb", "lb")]["props"] == {"name": "lb", "scheme": "x"}
    assert not any(name == "lb" for _, _, name in cloud.calls)
    assert not out.converged


def test_a_shared_resource_we_do_not_own_is_used_as_it_is(cloud, engine):
    """An existing cluster without our tag: no conflict, no change, its outputs flow on."""
    cloud.items[("cluster", "shop")] = {
        "id": "c-1",
        "props": {"name": "shop"},
        "tags": {},
        "key": "cluster",
    }
    engine().apply(make_stack())
    assert ("create", "cluster", "shop") not in cloud.calls
    assert cloud.items[("listener", "listener")]["props"]["cluster"] == "c-1"


def test_a_provisioning_resource_requeues_and_holds_its_dependents(cloud, engine):
    """Pending: a WAIT with a requeue delay, never a sleep; dependents are BLOCKED this pass."""
    cloud.pending.add("lb")
    out = engine().apply(make_stack())
    by_key = {c.key: c for c in out.changes}
    assert by_key["lb"].action is Action.CREATE
    assert by_key["lb"].message == "provisioning"
    assert by_key["listener"].action is Action.BLOCKED
    assert out.requeue_after == 5.0
    cloud.pending.clear()
    assert {c.key: c.action for c in engine().apply(make_stack()).changes}[
        "listener"
    ] is Action.CREATE


def test_a_wait_asks_for_fresh_reads_of_that_kind_only(cloud, engine):
    """A provisioning resource must be seen progressing: the engine drops the stored reads of
    its kind's service (Handler.refresh), and of no kind that is steady."""
    cloud.pending.add("lb")
    eng = engine()
    eng.apply(make_stack())
    assert eng.handlers["lb"].refreshes == 1
    assert eng.handlers["sg"].refreshes == 0
    cloud.pending.clear()
    eng.apply(make_stack())
    assert eng.handlers["lb"].refreshes == 1


@pytest.mark.parametrize(
    ("error", "action", "delay"),
    [
        pytest.param(temporary("throttled", 7.0), Action.WAIT, 7.0, id="temporary->wait"),
        pytest.param(PermanentError("bad"), Action.FAILED, None, id="permanent->failed"),
    ],
)
def test_errors_become_waits_or_failures(cloud, engine, error, action, delay):
    """A temporary error requeues after its delay; a permanent one fails that resource only."""
    cloud.fail_create["lb"] = error
    out = engine().apply(make_stack())
    by_key = {c.key: c for c in out.changes}
    assert by_key["lb"].action is action
    assert by_key["listener"].action is Action.BLOCKED
    assert out.requeue_after == delay


def test_dry_run_reads_only_and_shows_dependents_as_creates(cloud, engine):
    """Plan: no mutating call; a resource whose producer is new is a create."""
    out = engine().apply(make_stack(), dry_run=True)
    assert cloud.calls == []
    assert {c.action for c in out.changes} == {Action.CREATE}
    assert out.mutated
    assert not out.converged


def test_update_replace_and_ignored_fields(cloud, engine):
    """A mutable change updates; an immutable one replaces; an ignored spec path is left alone."""
    engine().apply(make_stack())
    cloud.calls.clear()
    stack = make_stack(port=81)
    stack.resources["lb"] = Resource(
        "lb", "lb", "nlb", {"name": "lb", "sg": Ref("sg"), "scheme": "internet-facing"}
    )
    out = engine().apply(stack)
    by_key = {c.key: c for c in out.changes}
    assert by_key["sg"].action is Action.UPDATE
    assert [(d.path, d.desired, d.actual) for d in by_key["sg"].deltas] == [("port", 81, 80)]
    assert by_key["lb"].action is Action.REPLACE
    assert ("delete", "lb", "lb") in cloud.calls
    assert ("create", "lb", "lb") in cloud.calls
    cloud.calls.clear()
    out = engine(ignore_fields=["loadBalancer.listener"]).apply(make_stack(port=99))
    assert ("update", "sg", "sg") not in cloud.calls


def _internet_facing(stack: Stack) -> Stack:
    stack.resources["lb"] = Resource(
        "lb", "lb", "nlb", {"name": "lb", "sg": Ref("sg"), "scheme": "internet-facing"}
    )
    return stack


def test_a_field_that_never_reads_back_is_replaced_once_not_in_a_loop(cloud, engine):
    """Issue 14's guard: the load balancer is replaced, its scheme reads back as before, and
    the next pass refuses a second replacement (FAILED, `replace_loop`, the field named) instead
    of destroying it again; after REPLACE_GUARD_SECONDS, or with a new engine (a new spec
    generation), one more replacement is allowed."""
    engine().apply(make_stack())
    eng = engine()
    now = [1000.0]
    eng.clock = lambda: now[0]
    assert {c.key: c.action for c in eng.apply(_internet_facing(make_stack())).changes}[
        "lb"
    ] is Action.REPLACE
    cloud.items[("lb", "lb")]["props"]["scheme"] = "x"  # reads back as it was
    cloud.calls.clear()
    now[0] += 30
    lb = {c.key: c for c in eng.apply(_internet_facing(make_stack())).changes}["lb"]
    assert lb.action is Action.FAILED
    assert lb.replace_loop
    assert "scheme (wrote 'internet-facing', reads back 'x')" in (lb.message or "")
    assert not any(name == "lb" for _, _, name in cloud.calls)
    now[0] += engine_module.REPLACE_GUARD_SECONDS
    assert {c.key: c.action for c in eng.apply(_internet_facing(make_stack())).changes}[
        "lb"
    ] is Action.REPLACE
    cloud.items[("lb", "lb")]["props"]["scheme"] = "x"
    assert {c.key: c.action for c in engine().apply(_internet_facing(make_stack())).changes}[
        "lb"
    ] is Action.REPLACE


def test_sweep_deletes_owned_orphans_only(cloud, engine):
    """An owned resource the stack no longer wants goes; someone else's stays."""
    engine().apply(make_stack())
    cloud.items[("key", "theirs")] = {
        "id": "k-9",
        "props": {"name": "theirs"},
        "tags": {ownership.OWNER: "other/svc"},
        "key": "api-key/x",
    }
    cloud.calls.clear()
    out = engine().apply(make_stack(with_key=False))
    assert cloud.calls == [("delete", "key", "key-a")]
    assert ("key", "theirs") in cloud.items
    assert [c.action for c in out.changes if c.key == "api-key/a"] == [Action.DELETE]


@pytest.mark.parametrize(
    "retain", [pytest.param(False, id="Delete"), pytest.param(True, id="Retain")]
)
def test_delete_walks_backwards_or_retains(cloud, engine, retain):
    """Delete removes consumers before producers; Retain keeps everything and says so."""
    engine().apply(make_stack())
    cloud.items[("sg", "foreign")] = {
        "id": "x",
        "props": {"name": "foreign"},
        "tags": {},
        "key": "f",
    }
    cloud.calls.clear()
    out = engine().delete(make_stack(), retain=retain)
    if retain:
        assert cloud.calls == []
        assert {c.action for c in out.changes} == {Action.RETAIN}
        return
    order = [name for verb, _, name in cloud.calls if verb == "delete"]
    assert order.index("listener") < order.index("lb") < order.index("sg")
    assert ("sg", "foreign") in cloud.items
    assert [k for k in cloud.items if k[1] != "foreign"] == []


@pytest.mark.parametrize(
    ("desired", "actual", "paths"),
    [
        pytest.param(
            {"a": 1, "b": {"c": 2}},
            {"a": 1, "b": {"c": 2}, "x": 9},
            [],
            id="equal: extra actual fields are not ours",
        ),
        pytest.param({"b": {"c": 2}}, {"b": {"c": 3}}, ["b.c"], id="nested leaf differs"),
        pytest.param(
            {"t": None}, {"t": {"rate": 5}}, ["t"], id="None wanted, a mapping held: remove it"
        ),
        pytest.param({"t": None}, {"t": None}, [], id="None both sides"),
        pytest.param({"t": {"rate": 5}}, {"t": None}, ["t.rate"], id="a mapping wanted, None held"),
        pytest.param(
            {"l": [1, 2]}, {"l": [2, 1]}, ["l"], id="lists are leaves: handlers normalise order"
        ),
    ],
)
def test_diff_props(desired, actual, paths):
    """Field-level deltas by dotted path."""
    from controller.handlers.base import diff_props

    assert [d.path for d in diff_props(desired, actual)] == paths
