"""Network check `nacl-blocks`: a network ACL of the load balancer's or the targets' subnets
denies the traffic port, the health-check port, or the return traffic.

AWS rules: network ACLs are stateless and apply to traffic entering or leaving a subnet (not
between interfaces of the same subnet); rules are evaluated in rule-number order, the first match
decides, and the `*` rule denies the rest (VPC guide, "Control subnet traffic with network access
control lists", https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html). For a
load balancer (ELB guide, "Register targets for your Network Load Balancer", Network ACLs,
https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html
#network-acls): the targets' subnets must admit the traffic and health-check ports from the load
balancer (and from the clients when their addresses are preserved) and let the return traffic
out on the ephemeral ports 1024-65535; the load balancer's subnets must let the traffic and health
checks out to the targets and admit the return traffic on 1024-65535, and admit the listener port
from the clients. Neighbours: `network_reach` (`acl_verdict`), `network_chain`, `network`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from ipaddress import IPv4Network
from typing import Any

from controller.doctor.checks.network_chain import (
    Leg,
    behind_vpc_link,
    blind,
    lb_kind,
    lb_peer,
    lb_subnets,
    legs,
    region_flag,
    task_subnets,
    traffic_peer,
    vpc_peer,
)
from controller.doctor.checks.network_reach import (
    EPHEMERAL,
    AclVerdict,
    acl_of,
    acl_verdict,
    network,
)
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, finding

Shape = dict[str, Any]
_READS = ("DescribeNetworkAcls", "DescribeSubnets", "DescribeLoadBalancers", "DescribeServices")


@dataclass(frozen=True)
class Need:
    """One direction of one flow that a subnet's ACL must let through."""

    subnet: str
    egress: bool
    ports: tuple[int, int]
    peer: tuple[IPv4Network, ...]
    what: str


def _cidr(facts: Facts, subnet: str) -> IPv4Network | None:
    return network(str(facts.subnets.get(subnet, {}).get("CidrBlock", "")))


def _target_subnets(facts: Facts, leg: Leg) -> list[str]:
    if leg.tg.get("TargetType") == "ip" and leg.service is not None:
        return task_subnets(leg.service)
    if leg.tg.get("TargetType") == "alb":
        ids = [
            str(d.get("Target", {}).get("Id"))
            for d in facts.target_health.get(str(leg.tg.get("TargetGroupArn")), [])
        ]
        return [
            s for i in ids if i in facts.load_balancers for s in lb_subnets(facts.load_balancers[i])
        ]
    if leg.tg.get("TargetType") == "instance":
        ids = [
            str(d.get("Target", {}).get("Id"))
            for d in facts.target_health.get(str(leg.tg.get("TargetGroupArn")), [])
        ]
        return [
            str(facts.instances[i]["SubnetId"])
            for i in ids
            if "SubnetId" in facts.instances.get(i, {})
        ]
    return []


def _nets(facts: Facts, subnets: list[str]) -> tuple[IPv4Network, ...] | None:
    nets = [_cidr(facts, s) for s in subnets]
    if not nets or any(n is None for n in nets):
        return None
    return tuple(n for n in nets if n is not None)


def _clients(facts: Facts, lb: Shape) -> tuple[IPv4Network, ...] | None:
    """Where an internal load balancer's clients are: a v2 VPC Link's subnets, else the VPC."""
    if lb.get("Scheme") == "internet-facing":
        return None
    link_subnets = [s for link in facts.vpc_links_v2.values() for s in link.get("SubnetIds", [])]
    if link_subnets and behind_vpc_link(facts, str(lb.get("LoadBalancerArn", ""))):
        return _nets(facts, link_subnets)
    return vpc_peer(facts, str(lb.get("VpcId", ""))).networks


