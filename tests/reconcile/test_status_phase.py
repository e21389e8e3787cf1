"""The status phase and its conditions agree (issue 15, item 7): Ready is True only in phase
Ready, Degraded only in phase Degraded, and a shared resource alone is not Provisioning."""

from __future__ import annotations

from typing import Any

import pytest

from controller.handlers.base import Delta
from controller.reconcile import status
from controller.reconcile.engine import Action, Change, Outcome
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService

DOC: dict[str, Any] = {
    "apiVersion": "privateservice.io/v1alpha1",
    "kind": "PrivateService",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {
        "network": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a"]},
        "container": {"image": "nginx", "port": 8080},
        "service": {"cluster": "shop"},
    },
}


def _ps() -> PrivateService:
    loaded = parse_object(DOC, "<test>")
    assert loaded.spec is not None
    return loaded.spec


def _noop(key: str, kind: str) -> Change:
    return Change(key, kind, key, Action.NOOP, id=f"{key}-id")


BASE = [_noop("cluster", "ecs.cluster"), _noop("nlb", "elbv2.load_balancer")]


def _outcome(*changes: Change, outputs: dict[str, dict[str, Any]] | None = None) -> Outcome:
    return Outcome(changes=list(changes), outputs=outputs or {})


CASES = [
    pytest.param(_outcome(*BASE), "Ready", id="ready"),
    pytest.param(
        _outcome(*BASE, outputs={"authorizer": {"runtimeWarning": "nodejs12.x is deprecated"}}),
        "Ready",  # the function keeps working (field report 002): a warning, not Degraded
        id="deprecated-runtime",
    ),
    pytest.param(
        _outcome(
            BASE[0],
            Change(
                "nlb",
                "elbv2.load_balancer",
                "nlb",
                Action.UPDATE,
                [Delta("crossZone", True, False)],
                id="nlb-id",
            ),
        ),
        "Degraded",
        id="drifted",
    ),
    pytest.param(
        _outcome(
            *BASE, Change("ecs-service", "ecs.service", "svc", Action.WAIT, message="0 running")
        ),
        "Provisioning",
        id="tasks-starting",
    ),
    pytest.param(
        _outcome(BASE[0], Change("nlb", "elbv2.load_balancer", "nlb", Action.CREATE)),
        "Pending",
        id="only-the-shared-cluster-exists",
    ),
]


@pytest.mark.parametrize(("outcome", "phase"), CASES)
def test_phase_and_conditions_agree(outcome: Outcome, phase: str) -> None:
    """Ready=True exactly in phase Ready, Degraded=True exactly in phase Degraded."""
    st = status.compute(_ps(), outcome, "us-east-1")
    conditions = {c["type"]: c for c in st["conditions"]}
    assert st["phase"] == phase
    assert (conditions["Ready"]["status"] == "True") is (phase == "Ready")
    assert (conditions["Degraded"]["status"] == "True") is (phase == "Degraded")
    if phase == "Degraded":
        assert conditions["Degraded"]["reason"] == "FieldsDiffer"
        assert conditions["Degraded"]["message"]


def test_a_deprecated_authorizer_runtime_is_a_warning_of_ready() -> None:
    """The runtime warning shows in the Ready condition's message; Degraded stays False."""
    outcome = _outcome(*BASE, outputs={"authorizer": {"runtimeWarning": "nodejs12.x is old"}})
    conditions = {c["type"]: c for c in status.compute(_ps(), outcome, "")["conditions"]}
    assert conditions["Ready"]["message"].endswith("warning: authorizer: nodejs12.x is old")
    assert conditions["Degraded"]["status"] == "False"


def test_a_deleted_spec_with_only_a_virtual_step_left_is_pending() -> None:
    """After a delete, the old-listeners step (nothing of its own in AWS, always observed) and
    a shared cluster are all a status pass finds: nothing of the service exists, Pending."""
    outcome = Outcome(
        changes=[_noop("cluster", "ecs.cluster"), _noop("old-listeners", "elbv2.old_listeners")]
    )
    assert status.compute(_ps(), outcome, "us-east-1")["phase"] == "Pending"
