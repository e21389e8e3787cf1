"""Severity of the two drifts that expose or cut the path (issue 11, item 9)."""

from __future__ import annotations

import pytest

from controller.alerts.model import severity_for


@pytest.mark.parametrize(
    ("component", "field", "expected", "actual", "severity"),
    [
        pytest.param(
            "ecs-service", "assignPublicIp", "DISABLED", "ENABLED", "high", id="public-ip"
        ),
        pytest.param("ecs-service", "assignPublicIp", "ENABLED", "DISABLED", "medium", id="closed"),
        pytest.param(
            "nlb", "enforcePrivateLinkInboundRules", "off", "on", "high", id="privatelink-on"
        ),
        pytest.param(
            "nlb", "enforcePrivateLinkInboundRules", "on", "off", "medium", id="privatelink-off"
        ),
    ],
)
def test_public_ip_and_privatelink_enforcement_turned_on_are_high(
    component: str, field: str, expected: str, actual: str, severity: str
) -> None:
    """Tasks with a public IP (exposure) and PrivateLink enforcement on an NLB behind a VPC link
    (API Gateway's traffic dropped) are high; the way back is medium."""
    assert severity_for(component, field, expected, actual) == severity
