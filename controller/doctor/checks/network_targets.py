"""Network checks on the targets' side: do the targets' security groups admit the load balancer's
health checks and its traffic (`health-check-blocked`, `traffic-blocked` for `ip` targets such as
Fargate tasks, `host-port-blocked` for the container instances of ECS on EC2)?

AWS rules (ELB guide, "Register targets for your Network Load Balancer", Target security groups,
https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html
#target-security-groups, and "Troubleshoot your Network Load Balancer": "The security groups
associated with an instance must allow traffic from the load balancer using the health check port
and health check protocol"): health checks come from the load balancer's nodes (their group, or
their addresses in the load balancer's subnets) on the health-check port, "traffic-port" being
the port the target receives on; requests come from where `network_chain.traffic_peer` says.
Seed 000's trap (the task group admitted the VPC Link's traffic but not the NLB's health checks)
and seed 004's (instances' groups without the fixed host port) are these checks.
Neighbours: `network_chain` (legs, peers, CLI), `network_reach` (verdicts), `network` (CHECKS).
"""

from __future__ import annotations

from typing import Any

from controller.doctor.checks.network_chain import (
    Leg,
    blind,
    lb_kind,
    lb_peer,
    legs,
    permission_cli,
    symptom,
    traffic_peer,
)
from controller.doctor.checks.network_reach import Peer, sg_verdict
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, finding

Shape = dict[str, Any]
_READS = (
    "DescribeSecurityGroups",
    "DescribeSubnets",
    "DescribeLoadBalancers",
    "DescribeTargetGroups",
    "DescribeServices",
)
_SOURCE_READS = ("DescribeTargetGroupAttributes", "GetVpcLinks", "GetIntegrations")
"""What decides where requests come from: client IP preservation, and a VPC Link in front."""
_OWNED_TASK_RULES = (
    "no spec field to change: psctl owns the task group's rules (contract rule 2); "
    "`psctl apply` puts back the rule admitting spec.container.port ({port}) from {peer}"
)


def _ip_targets(facts: Facts) -> list[tuple[Leg, list[str]]]:
    """Legs to `ip` targets whose groups are known (the ECS service's awsvpc groups)."""
    found = []
    for leg in legs(facts):
        if leg.tg.get("TargetType") != "ip" or leg.service is None:
            continue
        cfg = leg.service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
        groups = [str(g) for g in cfg.get("securityGroups", [])]
        if groups and not blind(facts, _READS, *groups):
            found.append((leg, groups))
    return found


def health_check_blocked(facts: Facts) -> list[Finding]:
    """The targets' groups do not admit the health-check port from the load balancer's nodes:
    every health check times out, every target stays unhealthy, the API answers 500 (seed 000)."""
    out = []
    for leg, groups in _ip_targets(facts):
        nodes = lb_peer(facts, leg.lb)
        if sg_verdict(facts, groups, leg.hc_port, nodes) != "deny":
            continue
        kind = lb_kind(leg.lb)
        out.append(
            finding(
                "health-check-blocked",
                "tasks",
                groups[0],
                f"the tasks' security group {', '.join(groups)} does not admit TCP {leg.hc_port} "
                f"(the health-check port) from {nodes.describe()}",
                why=f"{kind} health checks come from the load balancer's own nodes, not from the "
                "clients: dropped by the task group, they time out, every target stays unhealthy "
                f"and no request is forwarded ({symptom(facts)}).",
                fix_spec=_OWNED_TASK_RULES.format(port=leg.hc_port, peer=nodes.describe()),
                fix_cli=permission_cli(facts, groups[0], leg.hc_port, nodes),
            )
        )
    return out