def _needs(facts: Facts, leg: Leg) -> Iterator[Need]:
    """Every (subnet, direction, ports, peer) the leg's request path needs."""
    targets = _target_subnets(facts, leg)
    target_nets = _nets(facts, targets)
    nodes = lb_peer(facts, leg.lb).networks
    source = traffic_peer(facts, leg).networks
    kind = lb_kind(leg.lb)
    ports = sorted({leg.port, leg.hc_port})
    for subnet in targets:
        for port in ports:
            if nodes:
                yield Need(subnet, False, (port, port), nodes, f"TCP {port} in from the {kind}")
        if nodes:
            yield Need(subnet, True, EPHEMERAL, nodes, f"return traffic out to the {kind}")
        if source and source != nodes:
            yield Need(
                subnet, False, (leg.port, leg.port), source, f"TCP {leg.port} in from clients"
            )
            yield Need(subnet, True, EPHEMERAL, source, "return traffic out to clients")
    clients = _clients(facts, leg.lb)
    listener_ports = sorted(
        {int(li["Port"]) for li in facts.listeners.get(str(leg.lb.get("LoadBalancerArn")), [])}
    )
    for subnet in lb_subnets(leg.lb):
        if target_nets:
            for port in ports:
                yield Need(
                    subnet, True, (port, port), target_nets, f"TCP {port} out to the targets"
                )
            yield Need(subnet, False, EPHEMERAL, target_nets, "return traffic in from the targets")
        if clients:
            for port in listener_ports:
                yield Need(
                    subnet, False, (port, port), clients, f"listener port {port} in from clients"
                )
            yield Need(subnet, True, EPHEMERAL, clients, "return traffic out to clients")


def _fix_cli(facts: Facts, acl: Shape, need: Need, verdict: AclVerdict) -> str:
    used = {
        int(e.get("RuleNumber", 0))
        for e in acl.get("Entries", [])
        if bool(e.get("Egress")) == need.egress
    }
    decided = int((verdict.entry or {}).get("RuleNumber", 32767))
    start = decided - 1 if decided < 32767 else 100
    number = next((n for n in range(start, 0, -1) if n not in used), start)
    cidr = next(
        (str(p) for p in need.peer if verdict.denied and verdict.denied.subnet_of(p)),
        str(need.peer[0]),
    )
    return (
        f"aws ec2 create-network-acl-entry --network-acl-id {acl.get('NetworkAclId')}"
        f"{region_flag(facts)} --{'egress' if need.egress else 'ingress'} --rule-number {number} "
        f"--protocol tcp --port-range From={need.ports[0]},To={need.ports[1]} "
        f"--cidr-block {cidr} --rule-action allow"
    )


def nacl_blocks(facts: Facts) -> list[Finding]:
    """A network ACL on the request path denies a port or the return traffic: the packets are
    dropped silently, so health checks time out and requests hang (one finding per ACL)."""
    out: list[Finding] = []
    seen: set[str] = set()
    for leg in legs(facts):
        for need in _needs(facts, leg):
            acl = acl_of(facts, need.subnet)
            own = _cidr(facts, need.subnet)
            if acl is None or own is None or blind(facts, _READS, need.subnet):
                continue
            acl_id = str(acl.get("NetworkAclId"))
            peer = tuple(p for p in need.peer if not p.subnet_of(own))  # same subnet: no ACL
            if acl_id in seen or not peer:
                continue
            verdict = acl_verdict(acl, egress=need.egress, ports=need.ports, peer=peer)
            if verdict.verdict != "deny":
                continue
            seen.add(acl_id)
            number = int((verdict.entry or {}).get("RuleNumber", 32767))
            rule = "the default * rule" if number == 32767 else f"rule {number} (deny)"
            lo, hi = need.ports
            ports = str(lo) if lo == hi else f"{lo}-{hi}"
            out.append(
                finding(
                    "nacl-blocks",
                    "network",
                    acl_id,
                    f"the network ACL {acl_id} of subnet {need.subnet} drops {need.what} "
                    f"(TCP {ports}, {verdict.denied}) by {rule}",
                    why="network ACLs are stateless and checked in rule order: a request, a "
                    "health check or its reply that the ACL denies is dropped without a trace, "
                    "so targets stay unhealthy or requests time out.",
                    fix_spec="no spec field governs network ACLs: add the entry to the subnet's "
                    "ACL (the AWS CLI command)",
                    fix_cli=_fix_cli(facts, acl, replace(need, peer=peer), verdict),
                )
            )
    return out
