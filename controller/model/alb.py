"""The ALB tier of the stack (seeds 001 and 003): NLB -> internal ALB -> `ip` target group.

Keys: `alb-sg` (admits the ALB listener port from the NLB's group), `alb`, `alb-listener`
(HTTP; unmatched paths get a 404), `alb-rules` (the spec's path patterns and priorities, each
forwarding to the tasks), `alb-target-group` (`ip`, the health check of the spec) and
`alb-targets` (the ALB registered in the NLB's `alb` target group, rule 1). The tasks admit the
container port from `alb-sg` only (rule 2: the ALB terminates connections). Pure.
Neighbours: `controller.model.load_balancer` (calls `add_alb`), the elbv2 handlers.
"""

from __future__ import annotations

from controller.model import kinds, names
from controller.model.common import ALL_TRAFFIC_EGRESS, tcp_from
from controller.model.network import Network
from controller.model.props import (
    HealthCheck,
    Listener,
    ListenerRules,
    LoadBalancer,
    SecurityGroup,
    TargetGroup,
    Targets,
)
from controller.model.stack import Lazy, Ref, Resource, Stack
from controller.spec.models import PrivateService

ALB_LISTENER = "alb-listener"
ALB_RULES = "alb-rules"
ALB_TARGET_GROUP = "alb-target-group"
_HTTP = ("HTTP", "HTTPS")


def alb_health(ps: PrivateService, *, protocol: str | None = None) -> HealthCheck:
    """The spec's HTTP health check; ALB-facing target groups cannot check over plain TCP."""
    hc = ps.spec.load_balancer.target_group.health_check
    return {
        "protocol": protocol or (hc.protocol if hc.protocol in _HTTP else "HTTP"),
        "port": "traffic-port",
        "intervalSeconds": hc.interval_seconds,
        "timeoutSeconds": hc.timeout_seconds,
        "healthyThreshold": hc.healthy_threshold,
        "unhealthyThreshold": hc.unhealthy_threshold,
        "path": hc.path,
        "matcher": hc.matcher,
    }


def add_alb(stack: Stack, ps: PrivateService, net: Network, nlb_sg: Ref) -> Ref:
    """The ALB tier; returns a Ref to the ALB's security group (the tasks' only source)."""
    ns, nm, spec = ps.metadata.namespace, ps.metadata.name, ps.spec
    alb, tg = spec.load_balancer.alb, spec.load_balancer.target_group
    assert alb is not None
    alb_sg = stack.add(
        Resource(
            "alb-sg",
            kinds.EC2_SECURITY_GROUP,
            "alb-sg",
            SecurityGroup[Lazy](
                {
                    "name": names.aws_name(ns, nm, "alb", 255),
                    "description": f"privateservice {ps.owner}: ALB",
                    "vpcId": net.vpc_id,
                    "ingress": [
                        tcp_from(alb.listener_port, group=nlb_sg, why="ALB listener from the NLB")
                    ],
                    "egress": ALL_TRAFFIC_EGRESS,
                }
            ),
            {"ingress": "loadBalancer.alb.listenerPort"},
        )
    )
    balancer: LoadBalancer[Lazy] = {
        "name": names.aws_name(ns, nm, "alb", 32),
        "type": "application",
        "scheme": "internal",
        "subnets": sorted(net.subnet_ids),
        "securityGroups": [alb_sg],
        "attributes": {"routing.http.drop_invalid_header_fields.enabled": "true"},
    }
    stack.add(Resource("alb", kinds.ELBV2_LOAD_BALANCER, "alb", balancer))
    group: TargetGroup = {
        "name": names.aws_name(ns, nm, "alb-tg", 32),
        "protocol": "HTTP",
        "port": spec.container.port,
        "vpcId": net.vpc_id,
        "targetType": "ip",  # rule 1: awsvpc tasks are reached by IP
        "healthCheck": alb_health(ps),
        "attributes": {
            "deregistration_delay.timeout_seconds": str(tg.deregistration_delay_seconds)
        },
    }
    stack.add(
        Resource(
            ALB_TARGET_GROUP,
            kinds.ELBV2_TARGET_GROUP,
            ALB_TARGET_GROUP,
            group,
            {
                "healthCheck": "loadBalancer.targetGroup.healthCheck",
                "attributes.deregistration_delay.timeout_seconds": (
                    "loadBalancer.targetGroup.deregistrationDelaySeconds"
                ),
            },
        )
    )
    listener: Listener[Lazy] = {
        "loadBalancerArn": Ref("alb", "arn"),
        "port": alb.listener_port,
        "protocol": "HTTP",
        "defaultAction": {"type": "fixed-response", "statusCode": "404"},
    }
    stack.add(
        Resource(
            ALB_LISTENER,
            kinds.ELBV2_LISTENER,
            ALB_LISTENER,
            listener,
            {"port": "loadBalancer.alb.listenerPort"},
        )
    )
    rules: ListenerRules[Lazy] = {
        "listenerArn": Ref(ALB_LISTENER, "arn"),
        "rules": [
            {
                "priority": rule.priority,
                "pathPattern": rule.path_pattern,
                "targetGroupArn": Ref(ALB_TARGET_GROUP, "arn"),
            }
            for rule in sorted(alb.rules, key=lambda r: r.priority)
        ],
    }
    stack.add(
        Resource(
            ALB_RULES,
            kinds.ELBV2_LISTENER_RULES,
            "alb-rule",
            rules,
            {"rules": "loadBalancer.alb.rules"},
        )
    )
    # AWS registers an ALB only once it has a listener on the target group's port.
    targets: Targets[Lazy] = {
        "targetGroupArn": Ref("target-group", "arn"),
        "targets": [{"id": Ref("alb", "arn"), "port": alb.listener_port}],
    }
    stack.add(
        Resource(
            "alb-targets", kinds.ELBV2_TARGETS, "alb-targets", targets, extra_deps=(ALB_LISTENER,)
        )
    )
    return alb_sg
