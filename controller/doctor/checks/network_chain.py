"""The chain as the network checks see it: which load balancer sends to which targets, from
which addresses, on which ports; and the AWS CLI commands that open a path.

Read from `Facts` only. A load balancer's nodes are a `Peer` carrying its security groups (an
NLB created without groups carries none) at its node addresses (`LoadBalancerAddresses`) or,
when AWS does not list them, anywhere in its subnets. Where the targets' traffic comes from
depends on the target group (ELB guide, "Edit target group attributes for your Network Load
Balancer", Client IP preservation, https://docs.aws.amazon.com/elasticloadbalancing/latest/
network/edit-target-group-attributes.html#client-ip-preservation): client IP preservation is on
by default for `instance` targets and for `ip` targets over UDP/TCP_UDP/QUIC, off for `ip`
targets over TCP/TLS, and set by `preserve_client_ip.enabled`. The same section's considerations
say client IP preservation has no effect on traffic that arrives through AWS PrivateLink, whose
source is the NLB's private address: behind a VPC Link the tasks see the NLB's nodes. Referencing
the NLB's group in the targets' groups admits its traffic even with preservation on ("Update the
security groups for your Network Load Balancer"). An ALB terminates connections: its targets see
the ALB's own addresses.
Neighbours: `network_reach` (verdicts), the `network_*` check modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from controller.doctor.checks.network_reach import Peer, network
from controller.doctor.facts import Facts

Shape = dict[str, Any]
_PRESERVED_BY_DEFAULT = ("UDP", "TCP_UDP", "QUIC", "TCP_QUIC")


@dataclass(frozen=True)
class Leg:
    """One load balancer -> target group -> targets hop of the chain."""

    lb: Shape
    tg: Shape
    port: int
    """The port the targets receive traffic on."""
    hc_port: int
    """The health-check port ("traffic-port" resolved)."""
    service: Shape | None = None
    """The ECS service whose `loadBalancers` name the target group, if read."""


def blind(facts: Facts, operations: tuple[str, ...], *resources: str) -> bool:
    """Whether doctor could not read something a check needs: a failed call among `operations`
    ("DescribeSecurityGroups"), or anything about one of `resources`."""
    wanted = {o.lower() for o in operations}
    return any(
        u.call.rsplit(":", 1)[-1].lower() in wanted or (u.resource and u.resource in resources)
        for u in facts.unknown
    )


def target_port(facts: Facts, tg: Shape, service: Shape | None) -> int:
    """The port targets receive on: registered port, else the service's container port,
    else the target group's port."""
    for desc in facts.target_health.get(tg.get("TargetGroupArn", ""), []):
        port = desc.get("Target", {}).get("Port")
        if port:
            return int(port)
    if service is not None:
        for entry in service.get("loadBalancers", []):
            if entry.get("targetGroupArn") == tg.get("TargetGroupArn") and entry.get(
                "containerPort"
            ):
                return int(entry["containerPort"])
    return int(tg.get("Port") or 0)


def health_check_port(tg: Shape, port: int) -> int:
    """The health-check port: "traffic-port" (or absent) is the port targets receive on."""
    hc = str(tg.get("HealthCheckPort") or "traffic-port")
    return port if hc == "traffic-port" or not hc.isdigit() else int(hc)


def service_of(facts: Facts, tg_arn: str) -> Shape | None:
    """The ECS service whose `loadBalancers` name `tg_arn`."""
    for service in facts.services.values():
        if any(e.get("targetGroupArn") == tg_arn for e in service.get("loadBalancers", [])):
            return service
    return None


def legs(facts: Facts) -> Iterator[Leg]:
    """Every (load balancer, target group) pair of the chain that doctor read."""
    for tg in facts.target_groups.values():
        service = service_of(facts, tg.get("TargetGroupArn", ""))
        port = target_port(facts, tg, service)
        if not port:
            continue
        for lb_arn in tg.get("LoadBalancerArns", []):
            lb = facts.load_balancers.get(lb_arn)
            if lb is not None:
                yield Leg(lb, tg, port, health_check_port(tg, port), service)


def _subnet_networks(facts: Facts, subnet_ids: list[str]) -> tuple[IPv4Network, ...] | None:
    nets = [network(str(facts.subnets.get(s, {}).get("CidrBlock", ""))) for s in subnet_ids]
    if not subnet_ids or any(n is None for n in nets):
        return None
    return tuple(n for n in nets if n is not None)


def lb_subnets(lb: Shape) -> list[str]:
    """The load balancer's subnets (one per enabled Availability Zone)."""
    return [str(z["SubnetId"]) for z in lb.get("AvailabilityZones", []) if z.get("SubnetId")]


def lb_kind(lb: Shape) -> str:
    """ "NLB" or "ALB", for messages."""
    return "NLB" if lb.get("Type") == "network" else "ALB"


