"""The load-balancing layer of the stack: the NLB (internal, or internet-facing with one Elastic
IP per public subnet), its security group, its target group and listener, the task security
group (rules 1-3), and, with `loadBalancer.alb`, the ALB tier of `controller.model.alb`.

Stack keys this layer adds: `nlb-sg`, `task-sg` (not for ECS on EC2), `nlb`, `target-group`
(the NLB's: `ip`, `alb` in front of an ALB, `instance` for EC2), `listener`, `nlb-eip/<subnet>`
(staticIps), and `old-listeners` (`add_old_listeners`, once the API layer is in: a listener
port change is create-before-delete). The service layer attaches to
`service_target_group_key(ps)` and waits for `service_dependency_key(ps)`. Pure. Neighbours:
`controller.model.build` (calls `add_load_balancer`), `controller.model.alb`, the elbv2 and ec2
handlers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from controller.model import kinds, names
from controller.model.alb import ALB_LISTENER, ALB_RULES, ALB_TARGET_GROUP, add_alb, alb_health
from controller.model.common import ALL_TRAFFIC_EGRESS, tcp_from
from controller.model.network import Network
from controller.model.props import (
    ElasticIp,
    HealthCheck,
    Listener,
    LoadBalancer,
    OldListeners,
    SecurityGroup,
    SgRule,
    SubnetMapping,
    TargetGroup,
)
from controller.model.stack import Lazy, Ref, Resource, Stack
from controller.spec.models import PrivateService

EVERYWHERE = "0.0.0.0/0"


def service_target_group_key(ps: PrivateService) -> str:
    """The target group the ECS service registers its tasks in (the ALB's with an ALB tier)."""
    return ALB_TARGET_GROUP if ps.spec.load_balancer.alb is not None else "target-group"


def service_dependency_key(ps: PrivateService) -> str:
    """What the ECS service must wait for: ECS refuses a target group no listener (rule) uses."""
    return ALB_RULES if ps.spec.load_balancer.alb is not None else "listener"


def task_security_group_key(ps: PrivateService) -> str | None:
    """The tasks' security group; None on EC2 (tasks use their container instance's network)."""
    return None if ps.spec.service.launch_type == "EC2" else "task-sg"


def attach_service(stack: Stack, ps: PrivateService) -> None:
    """Point an `ecs-service` already in the stack at the right target group (idempotent)."""
    res = stack.resources["ecs-service"]
    props = dict(res.props)
    props["loadBalancer"] = {
        **props["loadBalancer"],
        "targetGroupArn": Ref(service_target_group_key(ps), "arn"),
    }
    stack.resources["ecs-service"] = replace(
        res, props=props, extra_deps=(service_dependency_key(ps),)
    )


def add_load_balancer(stack: Stack, ps: PrivateService, net: Network) -> None:
    """Security groups, Elastic IPs, NLB, its target group and listener, and the ALB tier."""
    spec = ps.spec
    lb = spec.load_balancer
    nlb_sg = stack.add(_nlb_security_group(ps, net))
    if lb.alb is not None:
        alb_sg = add_alb(stack, ps, net, nlb_sg)
        task_sources = [tcp_from(spec.container.port, group=alb_sg, why="requests from the ALB")]
    else:
        task_sources = _task_sources_behind_nlb(ps, net, nlb_sg)
    if task_security_group_key(ps) is not None:
        stack.add(_task_security_group(ps, net, task_sources))
    stack.add(_nlb(stack, ps, net, nlb_sg))
    stack.add(_nlb_target_group(ps, net))
    listener: Listener[Lazy] = {
        "loadBalancerArn": Ref("nlb", "arn"),
        "port": lb.listener.port,
        "protocol": lb.listener.protocol,
        "targetGroupArn": Ref("target-group", "arn"),
        # a port change: the new listener beside the old one, removed by `old-listeners`
        "newPortBeside": True,
    }
    if lb.listener.certificate_arn:
        listener["certificateArn"] = lb.listener.certificate_arn
    stack.add(Resource("listener", kinds.ELBV2_LISTENER, "listener", listener))


def _nlb_security_group(ps: PrivateService, net: Network) -> Resource:
    lb = ps.spec.load_balancer
    if lb.scheme == "internet-facing":
        # The point of a public NLB (seed 003); what is behind it stays private.
        source = tcp_from(lb.listener.port, cidr=EVERYWHERE, why="listener from the internet")
    else:
        # Rule 3: the VPC Link's traffic arrives from addresses in the VPC.
        source = tcp_from(lb.listener.port, cidr=net.cidr, why="listener from the VPC (VPC Link)")
    return Resource(
        "nlb-sg",
        kinds.EC2_SECURITY_GROUP,
        "nlb-sg",
        SecurityGroup[Lazy](
            {
                "name": names.aws_name(ps.metadata.namespace, ps.metadata.name, "nlb", 255),
                "description": f"privateservice {ps.owner}: NLB",
                "vpcId": net.vpc_id,
                "ingress": [source],
                "egress": ALL_TRAFFIC_EGRESS,
                # an old listener port stays open while our old listener still serves on it
                "keepPortsListenedBy": nlb_name(ps),
            }
        ),
        {"ingress": "loadBalancer.listener.port"},
    )


def nlb_name(ps: PrivateService) -> str:
    """The NLB's name."""
    return names.aws_name(ps.metadata.namespace, ps.metadata.name, "nlb", 32)


OLD_LISTENERS = "old-listeners"
API_STAGES = ("stage", "http-stage")  # the REST and the HTTP API's stage keys


def add_old_listeners(stack: Stack, ps: PrivateService) -> None:
    """`old-listeners` (after the listener and the API's stage): our NLB listeners on another
    port than the spec's, left by a port change (create-before-delete), are deleted once the
    stage runs a deployment on the new port. Call it once the API layer is in the stack."""
    stages = tuple(k for k in API_STAGES if k in stack.resources)
    stack.add(
        Resource(
            OLD_LISTENERS,
            kinds.ELBV2_OLD_LISTENERS,
            "listener",
            OldListeners[Lazy](
                {
                    "loadBalancerArn": Ref("nlb", "arn"),
                    "component": "listener",
                    "port": ps.spec.load_balancer.listener.port,
                    # as long as old targets get to finish their connections
                    "drainSeconds": ps.spec.load_balancer.target_group.deregistration_delay_seconds,
                    "oldPorts": [],
                }
            ),
            {
                "port": "loadBalancer.listener.port",
                "drainSeconds": "loadBalancer.targetGroup.deregistrationDelaySeconds",
                "oldPorts": "loadBalancer.listener.port",
            },
            extra_deps=("listener", *stages),
        )
    )


def _task_sources_behind_nlb(ps: PrivateService, net: Network, nlb_sg: Ref) -> list[SgRule[Lazy]]:
    """Rule 2: health checks come from the NLB's nodes (its group); requests keep the client's
    source address, which is inside the VPC. Never 0.0.0.0/0 or ::/0."""
    port = ps.spec.container.port
    return [
        tcp_from(port, cidr=net.cidr, why="traffic through the NLB (source preserved)"),
        tcp_from(port, group=nlb_sg, why="health checks from the NLB"),
    ]


def _task_security_group(ps: PrivateService, net: Network, ingress: list[SgRule[Lazy]]) -> Resource:
    return Resource(
        "task-sg",
        kinds.EC2_SECURITY_GROUP,
        "task-sg",
        SecurityGroup[Lazy](
            {
                "name": names.aws_name(ps.metadata.namespace, ps.metadata.name, "task", 255),
                "description": f"privateservice {ps.owner}: tasks",
                "vpcId": net.vpc_id,
                "ingress": ingress,
                "egress": ALL_TRAFFIC_EGRESS,
                # an old port stays open while the service's old tasks still serve on it
                "keepPortsServedBy": Ref(service_target_group_key(ps), "arn"),
            }
        ),
        {"ingress": "container.port"},
    )


def eip_key(subnet_id: str) -> str:
    """The stack key of the Elastic IP of one public subnet."""
    return f"nlb-eip/{subnet_id}"


def _nlb(stack: Stack, ps: PrivateService, net: Network, nlb_sg: Ref) -> Resource:
    ns, nm, spec = ps.metadata.namespace, ps.metadata.name, ps.spec
    lb = spec.load_balancer
    public = lb.scheme == "internet-facing"
    subnets = sorted(net.public_subnet_ids if public else net.subnet_ids)
    props: LoadBalancer[Lazy] = {
        "name": nlb_name(ps),
        "type": "network",
        "scheme": lb.scheme,
        "subnets": subnets,
        "securityGroups": [nlb_sg],
        "attributes": {"load_balancing.cross_zone.enabled": str(lb.cross_zone).lower()},
        # Rule 3: VPC Link traffic is PrivateLink traffic; with enforcement on, the
        # NLB's group would have to admit it by rules that cannot name its addresses.
        "enforcePrivateLinkInboundRules": "off" if spec.api is not None else "on",
    }
    if lb.static_ips:
        mappings: list[SubnetMapping[Lazy]] = []
        for subnet in subnets:
            stack.add(
                Resource(
                    eip_key(subnet),
                    kinds.EC2_ELASTIC_IP,
                    "nlb-eip",
                    ElasticIp({"name": names.aws_name(ns, nm, f"eip-{subnet}", 255)}),
                )
            )
            mappings.append({"subnetId": subnet, "allocationId": Ref(eip_key(subnet), "id")})
        props["subnetMappings"] = mappings
    return Resource(
        "nlb",
        kinds.ELBV2_LOAD_BALANCER,
        "nlb",
        props,
        {
            "attributes.load_balancing.cross_zone.enabled": "loadBalancer.crossZone",
            "scheme": "loadBalancer.scheme",
            "subnetMappings": "loadBalancer.staticIps",
        },
    )


def _nlb_target_group(ps: PrivateService, net: Network) -> Resource:
    """Rule 1: `ip` for Fargate, `alb` in front of an ALB, `instance` on EC2's host port."""
    ns, nm, spec = ps.metadata.namespace, ps.metadata.name, ps.spec
    lb, c = spec.load_balancer, spec.container
    delay = {
        "deregistration_delay.timeout_seconds": str(lb.target_group.deregistration_delay_seconds)
    }
    spec_paths = {
        f"healthCheck.{k}": f"loadBalancer.targetGroup.healthCheck.{k}"
        for k in (
            "protocol",
            "path",
            "intervalSeconds",
            "timeoutSeconds",
            "healthyThreshold",
            "unhealthyThreshold",
            "matcher",
        )
    }
    if lb.alb is not None:
        # The NLB checks the ALB through its HTTP listener; tasks drain at the ALB's group.
        target: dict[str, Any] = {
            "port": lb.alb.listener_port,
            "targetType": "alb",
            "healthCheck": alb_health(ps, protocol="HTTP"),
            "attributes": {},
        }
        spec_paths.pop("healthCheck.protocol")
        spec_paths["port"] = "loadBalancer.alb.listenerPort"
    else:
        ec2 = spec.service.launch_type == "EC2"
        target = {
            "port": c.host_port if ec2 and c.host_port else c.port,
            "targetType": "instance" if ec2 else "ip",
            "healthCheck": _health(ps),
            "attributes": delay,
        }
        spec_paths["attributes.deregistration_delay.timeout_seconds"] = (
            "loadBalancer.targetGroup.deregistrationDelaySeconds"
        )
    return Resource(
        "target-group",
        kinds.ELBV2_TARGET_GROUP,
        "target-group",
        TargetGroup(
            {
                "name": names.aws_name(ns, nm, "tg", 32),
                "protocol": "TCP",
                "port": target["port"],
                "vpcId": net.vpc_id,
                "targetType": target["targetType"],
                "healthCheck": target["healthCheck"],
                "attributes": target["attributes"],
            }
        ),
        spec_paths,
    )


def _health(ps: PrivateService) -> HealthCheck:
    hc = ps.spec.load_balancer.target_group.health_check
    health: HealthCheck = {
        "protocol": hc.protocol,
        "port": "traffic-port",
        "intervalSeconds": hc.interval_seconds,
        "timeoutSeconds": hc.timeout_seconds,
        "healthyThreshold": hc.healthy_threshold,
        "unhealthyThreshold": hc.unhealthy_threshold,
    }
    if hc.protocol != "TCP":
        health |= {"path": hc.path, "matcher": hc.matcher}
    return health


__all__ = [
    "ALB_LISTENER",
    "ALB_RULES",
    "ALB_TARGET_GROUP",
    "add_load_balancer",
    "add_old_listeners",
    "attach_service",
    "eip_key",
    "service_dependency_key",
    "service_target_group_key",
    "task_security_group_key",
]
