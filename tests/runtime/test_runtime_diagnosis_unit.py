"""The controller's doctor without AWS: which target health is sick, when to probe and to
diagnose (throttled), the Diagnosed condition and diagnosis field, one run at a time, and the
Events and status written back (leader only)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from harness import orders_doc

from controller.runtime import diagnosis
from controller.runtime.diagnosis import Diagnoser, Record, after_probe, condition, decide, sick
from controller.runtime.step import SpecState
from controller.spec.loader import parse_object

OWNER = "shop/orders"
TG = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/ps-shop-orders-tg/1"


def _th(*states: str) -> list[dict[str, Any]]:
    return [
        {"Target": {"Id": f"10.0.0.{i}"}, "TargetHealth": {"State": s}}
        for i, s in enumerate(states)
    ]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (("healthy", "healthy"), False),
        (("healthy", "unhealthy"), True),
        (("unavailable",), True),
        (("initial", "initial"), False),  # a deploy under way
        (("draining", "healthy"), False),
        ((), True),  # nothing registered
        (("unused",), True),  # registered but not in service
    ],
)
def test_sick_target_health(states: tuple[str, ...], expected: bool) -> None:
    """Unhealthy or unavailable targets, or none in service, are sick; initial and draining
    alone are not."""
    assert sick(_th(*states)) is expected


def test_decide_probes_ready_specs_when_due_and_diagnoses_degraded_ones_throttled() -> None:
    """Ready: probe every `probe_seconds`, never diagnose directly; Degraded: diagnose unless
    diagnosed within `doctor_seconds`; other phases: nothing."""
    rec = Record()
    kw = {"probe_seconds": 120.0, "doctor_seconds": 300.0}
    assert decide("Ready", rec, 1000.0, **kw) == (True, None)
    rec.probed_at = 950.0
    assert decide("Ready", rec, 1000.0, **kw) == (False, None)
    assert decide("Ready", rec, 1070.0, **kw) == (True, None)
    assert decide("Degraded", rec, 1000.0, **kw) == (False, "degraded")
    rec.ran_at = 800.0
    assert decide("Degraded", rec, 1000.0, **kw) == (False, None)
    assert decide("Degraded", rec, 1100.0, **kw) == (False, "degraded")
    for phase in ("Provisioning", "Pending", "Failed", "Deleting", None):
        assert decide(phase, Record(), 1000.0, **kw) == (False, None)


def test_after_probe_diagnoses_sick_targets_and_recoveries_at_most_every_five_minutes() -> None:
    """Sick targets: diagnose (not again within 300 s); healthy again after a diagnosis of sick
    targets with errors: diagnose once more to clear it; an error found otherwise (Degraded, a
    recovery, a request) with healthy targets, or nothing found: no call."""
    rec = Record()
    assert after_probe(True, rec, 1000.0, 300.0) == "unhealthy-targets"
    assert after_probe(False, rec, 1000.0, 300.0) is None
    rec.ran_at = 1000.0
    rec.condition = {"status": "True"}
    rec.doc = {"trigger": "unhealthy-targets"}
    assert after_probe(True, rec, 1299.0, 300.0) is None
    assert after_probe(False, rec, 1299.0, 300.0) is None
    assert after_probe(False, rec, 1300.0, 300.0) == "recovered"
    for trigger in ("recovered", "degraded", "requested"):
        rec.doc = {"trigger": trigger}
        assert after_probe(False, rec, 1300.0, 300.0) is None
        assert after_probe(True, rec, 1300.0, 300.0) == "unhealthy-targets"


def _finding(code: str, severity: str = "error") -> dict[str, Any]:
    return {
        "code": code,
        "severity": severity,
        "hop": "tasks",
        "resource": "sg-1",
        "message": f"{code} message",
        "why": "why",
        "fix": f"fix for {code}",
    }


def _doc(*findings: dict[str, Any], at: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"at": at, "trigger": "unhealthy-targets", "findings": list(findings), "hops": []}


def test_condition_names_the_cause_before_its_symptom_and_keeps_its_transition_time() -> None:
    """True with the first cause's code and fix (no-healthy-targets only when alone); False
    NoErrors with warnings only; Unknown when unreadable; the time kept while the status is."""
    doc = _doc(_finding("no-healthy-targets"), _finding("health-check-blocked"))
    cond = condition(doc, None)
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "Diagnosed",
        "True",
        "health-check-blocked",
        "fix for health-check-blocked",
    )
    assert condition(_doc(_finding("no-healthy-targets")), None)["reason"] == "no-healthy-targets"
    later = condition(_doc(_finding("traffic-blocked"), at="2026-01-02T00:00:00Z"), cond)
    assert later["lastTransitionTime"] == cond["lastTransitionTime"]
    clean = condition(_doc(_finding("stage-stale", "warning"), at="2026-01-03T00:00:00Z"), later)
    assert (clean["status"], clean["reason"]) == ("False", "NoErrors")
    assert "1 warning" in clean["message"]
    assert clean["lastTransitionTime"] == "2026-01-03T00:00:00Z"
    gone = condition({"at": "t", "trigger": "requested", "error": "shop/orders: no nlb"}, clean)
    assert (gone["status"], gone["reason"], gone["message"]) == (
        "Unknown",
        "Unreadable",
        "shop/orders: no nlb",
    )


class FakeFeedback:
    """Records what the diagnoser writes back."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.reports: list[dict[str, Any]] = []
        self.events: list[tuple[str, str, str]] = []

    async def prepare(self, owner: str) -> bool:
        return True

    async def report(self, owner: str, status: Mapping[str, Any]) -> None:
        self.reports.append(dict(status))

    async def report_invalid(self, owner: str, problems: Sequence[str]) -> None:
        raise AssertionError("not used")

    async def event(self, owner: str, kind: Any, reason: str, message: str) -> None:
        self.events.append((kind, reason, message))

    async def release(self, owner: str) -> None:
        raise AssertionError("not used")


