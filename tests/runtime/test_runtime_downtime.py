"""psctl run and changes that cut clients off (issue 14): a settled spec whose NLB scheme drifted
is not replaced (that would give it a new DNS name to undo drift): reported as a high alert,
status Degraded with Drifted naming the field; a spec change seen while running replaces it;
the first pass after a start does not (drift or an edit made while stopped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from controller.handlers.base import Delta, Desired, Handler, Observed
from controller.model.stack import Resource, Stack
from controller.reconcile.engine import Action, Engine
from controller.runtime.step import SpecState, run_pass
from controller.spec.loader import parse_object

EXAMPLE = Path(__file__).parents[2] / "examples" / "orders-rest-nlb.yaml"
OWNER = "shop/orders"
TAGS = {"privateservice.io/owner": OWNER, "privateservice.io/component": "nlb"}


class OneNlb(Handler):
    """An NLB in memory: `scheme` replaces (downtime by the table); records deletes."""

    kind = "elbv2.load_balancer"
    service = "elbv2"
    replace_on = ("scheme",)

    def __init__(self) -> None:  # no AWS client
        self.item: dict[str, Any] | None = None
        self.deleted: list[str] = []
        self.made = 0

    def refresh(self) -> None:
        """Nothing stored."""

    def _obs(self) -> Observed:
        assert self.item is not None
        return Observed("nlb", self.item["id"], dict(self.item["props"]), dict(TAGS))

    def observe(self, want: Desired) -> Observed | None:
        return self._obs() if self.item else None

    def create(self, want: Desired) -> Observed:
        self.made += 1
        self.item = {"id": f"nlb-{self.made}", "props": dict(want.props)}
        return self._obs()

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        raise AssertionError("scheme is never updated in place")

    def delete(self, have: Observed) -> None:
        self.deleted.append(have.id)
        self.item = None


class FakeReconciler:
    """What run_pass uses of a Reconciler: an engine, a stack, a region."""

    def __init__(self, handler: OneNlb, scheme: str) -> None:
        self.engine = Engine({OneNlb.kind: handler})
        self.scheme = scheme
        self.last_stack: Stack | None = None
        self.aws = type("Aws", (), {"region": "us-east-1"})()

    def stack(self) -> Stack:
        stack = Stack(owner=OWNER, tags={})
        stack.add(
            Resource(
                "nlb",
                OneNlb.kind,
                "nlb",
                {"name": "nlb", "scheme": self.scheme},
                {"scheme": "loadBalancer.scheme"},
            )
        )
        self.last_stack = stack
        return stack


def _state(handler: OneNlb, *, converged: str | None) -> SpecState:
    """The spec at generation g2, last converged at `converged` (None: not since the start)."""
    loaded = parse_object(yaml.safe_load(EXAMPLE.read_text()), "<test>")
    assert loaded.spec is not None
    state = SpecState(spec=loaded.spec, fingerprint="g2", origin="test")
    state.converged = converged
    state.reconciler = FakeReconciler(handler, "internal")  # type: ignore[assignment]
    return state


def _drifted() -> OneNlb:
    handler = OneNlb()
    handler.item = {"id": "nlb-0", "props": {"name": "nlb", "scheme": "internet-facing"}}
    return handler


def test_a_drifted_scheme_under_run_is_reported_high_and_left_alone() -> None:
    """Settled spec (Correct mode), NLB scheme differs: nothing deleted or created; one high
    `reported` alert on `scheme`; status Degraded, Drifted True naming nlb.scheme."""
    handler = _drifted()
    state = _state(handler, converged="g2")
    report = run_pass(state, None, set(), 0.2)  # type: ignore[arg-type]
    assert handler.deleted == []
    assert handler.made == 0
    assert report.outcome is not None
    (nlb,) = report.outcome.changes
    assert (nlb.action, nlb.held_back) == (Action.NOOP, True)
    (alert,) = [a for a in report.alerts if a.field == "scheme"]
    assert (alert.severity, alert.action) == ("high", "reported")
    assert "left alone" in alert.message
    assert state.status["phase"] == "Degraded"
    drifted = next(c for c in state.status["conditions"] if c["type"] == "Drifted")
    assert drifted["status"] == "True"
    assert "scheme" in drifted["message"]


def test_a_new_spec_generation_replaces_it() -> None:
    """The same difference while the spec has not converged since it changed: a spec change,
    so the NLB is replaced (deleted, then created with the spec's scheme)."""
    handler = _drifted()
    state = _state(handler, converged="g1")
    report = run_pass(state, None, set(), 0.2)  # type: ignore[arg-type]
    assert report.outcome is not None
    (nlb,) = report.outcome.changes
    assert nlb.action is Action.REPLACE
    assert nlb.downtime
    assert handler.deleted == ["nlb-0"]
    assert handler.item is not None
    assert handler.item["props"]["scheme"] == "internal"


def test_the_first_pass_after_a_start_does_not_replace_it() -> None:
    """No convergence seen since the controller started: drift and an edit made while it was
    stopped look the same, so the NLB is left alone and reported, as for drift."""
    handler = _drifted()
    state = _state(handler, converged=None)
    report = run_pass(state, None, set(), 0.2)  # type: ignore[arg-type]
    assert handler.deleted == []
    assert handler.made == 0
    assert [a.severity for a in report.alerts if a.field == "scheme"] == ["high"]
    assert state.status["phase"] == "Degraded"
