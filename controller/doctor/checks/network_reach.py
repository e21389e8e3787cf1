"""Reachability as AWS evaluates it: security groups (stateful, allow-only), network ACLs
(stateless, numbered, first match wins) and route tables, over boto3 response shapes.

The one question a network check asks is "does this group (or ACL) let TCP port P through from
that peer?". A `Peer` is where packets come from or go to: the security groups its network
interfaces carry and the IPv4 networks its addresses lie in (a load balancer's node addresses,
or its subnets' CIDRs when AWS does not say which addresses the nodes use). Answers are
"allow", "deny" or "unknown" (a group or subnet that was not read, a rule naming a prefix list):
a check reports only "deny".

AWS rules this module encodes:
- Security groups: a rule admits a packet when protocol and port match and its source is a
  referenced group the sender's interface carries, or a CIDR that contains the sender's address;
  the rules of all groups on an interface are a union; return traffic is always allowed
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html, "Security group
  rules": "you can specify ... a CIDR block, another security group, or a prefix list").
- Network ACLs: "Rules are evaluated in order, starting with the lowest numbered rule ... as
  soon as a rule matches traffic, it's applied regardless of any higher-numbered rule"; the
  final `*` rule (RuleNumber 32767 in DescribeNetworkAcls) denies; ACLs are stateless, so
  return traffic on the ephemeral ports 1024-65535 needs its own rule
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html and "Network ACL rules").
- Route tables: a subnet without an explicit association uses the VPC's main route table
  (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html, "Main route table").
Neighbours: `network_chain` (builds peers from the chain), the `network_*` check modules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any, Literal

from controller.doctor.facts import Facts

Shape = dict[str, Any]
Verdict = Literal["allow", "deny", "unknown"]
EPHEMERAL = (1024, 65535)
"""The return-traffic port range AWS recommends network ACLs admit (NLB and VPC guides)."""
_TCP = ("-1", "tcp", "6")
_DEFAULT_RULE = 32767


@dataclass(frozen=True)
class Peer:
    """Where packets come from (or go to). `networks` None: the addresses are not known."""

    label: str
    groups: tuple[str, ...] = ()
    networks: tuple[IPv4Network, ...] | None = ()

    def describe(self) -> str:
        """The peer as a finding names it: its groups, else its networks."""
        parts = [*self.groups]
        if not parts and self.networks:
            parts = [str(n) for n in self.networks]
        return f"{self.label} ({', '.join(parts)})" if parts else self.label


def network(cidr: str) -> IPv4Network | None:
    """An IPv4 network from a CIDR or an address ("10.0.1.5" is 10.0.1.5/32), None if neither."""
    try:
        return ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        return None


def covered(needed: Iterable[IPv4Network], by: Iterable[IPv4Network]) -> bool:
    """Whether every address of `needed` lies in the union of `by`."""
    union = list(ipaddress.collapse_addresses(list(by)))
    return all(any(n.subnet_of(u) for u in union) for n in needed)


def _port_matches(rule: Shape, port: int) -> bool:
    if str(rule.get("IpProtocol")) not in _TCP:
        return False
    if str(rule.get("IpProtocol")) == "-1":
        return True
    low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
    return bool(low == -1 or low <= port <= high)


def sg_verdict(
    facts: Facts, group_ids: Iterable[str], port: int, peer: Peer, *, egress: bool = False
) -> Verdict:
    """Whether the groups on an interface admit TCP `port` from `peer` (to it, with `egress`)."""
    key = "IpPermissionsEgress" if egress else "IpPermissions"
    cidrs: list[IPv4Network] = []
    unsure = False
    groups = list(group_ids)
    if not groups:
        return "unknown"
    for group_id in groups:
        group = facts.security_groups.get(group_id)
        if group is None:
            unsure = True
            continue
        for rule in group.get(key, []):
            if not _port_matches(rule, port):
                continue
            if any(p.get("GroupId") in peer.groups for p in rule.get("UserIdGroupPairs", [])):
                return "allow"
            for r in rule.get("IpRanges", []):
                n = network(str(r.get("CidrIp", "")))
                if n is not None:
                    cidrs.append(n)
            if rule.get("PrefixListIds"):
                unsure = True
    if peer.networks is not None and peer.networks and covered(peer.networks, cidrs):
        return "allow"
    if unsure or peer.networks is None:
        return "unknown"
    return "deny"


@dataclass(frozen=True)
class AclVerdict:
    """A network ACL's answer: the verdict and the entry that decided a deny (None otherwise)."""

    verdict: Verdict
    entry: Shape | None = None
    denied: IPv4Network | None = None
    """Addresses (part of the peer) that the deciding entry drops."""