def traffic_blocked(facts: Facts) -> list[Finding]:
    """The targets' groups do not admit the traffic port from where requests arrive (the load
    balancer's nodes, or the clients when an NLB preserves their addresses; seeds 000, 001).
    Not reported where `health-check-blocked` already names the same port and source."""
    out = []
    for leg, groups in _ip_targets(facts):
        if blind(facts, _SOURCE_READS, str(leg.tg.get("TargetGroupArn"))):
            continue  # whether the clients' addresses are preserved is not known
        source = traffic_peer(facts, leg)
        if sg_verdict(facts, groups, leg.port, source) != "deny":
            continue
        nodes = lb_peer(facts, leg.lb)
        if leg.hc_port == leg.port and source == nodes:
            continue  # the same port from the same nodes: health-check-blocked says it
        if source.networks is None:
            continue  # internet clients: which addresses they have is not known
        preserved = source != nodes
        why = (
            "the NLB preserves the clients' addresses, so the tasks see each client, not the "
            "load balancer: a group admitting only the load balancer's subnets drops them"
            if preserved
            else "the load balancer forwards requests from its own nodes: dropped by the task "
            f"group, requests time out although health checks may pass ({symptom(facts)})"
        )
        fix_peer = Peer(source.label, (), source.networks) if preserved else source
        out.append(
            finding(
                "traffic-blocked",
                "tasks",
                groups[0],
                f"the tasks' security group {', '.join(groups)} does not admit TCP {leg.port} "
                f"(the traffic port) from {source.describe()}",
                why=why + ".",
                fix_spec=_OWNED_TASK_RULES.format(port=leg.port, peer=source.describe()),
                fix_cli=permission_cli(facts, groups[0], leg.port, fix_peer),
            )
        )
    return out


def _instance_groups(facts: Facts, leg: Leg) -> list[str]:
    """The groups of the container instances behind an `instance` target group."""
    ids = {
        str(d.get("Target", {}).get("Id"))
        for d in facts.target_health.get(str(leg.tg.get("TargetGroupArn")), [])
    }
    if not ids and leg.service is not None:
        cluster = str(leg.service.get("clusterArn", ""))
        ids = {str(c.get("ec2InstanceId")) for c in facts.container_instances.get(cluster, [])}
    groups: list[str] = []
    for instance_id in sorted(ids):
        instance = facts.instances.get(instance_id)
        if instance is None:
            return []  # not read: unknown, never healthy
        for g in instance.get("SecurityGroups", []):
            if g.get("GroupId") not in groups:
                groups.append(str(g["GroupId"]))
    return groups


def host_port_blocked(facts: Facts) -> list[Finding]:
    """ECS on EC2 behind an `instance` target group: the container instances' groups do not
    admit the fixed host port (health checks from the NLB, requests from where they arrive;
    seed 004)."""
    out = []
    for leg in legs(facts):
        if leg.tg.get("TargetType") != "instance":
            continue
        groups = _instance_groups(facts, leg)
        reads = (*_READS, *_SOURCE_READS, "DescribeInstances")
        if not groups or blind(facts, reads, *groups, str(leg.tg.get("TargetGroupArn"))):
            continue
        nodes, source = lb_peer(facts, leg.lb), traffic_peer(facts, leg)
        blocked = [
            (port, peer)
            for port, peer in ((leg.hc_port, nodes), (leg.port, source))
            if sg_verdict(facts, groups, port, peer) == "deny"
        ]
        if not blocked:
            continue
        port, peer = blocked[0]
        if peer.networks is None:
            peer = nodes
        out.append(
            finding(
                "host-port-blocked",
                "tasks",
                groups[0],
                f"the container instances' security group {', '.join(groups)} does not admit "
                f"host port {port} from {peer.describe()}",
                why="ECS on EC2 maps the container to a fixed host port that the NLB reaches "
                "on the instance itself: an instance group without that port drops health checks "
                "and requests alike.",
                fix_spec="spec.service.instanceSecurityGroupIds (empty: the cluster's instances' "
                "groups) with spec.container.hostPort: `psctl apply` adds the owned rule "
                f"admitting port {port} there",
                fix_cli=permission_cli(facts, groups[0], port, peer),
            )
        )
    return out
