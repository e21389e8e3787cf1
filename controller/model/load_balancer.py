"""The load-balancing layer of the stack: the NLB, its security group, the target group, the
listener, and the task security group that admits what the load balancer sends (rules 1-3).
Pure. Neighbours: `controller.model.build` (calls `add_load_balancer`), the elbv2 handlers.
"""

from __future__ import annotations

from typing import Any

from controller.model import names
from controller.model.common import ALL_TRAFFIC_EGRESS, tcp_from
from controller.model.network import Network
from controller.model.stack import Ref, Resource, Stack
from controller.spec.models import PrivateService


def add_load_balancer(stack: Stack, ps: PrivateService, net: Network) -> None:
    """NLB security group, task security group, NLB, target group and listener."""
    ns, nm, spec = ps.metadata.namespace, ps.metadata.name, ps.spec
    c, lb = spec.container, spec.load_balancer
    nlb_sg = stack.add(
        Resource(
            "nlb-sg",
            "ec2.security_group",
            "nlb-sg",
            {
                "name": names.aws_name(ns, nm, "nlb", 255),
                "description": f"privateservice {ps.owner}: NLB",
                "vpcId": net.vpc_id,
                # Rule 3: the VPC Link's traffic arrives from addresses in the VPC.
                "ingress": [
                    tcp_from(
                        lb.listener.port, cidr=net.cidr, why="listener from the VPC (VPC Link)"
                    )
                ],
                "egress": ALL_TRAFFIC_EGRESS,
            },
            {"ingress": "loadBalancer.listener.port"},
        )
    )

    stack.add(
        Resource(
            "task-sg",
            "ec2.security_group",
            "task-sg",
            {
                "name": names.aws_name(ns, nm, "task", 255),
                "description": f"privateservice {ps.owner}: tasks",
                "vpcId": net.vpc_id,
                # Rule 2: health checks come from the NLB's nodes (its group); requests keep the
                # client's source address, which is inside the VPC. Never 0.0.0.0/0 or ::/0.
                "ingress": sorted(
                    [
                        tcp_from(c.port, group=nlb_sg, why="health checks from the NLB"),
                        tcp_from(
                            c.port, cidr=net.cidr, why="traffic through the NLB (source preserved)"
                        ),
                    ],
                    key=lambda r: "sourceGroup" in r,
                ),
                "egress": ALL_TRAFFIC_EGRESS,
            },
            {"ingress": "container.port"},
        )
    )

    attributes = {"load_balancing.cross_zone.enabled": str(lb.cross_zone).lower()}
    stack.add(
        Resource(
            "nlb",
            "elbv2.load_balancer",
            "nlb",
            {
                "name": names.aws_name(ns, nm, "nlb", 32),
                "type": "network",
                "scheme": lb.scheme,
                "subnets": sorted(net.subnet_ids),
                "securityGroups": [nlb_sg],
                "attributes": attributes,
                # Rule 3: VPC Link traffic is PrivateLink traffic; with enforcement on, the
                # NLB's group would have to admit it by rules that cannot name its addresses.
                "enforcePrivateLinkInboundRules": "off" if spec.api is not None else "on",
            },
            {
                "attributes.load_balancing.cross_zone.enabled": "loadBalancer.crossZone",
                "scheme": "loadBalancer.scheme",
            },
        )
    )

    hc = lb.target_group.health_check
    health: dict[str, Any] = {
        "protocol": hc.protocol,
        "port": "traffic-port",
        "intervalSeconds": hc.interval_seconds,
        "timeoutSeconds": hc.timeout_seconds,
        "healthyThreshold": hc.healthy_threshold,
        "unhealthyThreshold": hc.unhealthy_threshold,
    }
    if hc.protocol != "TCP":
        health |= {"path": hc.path, "matcher": hc.matcher}
    stack.add(
        Resource(
            "target-group",
            "elbv2.target_group",
            "target-group",
            {
                "name": names.aws_name(ns, nm, "tg", 32),
                "protocol": "TCP",
                "port": c.port,
                "vpcId": net.vpc_id,
                "targetType": "ip",  # rule 1: awsvpc tasks are reached by IP
                "healthCheck": health,
                "attributes": {
                    "deregistration_delay.timeout_seconds": str(
                        lb.target_group.deregistration_delay_seconds
                    ),
                },
            },
            {
                f"healthCheck.{k}": f"loadBalancer.targetGroup.healthCheck.{v}"
                for k, v in (
                    ("protocol", "protocol"),
                    ("path", "path"),
                    ("intervalSeconds", "intervalSeconds"),
                    ("timeoutSeconds", "timeoutSeconds"),
                    ("healthyThreshold", "healthyThreshold"),
                    ("unhealthyThreshold", "unhealthyThreshold"),
                    ("matcher", "matcher"),
                )
            }
            | {
                "attributes.deregistration_delay.timeout_seconds": (
                    "loadBalancer.targetGroup.deregistrationDelaySeconds"
                )
            },
        )
    )

    listener: dict[str, Any] = {
        "loadBalancerArn": Ref("nlb", "arn"),
        "port": lb.listener.port,
        "protocol": lb.listener.protocol,
        "targetGroupArn": Ref("target-group", "arn"),
    }
    if lb.listener.certificate_arn:
        listener["certificateArn"] = lb.listener.certificate_arn
    stack.add(Resource("listener", "elbv2.listener", "listener", listener))