def _entry_ports(entry: Shape) -> tuple[int, int]:
    if str(entry.get("Protocol")) == "-1" or "PortRange" not in entry:
        return (0, 65535)
    pr = entry["PortRange"]
    return (int(pr.get("From", 0)), int(pr.get("To", 65535)))


Box = tuple[IPv4Network, int, int]


def _minus(box: Box, cidr: IPv4Network, low: int, high: int) -> list[Box]:
    """`box` without the addresses of `cidr` on ports low..high."""
    net, a, b = box
    if not net.overlaps(cidr) or b < low or a > high:
        return [box]
    inside = net if net.subnet_of(cidr) else cidr
    pieces: list[Box] = [(o, a, b) for o in (net.address_exclude(cidr) if inside is cidr else ())]
    if a < low:
        pieces.append((inside, a, low - 1))
    if b > high:
        pieces.append((inside, high + 1, b))
    return pieces


def acl_verdict(
    acl: Shape, *, egress: bool, ports: tuple[int, int], peer: Iterable[IPv4Network] | None
) -> AclVerdict:
    """Whether `acl` lets TCP on every port of `ports` through from (egress: to) every address
    of `peer`: entries in rule-number order, first match wins, the `*` rule denies."""
    if peer is None:
        return AclVerdict("unknown")
    remaining: list[Box] = [(n, ports[0], ports[1]) for n in peer]
    entries = sorted(
        (e for e in acl.get("Entries", []) if bool(e.get("Egress")) == egress),
        key=lambda e: int(e.get("RuleNumber", _DEFAULT_RULE)),
    )
    for entry in entries:
        if not remaining:
            break
        if str(entry.get("Protocol")) not in _TCP or "CidrBlock" not in entry:
            continue
        cidr = network(str(entry["CidrBlock"]))
        if cidr is None:
            continue
        low, high = _entry_ports(entry)
        hit = [b for b in remaining if b[0].overlaps(cidr) and b[1] <= high and b[2] >= low]
        if not hit:
            continue
        if str(entry.get("RuleAction")) == "deny":
            net = hit[0][0]
            return AclVerdict("deny", entry, net if net.subnet_of(cidr) else cidr)
        remaining = [piece for b in remaining for piece in _minus(b, cidr, low, high)]
    if remaining:
        default = {"RuleNumber": _DEFAULT_RULE, "RuleAction": "deny"}
        return AclVerdict("deny", default, remaining[0][0])
    return AclVerdict("allow")


def acl_of(facts: Facts, subnet_id: str) -> Shape | None:
    """The network ACL associated with a subnet (every subnet has exactly one), None if unread."""
    for acl in facts.network_acls:
        if any(a.get("SubnetId") == subnet_id for a in acl.get("Associations", [])):
            return acl
    return None


def route_table_of(facts: Facts, subnet_id: str) -> Shape | None:
    """The subnet's route table: its explicit association, else its VPC's main table."""
    for table in facts.route_tables:
        if any(a.get("SubnetId") == subnet_id for a in table.get("Associations", [])):
            return table
    vpc_id = facts.subnets.get(subnet_id, {}).get("VpcId")
    for table in facts.route_tables:
        if table.get("VpcId") == vpc_id and any(
            a.get("Main") for a in table.get("Associations", [])
        ):
            return table
    return None


def default_route(table: Shape) -> Shape | None:
    """The table's active IPv4 default route (0.0.0.0/0), None if it has none."""
    routes: list[Shape] = table.get("Routes", [])
    for route in routes:
        if route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("State") != "blackhole":
            return route
    return None
