"""Network checks on the load balancers' own security groups: PrivateLink enforcement on an NLB
behind a VPC Link (`privatelink-enforced`), an NLB group closed to the VPC
(`nlb-sg-blocks-listener`), an ALB group closed to the NLB in front of it (`alb-blocks-nlb`), and
a load balancer group without egress to its targets (`lb-egress-blocked`).

AWS rules (ELB guide, "Update the security groups for your Network Load Balancer",
https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html):
an NLB created without security groups admits all client traffic and sends anywhere, and can never
get groups later; with groups, "health checks are subject to outbound rules, but not inbound
rules", so the group needs egress to the targets on the traffic and health-check ports; inbound
rules are evaluated on traffic sent through AWS PrivateLink (a VPC Link) unless
`EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic` is "off" (SetSecurityGroups API reference:
"The default is on"). ALB groups must admit the listener port from their clients and allow
egress to the targets (ALB guide, "Security groups for your Application Load Balancer").
Neighbours: `network_chain` (legs, peers, CLI), `network_reach` (verdicts), `network` (CHECKS).
"""

from __future__ import annotations

from typing import Any

from controller.doctor.checks.network_chain import (
    Leg,
    behind_vpc_link,
    blind,
    lb_kind,
    lb_peer,
    legs,
    permission_cli,
    region_flag,
    task_peer,
    vpc_link_peer,
    vpc_peer,
)
from controller.doctor.checks.network_reach import Peer, network, sg_verdict
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, finding

Shape = dict[str, Any]
ENFORCE = "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"
_READS = ("DescribeSecurityGroups", "DescribeLoadBalancers", "DescribeListeners", "DescribeVpcs")


def _nlbs(facts: Facts) -> list[tuple[Shape, list[str], list[int]]]:
    """NLBs with security groups, their groups and listener ports, where all were read."""
    found = []
    for arn, lb in facts.load_balancers.items():
        groups = [str(g) for g in lb.get("SecurityGroups", [])]
        ports = sorted({int(li["Port"]) for li in facts.listeners.get(arn, []) if li.get("Port")})
        if lb.get("Type") == "network" and groups and ports and not blind(facts, _READS, *groups):
            found.append((lb, groups, ports))
    return found


def _enforced(facts: Facts, lb: Shape) -> bool:
    """Whether an NLB behind a VPC Link evaluates its inbound rules on the link's traffic."""
    arn = str(lb.get("LoadBalancerArn", ""))
    return behind_vpc_link(facts, arn) and str(lb.get(ENFORCE) or "on").lower() != "off"


def privatelink_enforced(facts: Facts) -> list[Finding]:
    """An NLB behind a VPC Link enforces its inbound rules on PrivateLink traffic and its groups
    do not admit the listener port from the VPC: every request through the link is dropped."""
    out = []
    for lb, groups, ports in _nlbs(facts):
        if not _enforced(facts, lb):
            continue
        link = vpc_link_peer(facts, lb)
        closed = [p for p in ports if sg_verdict(facts, groups, p, link) == "deny"]
        if not closed:
            continue
        arn = lb["LoadBalancerArn"]
        out.append(
            finding(
                "privatelink-enforced",
                "nlb",
                arn,
                f"the NLB {lb.get('LoadBalancerName', arn)} evaluates its inbound rules on "
                f"PrivateLink traffic ({ENFORCE}=on) and its group {', '.join(groups)} does not "
                f"admit listener port {', '.join(map(str, closed))} from {link.describe()}",
                why="API Gateway reaches the NLB through PrivateLink; with enforcement on, the "
                "NLB's group must admit that traffic, and AWS does not document from which "
                "addresses a VPC Link's traffic comes, so requests are dropped before any target "
                "(API Gateway answers 500). Turning enforcement off is the reliable fix.",
                fix_spec="no spec field to change: psctl keeps enforcement off on an NLB behind a "
                "VPC Link (contract rule 3); `psctl apply` sets it back",
                fix_cli=f"aws elbv2 set-security-groups --load-balancer-arn {arn}"
                f"{region_flag(facts)} --security-groups {' '.join(groups)} "
                f"--enforce-security-group-inbound-rules-on-private-link-traffic off",
            )
        )
    return out


def nlb_sg_blocks_listener(facts: Facts) -> list[Finding]:
    """An internal NLB's groups do not admit a listener port from the VPC: clients inside the
    VPC cannot connect (seed 000's second trap). Not repeated where `privatelink-enforced`
    already names the port."""
    out = []
    for lb, groups, ports in _nlbs(facts):
        if lb.get("Scheme") == "internet-facing":
            continue
        vpc = vpc_peer(facts, str(lb.get("VpcId", "")))
        if vpc.networks is None:
            continue
        enforced = _enforced(facts, lb)
        link = vpc_link_peer(facts, lb)
        closed = [
            p
            for p in ports
            if sg_verdict(facts, groups, p, vpc) == "deny"
            and not (enforced and sg_verdict(facts, groups, p, link) == "deny")
        ]
        for port in closed:
            out.append(
                finding(
                    "nlb-sg-blocks-listener",
                    "nlb",
                    groups[0],
                    f"the NLB's security group {', '.join(groups)} does not admit listener port "
                    f"{port} from {vpc.describe()}",
                    why="an internal NLB is reachable only from inside the network anyway; a "
                    "group narrower than the VPC drops clients (and, where enforced, VPC Link "
                    "traffic) whose addresses it did not foresee.",
                    fix_spec="no spec field to change: psctl owns the NLB group's rule admitting "
                    f"spec.loadBalancer.listener.port ({port}) from the VPC; `psctl apply` "
                    "puts it back",
                    fix_cli=permission_cli(
                        facts, groups[0], port, Peer(vpc.label, (), vpc.networks)
                    ),
                )
            )
    return out