def _state(phase: str = "Ready") -> SpecState:
    loaded = parse_object(orders_doc(), "mem")
    assert loaded.spec is not None
    state = SpecState(loaded.spec, "fp-1", "mem")
    state.status = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True"}],
        "resources": {"target-group": TG, "nlb": "arn:nlb"},
    }
    return state


class Fakes:
    """`probe` and `diagnose` replaced: what they were asked, how many ran at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, sick: bool) -> None:
        self.sick = sick
        self.probed: list[list[str]] = []
        self.triggers: list[str] = []
        self.running = 0
        self.most = 0
        self.gate = threading.Event()
        self.gate.set()
        self.findings = [_finding("no-healthy-targets"), _finding("health-check-blocked")]
        monkeypatch.setattr(diagnosis, "probe", self.probe)
        monkeypatch.setattr(diagnosis, "diagnose", self.diagnose)

    def probe(self, aws: Any, arns: list[str]) -> bool:
        self.probed.append(arns)
        return self.sick

    def diagnose(self, ps: Any, aws: Any, trigger: str) -> dict[str, Any]:
        self.running += 1
        self.most = max(self.most, self.running)
        self.gate.wait(10)
        self.running -= 1
        self.triggers.append(trigger)
        return _doc(*self.findings) | {"trigger": trigger}


async def _settle(d: Diagnoser) -> None:
    tasks = [r.task for r in d.records.values() if r.task is not None]
    await asyncio.gather(*tasks)


async def test_sick_targets_are_diagnosed_once_then_throttled_with_status_and_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A probe of the spec's target group finds it sick: one diagnosis, the status decorated
    and written, one Warning Event per error finding; the next passes probe again (probe every
    pass here) but do not diagnose within five minutes."""
    fakes = Fakes(monkeypatch, sick=True)
    state, feedback = _state(), FakeFeedback()
    d = Diagnoser(None, {OWNER: state}, lambda: feedback, lambda: True, probe_seconds=0)  # type: ignore[arg-type]
    d.after_pass(OWNER, state, deleting=False)
    await _settle(d)
    assert fakes.probed == [[TG]]
    assert fakes.triggers == ["unhealthy-targets"]
    cond = [c for c in state.status["conditions"] if c["type"] == "Diagnosed"]
    assert cond[0]["reason"] == "health-check-blocked"
    assert state.status["diagnosis"]["findings"] == fakes.findings
    assert feedback.reports[-1]["diagnosis"] == state.status["diagnosis"]
    assert [(k, r) for k, r, _ in feedback.events] == [("Warning", "Diagnosed")] * 2
    assert "Fix: fix for health-check-blocked" in feedback.events[1][2]
    for _ in range(3):
        state.status = _state().status  # the next pass computes a fresh status
        d.after_pass(OWNER, state, deleting=False)
        assert state.status["diagnosis"]["trigger"] == "unhealthy-targets"  # kept on it
        await _settle(d)
    assert len(fakes.probed) == 4
    assert fakes.triggers == ["unhealthy-targets"]
    assert len(feedback.events) == 2


