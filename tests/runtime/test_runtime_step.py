"""runtime.step: what a pass turns into alerts (the replacement guard's high alert)."""

from controller.handlers.base import Delta
from controller.reconcile.engine import Action, Change
from controller.runtime.step import _replace_loop_alert


def test_a_refused_second_replacement_is_a_high_failure_alert_naming_the_field() -> None:
    """Issue 14: the guard's FAILED change becomes one high alert naming the field that did not
    read back, with the engine's message, so someone looks before anything is destroyed again."""
    change = Change(
        "nlb",
        "elbv2-load-balancer",
        "nlb",
        Action.FAILED,
        deltas=[Delta("subnetMappings", [{"SubnetId": "subnet-1"}], [])],
        id="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/1",
        message="not replacing ... again",
        replace_loop=True,
    )
    alert = _replace_loop_alert("shop/orders", change)
    assert (alert.kind, alert.severity, alert.field) == ("failure", "high", "subnetMappings")
    assert alert.resource == change.id
    assert alert.expected == [{"SubnetId": "subnet-1"}]
    assert alert.actual == []
    assert alert.message == "not replacing ... again"