def _albs_behind(facts: Facts, leg: Leg) -> list[Shape]:
    """The ALBs registered in an `alb` target group (by target id, else every ALB read)."""
    ids = [
        str(d.get("Target", {}).get("Id"))
        for d in facts.target_health.get(str(leg.tg.get("TargetGroupArn")), [])
    ]
    albs = [facts.load_balancers[i] for i in ids if i in facts.load_balancers]
    if ids:
        return albs
    return [lb for lb in facts.load_balancers.values() if lb.get("Type") == "application"]


def alb_blocks_nlb(facts: Facts) -> list[Finding]:
    """An NLB forwards to an ALB whose groups do not admit the ALB's listener port (or the
    health-check port) from the NLB's nodes (seeds 001, 003)."""
    out = []
    for leg in legs(facts):
        if leg.tg.get("TargetType") != "alb" or leg.lb.get("Type") != "network":
            continue
        nodes = lb_peer(facts, leg.lb)
        for alb in _albs_behind(facts, leg):
            groups = [str(g) for g in alb.get("SecurityGroups", [])]
            if not groups or blind(facts, _READS, *groups):
                continue
            closed = sorted(
                {
                    p
                    for p in (leg.port, leg.hc_port)
                    if sg_verdict(facts, groups, p, nodes) == "deny"
                }
            )
            if not closed:
                continue
            out.append(
                finding(
                    "alb-blocks-nlb",
                    "alb",
                    groups[0],
                    f"the ALB {alb.get('LoadBalancerName', '')}'s security group "
                    f"{', '.join(groups)} does not admit TCP {', '.join(map(str, closed))} from "
                    f"{nodes.describe()}",
                    why="the NLB in front connects to the ALB (and health-checks it) from its "
                    "own nodes: the ALB group drops them, the ALB target stays unhealthy and "
                    "every request fails.",
                    fix_spec="no spec field to change: psctl owns the ALB group's rule admitting "
                    f"spec.loadBalancer.alb.listenerPort ({leg.port}) from the NLB's group; "
                    "`psctl apply` puts it back",
                    fix_cli=permission_cli(facts, groups[0], closed[0], nodes),
                )
            )
    return out


def _destination(facts: Facts, leg: Leg) -> Peer | None:
    """Where a load balancer sends to on a leg: the tasks, or the ALB registered behind it."""
    if leg.tg.get("TargetType") == "ip" and leg.service is not None:
        return task_peer(facts, leg.service)
    if leg.tg.get("TargetType") == "alb":
        albs = _albs_behind(facts, leg)
        if len(albs) == 1:
            return lb_peer(facts, albs[0])
    if leg.tg.get("TargetType") == "instance":
        ids = [
            str(d.get("Target", {}).get("Id"))
            for d in facts.target_health.get(str(leg.tg.get("TargetGroupArn")), [])
        ]
        found = [facts.instances[i] for i in ids if i in facts.instances]
        if found and len(found) == len(ids):
            groups = tuple(
                dict.fromkeys(str(g["GroupId"]) for i in found for g in i.get("SecurityGroups", []))
            )
            nets = tuple(network(str(i.get("PrivateIpAddress", ""))) for i in found)
            ok = all(n is not None for n in nets)
            return Peer(
                "the container instances", groups, tuple(n for n in nets if n) if ok else None
            )
    return None


def lb_egress_blocked(facts: Facts) -> list[Finding]:
    """A load balancer's groups allow no egress to its targets on the traffic or health-check
    port: requests and health checks never leave it (seed 001's security-group chain)."""
    out = []
    for leg in legs(facts):
        groups = [str(g) for g in leg.lb.get("SecurityGroups", [])]
        dest = _destination(facts, leg)
        if not groups or dest is None or blind(facts, _READS, *groups, *dest.groups):
            continue
        closed = sorted(
            {
                p
                for p in (leg.port, leg.hc_port)
                if sg_verdict(facts, groups, p, dest, egress=True) == "deny"
            }
        )
        if not closed:
            continue
        kind = lb_kind(leg.lb)
        hop = "nlb" if kind == "NLB" else "alb"
        out.append(
            finding(
                "lb-egress-blocked",
                hop,
                groups[0],
                f"the {kind}'s security group {', '.join(groups)} allows no egress on TCP "
                f"{', '.join(map(str, closed))} to {dest.describe()}",
                why="a load balancer's outbound rules apply to what it forwards and to its "
                "health checks: without egress to the targets, targets stay unhealthy and "
                "requests fail.",
                fix_spec=f"no spec field to change: psctl gives the {kind} group all-traffic "
                "egress; `psctl apply` puts it back",
                fix_cli=permission_cli(facts, groups[0], closed[0], dest, egress=True),
            )
        )
    return out
