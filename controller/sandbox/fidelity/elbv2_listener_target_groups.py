"""A target group's `LoadBalancerArns` follows the listeners and rules that forward to it.

Restores (ELB API reference, TargetGroup: "LoadBalancerArns: The Amazon Resource Name (ARN) of the
load balancer that routes traffic to this target group"; DescribeTargetGroups with
`LoadBalancerArn` lists the target groups that load balancer routes to): moto adds the load
balancer to a group when a listener or rule is created forwarding to it, but ModifyListener,
ModifyRule, DeleteRule and DeleteListener leave `LoadBalancerArns` as it was, so a listener moved
to another group keeps reporting the old one and never the new one (found by the doctor's
target-type-mismatch functional test, which repoints a listener behind psctl's back).
After each of those calls, every group's `LoadBalancerArns` is recomputed from the listeners and
rules of the backend's load balancers. Neighbours: `patching`, `elbv2_fields`.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2 import models as elbv2_models

from controller.sandbox.fidelity.patching import wrap

CALLS = ("modify_listener", "modify_rule", "delete_rule", "delete_listener")


def apply() -> None:
    """Recompute the groups' load balancers after every call that can change what forwards."""
    for name in CALLS:
        wrap(elbv2_models.ELBv2Backend, name)(_recomputing)


def _recomputing(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    result = original(self, *args, **kwargs)
    recompute(self)
    return result


def recompute(backend: Any) -> None:
    """Set each target group's `load_balancer_arns` to the load balancers whose listeners (default
    actions) or rules forward to it, keeping the order they were first added in."""
    routed: dict[str, list[str]] = {}
    for lb_arn, balancer in backend.load_balancers.items():
        for listener in balancer.listeners.values():
            actions = [*listener.default_actions]
            for rule in listener.rules.values():
                actions.extend(rule.actions)
            for action in actions:
                if action.type != "forward":
                    continue
                for tg_arn in backend._get_target_group_arns_from(action_data=action.data):
                    held = routed.setdefault(tg_arn, [])
                    if lb_arn not in held:
                        held.append(lb_arn)
    for tg_arn, group in backend.target_groups.items():
        now = routed.get(tg_arn, [])
        kept = [a for a in dict.fromkeys(group.load_balancer_arns) if a in now]
        group.load_balancer_arns = kept + [a for a in now if a not in kept]
