"""Tests of `controller.alerts.model`: severity rules, the JSON form, clipping and redaction."""

from __future__ import annotations

import json
import re

import pytest

from controller.alerts import Alert, contested_alert, drift_alert, severity_for
from controller.alerts.model import MAX_VALUE_CHARS, REDACTED

OPEN_RULE = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidr": "0.0.0.0/0"}
VPC_RULE = {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidr": "10.0.0.0/16"}


def _alert(**overrides) -> Alert:
    values = {
        "kind": "drift",
        "service": "shop/orders",
        "component": "target-group",
        "resource": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1",
        "field": "healthCheck.path",
        "expected": "/healthz",
        "actual": "/",
        "action": "corrected",
        "severity": "medium",
        "time": "2024-05-01T12:00:00Z",
    }
    return Alert(**(values | overrides))


@pytest.mark.parametrize(
    ("component", "field", "expected", "actual", "severity"),
    [
        pytest.param(
            "task-sg", "ingress", [VPC_RULE], [OPEN_RULE, VPC_RULE], "high", id="sg-opened-ipv4"
        ),
        pytest.param(
            "listener",
            "(extra listener)",
            "absent",
            "TCP 8443 arn:...",
            "high",
            id="a listener someone added to our NLB: a new way in",
        ),
        pytest.param(
            "nlb-sg",
            "ingress",
            [VPC_RULE],
            [VPC_RULE, {**OPEN_RULE, "cidr": None, "cidrv6": "::/0"}],
            "high",
            id="sg-opened-ipv6",
        ),
        pytest.param(
            "nlb-sg",
            "ingress",
            [OPEN_RULE],
            [],
            "medium",
            id="spec-asked-for-open-rule-that-was-removed",
        ),
        pytest.param(
            "task-sg", "ingress", [VPC_RULE], [], "medium", id="sg-rule-removed-is-not-an-opening"
        ),
        pytest.param("task-sg", "egress", [], ["0.0.0.0/0"], "medium", id="open-egress-is-medium"),
        pytest.param("nlb", "(resource)", "present", None, "high", id="nlb-deleted"),
        pytest.param("listener", "(resource)", "present", None, "high", id="listener-deleted"),
        pytest.param("task-sg", "(resource)", "present", None, "high", id="task-sg-deleted"),
        pytest.param("nlb-sg", "(resource)", "present", None, "high", id="nlb-sg-deleted"),
        pytest.param("log-group", "(resource)", "present", None, "medium", id="log-group-deleted"),
        pytest.param("target-group", "healthCheck.path", "/healthz", "/", "medium", id="field"),
        pytest.param("nlb", "tags", {"team": "a"}, {}, "low", id="tags"),
        pytest.param("nlb", "tags.team", "a", "b", "low", id="one-tag"),
    ],
)
def test_severity_rules(component, field, expected, actual, severity):
    """An ingress newly open to the internet or a deleted critical resource is high; tags low."""
    assert severity_for(component, field, expected, actual) == severity


def test_to_json_has_every_field_and_a_readable_text():
    """The JSON form carries every field in camelCase and a one-line human summary."""
    alert = _alert(
        component="task-sg",
        resource="sg-123",
        field="ingress",
        expected=[VPC_RULE],
        actual=[OPEN_RULE, VPC_RULE],
        severity="high",
    )
    doc = alert.to_json()
    assert set(doc) == {
        "kind",
        "service",
        "component",
        "resource",
        "field",
        "expected",
        "actual",
        "action",
        "severity",
        "time",
        "count",
        "message",
        "text",
    }
    assert doc["expected"] == [VPC_RULE]
    assert doc["count"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["time"])
    assert doc["text"].startswith("[high] shop/orders task-sg sg-123: ingress drifted (expected ")
    assert doc["text"].endswith(": corrected")
    assert "0.0.0.0/0" in doc["text"]
    assert "\n" not in doc["text"]
    json.dumps(doc)  # serialisable as it is


def test_text_of_a_simple_drift_and_of_a_follow_up():
    """The text reads as a sentence, and a follow-up says how many times it happened."""
    assert _alert().text() == (
        "[medium] shop/orders target-group "
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1: "
        'healthCheck.path drifted (expected "/healthz", found "/"): corrected'
    )
    assert _alert(count=3, action="reported").text().endswith(": reported (3 times)")


def test_long_values_are_clipped_to_500_characters():
    """A long value is sent as a clipped string; the text quotes even less of it."""
    long = [f"10.0.{i}.0/24" for i in range(200)]
    doc = _alert(expected="x" * 2000, actual=long).to_json()
    assert len(doc["expected"]) == MAX_VALUE_CHARS
    assert doc["expected"].endswith("…")
    assert isinstance(doc["actual"], str)
    assert len(doc["actual"]) == MAX_VALUE_CHARS
    assert len(doc["text"]) < 400


def test_values_are_made_json_safe():
    """Values that JSON cannot hold (sets, objects) are sent as strings instead of failing."""
    doc = _alert(expected={"a": {1}}, actual=object()).to_json()
    json.dumps(doc)


@pytest.mark.parametrize(
    "field",
    [
        pytest.param("container.secrets.DB_PASSWORD", id="secrets"),
        pytest.param("apiKeys.partner.value", id="api-key-value"),
        pytest.param("authToken", id="token"),
    ],
)
def test_secret_looking_fields_are_redacted(field):
    """Whatever a secret-looking field holds never leaves the controller, not even in `text`."""
    doc = _alert(field=field, expected="s3cr3t-value", actual="other-s3cr3t").to_json()
    assert doc["expected"] == doc["actual"] == REDACTED
    assert "s3cr3t" not in json.dumps(doc)


def test_dedupe_key_ignores_values_and_time():
    """Two drifts of the same field of the same resource share a key, whatever the values."""
    assert _alert(actual="/a", time="t1").dedupe_key() == _alert(actual="/b").dedupe_key()
    assert _alert().dedupe_key() != _alert(field="healthCheck.port").dedupe_key()
    assert _alert().dedupe_key() != _alert(kind="contested").dedupe_key()


def test_drift_alert_works_out_severity():
    """`drift_alert` fills the severity from the rules."""
    alert = drift_alert("shop/orders", "nlb", "arn:nlb", "(resource)", "present", None, "corrected")
    assert (alert.kind, alert.severity) == ("drift", "high")


def test_contested_alert_suggests_ignore_fields():
    """The contested alert says what happened and names `spec.drift.ignoreFields`."""
    alert = contested_alert("shop/orders", "target-group", "arn:tg", "tags.team", "a", "b", 4, 600)
    assert (alert.kind, alert.action, alert.severity) == ("contested", "reported", "medium")
    text = alert.to_json()["text"]
    assert "tags.team is contested" in text
    assert "spec.drift.ignoreFields" in text
    assert "4 times within 600 s" in text
