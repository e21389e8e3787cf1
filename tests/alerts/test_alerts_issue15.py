"""Alert severities and text a new user reads (issue 15, item 8): a removed usage-plan key
association is high, a drift corrected while Provisioning still alerts when it is a security
one, and the webhook text does not repeat the component."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from controller.alerts.model import drift_alert
from controller.handlers.base import Delta
from controller.reconcile.engine import Action, Change, Outcome
from controller.runtime.step import SpecState, run_pass
from controller.spec.loader import parse_object

OPEN = {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidr": "0.0.0.0/0"}
VPC = {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidr": "10.0.0.0/16"}


def test_a_removed_usage_plan_key_association_is_high():
    """Every call with that key gets 403 until the association is back: an outage."""
    alert = drift_alert(
        "shop/orders",
        "usage-plan-key",
        "plan1/key1",
        "(resource)",
        "present",
        "absent",
        "corrected",
        message="usage-plan-key/standard/partner-a",
    )
    assert alert.severity == "high"
    assert alert.text().endswith("; usage-plan-key/standard/partner-a")  # which key: kept


def test_text_does_not_repeat_the_component():
    """The resource key equal to the component is not appended ("...: corrected; target-group")."""
    alert = drift_alert(
        "shop/orders",
        "target-group",
        "arn:tg",
        "healthCheck.path",
        "/healthz",
        "/",
        "corrected",
        message="target-group",
    )
    assert alert.text() == (
        '[medium] shop/orders target-group arn:tg: healthCheck.path drifted (expected "/healthz",'
        ' found "/"): corrected'
    )


def _state(outcome: Outcome) -> SpecState:
    """A spec never converged (Provisioning) whose pass returns `outcome`."""
    loaded = parse_object(
        {
            "apiVersion": "privateservice.io/v1alpha1",
            "kind": "PrivateService",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {
                "network": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a"]},
                "container": {"image": "nginx", "port": 8080},
                "service": {"cluster": "shop"},
            },
        },
        "<test>",
    )
    assert loaded.spec is not None
    engine: Any = SimpleNamespace(ignored_props=set(), apply=lambda *_, **__: outcome)
    reconciler: Any = SimpleNamespace(
        engine=engine, stack=lambda: None, last_stack=None, aws=SimpleNamespace(region="x")
    )
    return SpecState(loaded.spec, "fp", "<test>", reconciler=reconciler)


def test_an_opened_group_corrected_while_provisioning_alerts():
    """Ingress opened to 0.0.0.0/0 and put back by a pass of a spec still Provisioning: one
    high alert (it raised none); an update of a spec being provisioned raises nothing."""
    opened = Change(
        "task-sg",
        "ec2.security_group",
        "task-sg",
        Action.UPDATE,
        [Delta("ingress", [VPC], [VPC, OPEN])],
        id="sg-1",
    )
    ordinary = Change(
        "target-group",
        "elbv2.target_group",
        "target-group",
        Action.UPDATE,
        [Delta("healthCheck.path", "/healthz", "/")],
        id="arn:tg",
    )
    created = Change("nlb", "elbv2.load_balancer", "nlb", Action.CREATE)
    state = _state(Outcome(changes=[opened, ordinary, created]))
    aws: Any = SimpleNamespace(region="x")
    report = run_pass(state, aws, set(), 1.0)
    (alert,) = report.alerts
    assert (alert.component, alert.field, alert.severity, alert.action) == (
        "task-sg",
        "ingress",
        "high",
        "corrected",
    )