def lb_peer(facts: Facts, lb: Shape) -> Peer:
    """The load balancer's nodes: its groups, at its node addresses or in its subnets."""
    addresses = [
        network(str(a["PrivateIPv4Address"]))
        for z in lb.get("AvailabilityZones", [])
        for a in z.get("LoadBalancerAddresses", [])
        if a.get("PrivateIPv4Address")
    ]
    zones = len(lb.get("AvailabilityZones", []))
    nets: tuple[IPv4Network, ...] | None
    if addresses and len(addresses) >= zones and all(a is not None for a in addresses):
        nets = tuple(a for a in addresses if a is not None)
    else:
        nets = _subnet_networks(facts, lb_subnets(lb))
    return Peer(
        f"the {lb_kind(lb)} {lb.get('LoadBalancerName', '')}".rstrip(),
        tuple(lb.get("SecurityGroups", [])),
        nets,
    )


def vpc_peer(facts: Facts, vpc_id: str, label: str = "the VPC") -> Peer:
    """Any address of the VPC (clients inside it)."""
    nets = [network(c) for c in facts.vpc_cidrs(vpc_id)]
    return Peer(label, (), tuple(n for n in nets if n is not None) or None)


def task_groups(service: Shape) -> list[str]:
    """The security groups of an awsvpc service's tasks."""
    cfg = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    return [str(g) for g in cfg.get("securityGroups", [])]


def task_subnets(service: Shape) -> list[str]:
    """The subnets an awsvpc service's tasks run in."""
    cfg = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    return [str(s) for s in cfg.get("subnets", [])]


def task_peer(facts: Facts, service: Shape) -> Peer:
    """The service's tasks: their groups, anywhere in their subnets."""
    return Peer(
        "the tasks", tuple(task_groups(service)), _subnet_networks(facts, task_subnets(service))
    )


def preserves_client_ip(facts: Facts, tg: Shape) -> bool:
    """Whether targets see the client's address (attribute, else AWS's default per type)."""
    value = facts.tg_attributes.get(tg.get("TargetGroupArn", ""), {}).get(
        "preserve_client_ip.enabled"
    )
    if value is not None:
        return str(value).lower() == "true"
    return tg.get("TargetType") == "instance" or tg.get("Protocol") in _PRESERVED_BY_DEFAULT


def behind_vpc_link(facts: Facts, lb_arn: str) -> bool:
    """Whether a VPC Link (v1 target, or a v2 integration on one of its listeners) reaches it."""
    if any(lb_arn in link.get("targetArns", []) for link in facts.vpc_links.values()):
        return True
    listener_arns = {li.get("ListenerArn") for li in facts.listeners.get(lb_arn, [])}
    return any(
        i.get("ConnectionType") == "VPC_LINK" and i.get("IntegrationUri") in listener_arns
        for items in facts.integrations.values()
        for i in items
    )


def vpc_link_peer(facts: Facts, lb: Shape) -> Peer:
    """Where VPC Link traffic reaches an NLB from: a v2 link's groups, else the VPC."""
    groups = tuple(
        g for link in facts.vpc_links_v2.values() for g in link.get("SecurityGroupIds", [])
    )
    base = vpc_peer(facts, str(lb.get("VpcId", "")), "the VPC Link")
    return Peer(base.label, groups, base.networks)


def region_flag(facts: Facts) -> str:
    """` --region R` when the chain's region is known."""
    return f" --region {facts.region}" if facts.region else ""


def permission_cli(
    facts: Facts, group_id: str, port: int, peer: Peer, *, egress: bool = False
) -> str:
    """The `aws ec2 authorize-security-group-ingress|egress` command admitting `peer` on `port`:
    by group reference when the peer carries a group, else by its networks."""
    verb = "egress" if egress else "ingress"
    if peer.groups:
        source = f"UserIdGroupPairs=[{{GroupId={peer.groups[0]}}}]"
    else:
        cidrs = ",".join(f"{{CidrIp={n}}}" for n in (peer.networks or ()))
        source = f"IpRanges=[{cidrs}]"
    return (
        f"aws ec2 authorize-security-group-{verb} --group-id {group_id}{region_flag(facts)} "
        f"--ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},{source}'"
    )


def traffic_peer(facts: Facts, leg: Leg) -> Peer:
    """Where requests reach the targets from: the load balancer's nodes (an ALB; an NLB behind a
    VPC Link or without client IP preservation), else the clients, which the NLB's group also
    stands for (the VPC for an internal NLB, unknown addresses for an internet-facing one)."""
    lb = leg.lb
    nodes = lb_peer(facts, lb)
    if lb.get("Type") != "network" or not preserves_client_ip(facts, leg.tg):
        return nodes
    if behind_vpc_link(facts, str(lb.get("LoadBalancerArn", ""))):
        return nodes
    if lb.get("Scheme") == "internet-facing":
        return Peer("the NLB's clients", nodes.groups, None)
    clients = vpc_peer(facts, str(lb.get("VpcId", "")), "clients in the VPC (source preserved)")
    return Peer(clients.label, nodes.groups, clients.networks)


def symptom(facts: Facts) -> str:
    """What the caller sees when the targets are unreachable: API Gateway's 500 when an API is in
    front, else connections that hang or are reset."""
    if facts.rest_apis or facts.http_apis:
        return "API Gateway answers 500"
    return "clients' connections hang or are reset"
