"""ELBv2 load balancer ARNs that name their type: `loadbalancer/net/...` for network ones.

Restores (Elastic Load Balancing User Guide, ARN formats: "arn:aws:elasticloadbalancing:region:
account-id:loadbalancer/net/load-balancer-name/load-balancer-id" for a Network Load Balancer,
`.../app/...` for an Application and `.../gwy/...` for a Gateway Load Balancer; listener ARNs
repeat the segment, `listener/net/...`): moto writes `app` for every type. The listener ARN is
derived from the load balancer's, and moto's parsers (DescribeListeners, DescribeTags,
ModifyLoadBalancerAttributes, DeleteLoadBalancer) never look at the segment, so only the ARN
builder changes. Neighbours: `patching`, `elbv2_fields`, `elbv2_idempotency`.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.elbv2 import models as elbv2_models

from controller.sandbox.fidelity.patching import wrap

_SEGMENT = {"network": "net", "gateway": "gwy"}
_creating = threading.local()


def apply() -> None:
    """Make CreateLoadBalancer build the ARN for the requested type."""
    wrap(elbv2_models.ELBv2Backend, "create_load_balancer")(_create_load_balancer)
    wrap(elbv2_models, "make_arn_for_load_balancer")(_make_arn)


def _create_load_balancer(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    _creating.type = kwargs.get("loadbalancer_type")
    try:
        return original(self, *args, **kwargs)
    finally:
        _creating.type = None


def _make_arn(original: Any, *args: Any, **kwargs: Any) -> str:
    arn: str = original(*args, **kwargs)
    segment = _SEGMENT.get(getattr(_creating, "type", None) or "")
    return arn.replace(":loadbalancer/app/", f":loadbalancer/{segment}/", 1) if segment else arn