async def test_a_request_waits_for_the_running_diagnosis_and_is_never_concurrent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Degraded spec is being diagnosed when /doctor asks: the request waits for it, then
    runs its own (not throttled), never two at once for the spec; unknown spec: 404."""
    fakes = Fakes(monkeypatch, sick=False)
    fakes.gate.clear()
    state = _state("Degraded")
    d = Diagnoser(None, {OWNER: state}, lambda: None, lambda: True)  # type: ignore[arg-type]
    d.after_pass(OWNER, state, deleting=False)
    asked = asyncio.create_task(d.request(OWNER))
    await asyncio.sleep(0.05)
    d.after_pass(OWNER, state, deleting=False)  # busy: starts nothing
    assert not asked.done()
    fakes.gate.set()
    code, body = await asked
    assert code == 200
    assert body["condition"]["reason"] == "health-check-blocked"
    assert body["diagnosis"]["trigger"] == "requested"
    assert fakes.triggers == ["degraded", "requested"]
    assert fakes.most == 1
    assert fakes.probed == []  # Degraded: no probe needed
    assert await d.request("shop/other") == (
        404,
        {"error": "no spec shop/other in this controller"},
    )


async def test_recovery_clears_the_condition_and_a_new_spec_version_drops_the_diagnosis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Healthy again after errors: diagnosed once more (after the throttle), Diagnosed False and
    a DiagnosisClear Event; a standby writes nothing; a changed spec loses the old diagnosis."""
    fakes = Fakes(monkeypatch, sick=True)
    state, feedback = _state(), FakeFeedback()
    leader = [True]
    d = Diagnoser(
        None,  # type: ignore[arg-type]
        {OWNER: state},
        lambda: feedback,
        lambda: leader[0],
        probe_seconds=0,
        doctor_seconds=0,
    )
    d.after_pass(OWNER, state, deleting=False)
    await _settle(d)
    fakes.sick, fakes.findings = False, []
    d.after_pass(OWNER, state, deleting=False)
    await _settle(d)
    assert fakes.triggers == ["unhealthy-targets", "recovered"]
    (cond,) = [c for c in state.status["conditions"] if c["type"] == "Diagnosed"]
    assert (cond["status"], cond["reason"]) == ("False", "NoErrors")
    assert feedback.events[-1][:2] == ("Normal", "DiagnosisClear")
    leader[0] = False
    writes = len(feedback.reports)
    await d.request(OWNER)
    assert len(feedback.reports) == writes
    state.fingerprint = "fp-2"
    assert "diagnosis" not in d.decorate(OWNER, {"phase": "Ready", "conditions": []})
    d.after_pass(OWNER, state, deleting=True)
    assert OWNER not in d.records
