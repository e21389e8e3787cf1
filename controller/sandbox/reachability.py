"""Network reachability as AWS decides it, read from moto's EC2 backend: the sandbox's one model.

Two questions the sandbox must answer as AWS would, so that the traps of the field reports show:
- `admits`: does a set of security groups let TCP on a port in (or out) from a source given as
  security groups and/or networks? A rule admits a source group when it references it ("you can
  specify a security group as the source [...] allows instances associated with the source
  security group to access instances associated with this security group",
  https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html), and a network
  when its CIDR contains the whole network (the sandbox knows a load balancer node only by its
  subnet, so a CIDR covering part of that subnet does not count). Prefix-list rules are not
  modelled (they admit nothing here). Security groups are stateful: replies need no rule.
- `pull_failure`: can a task reach the registry of its image? "The route tables associated to
  the subnets that your task is created in must allow your Amazon ECS infrastructure to reach
  the repository endpoint. The endpoint can be reached through an internet gateway, NAT
  gateway, or VPC endpoints", and with an internet gateway "confirm that the task has a public IP
  assigned to it" (https://repost.aws/knowledge-center/ecs-fargate-pull-container-error). VPC
  endpoints serve only the private ECR of their own region: `ecr.api` and `ecr.dkr` interface
  endpoints with private DNS whose groups admit 443 from the task, plus the `s3` gateway
  endpoint on the subnet's route table (image layers live in S3). A default route to anything
  else (a NAT instance, a transit gateway, a peering) is taken to reach the internet: the
  sandbox cannot see beyond it. The failure reads as AWS's "Connection timed out" case:
  "CannotPullContainerError: API error (500): Get https://111122223333.dkr.ecr.us-east-1.
  amazonaws.com/v2/: net/http: request canceled while waiting for connection"
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html).
Network ACLs are not modelled (the seeded VPC keeps its default ACL, which allows everything).
Neighbours: `ecs_agent` (pull failures), `fidelity.elbv2_target_health` (health checks).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

ANYWHERE = "0.0.0.0/0"
HTTPS = 443
DOCKER_HUB = "registry-1.docker.io"

Network = ipaddress.IPv4Network


def admits(
    ec2: Any,
    group_ids: Iterable[str],
    port: int,
    *,
    from_groups: Iterable[str] = (),
    from_networks: Iterable[Network] = (),
    egress: bool = False,
) -> bool:
    """Whether `group_ids` admit TCP `port` from every source: each network in `from_networks`
    must be admitted (by a CIDR containing it, or by a rule referencing one of `from_groups`),
    and with no networks, one of `from_groups` must be. Egress rules when `egress`."""
    sources = set(from_groups)
    rules = [
        rule
        for group in _groups(ec2, group_ids)
        for rule in (group.egress_rules if egress else group.ingress_rules)
        if _covers_tcp(rule, port)
    ]
    by_group = any((r.source_group or {}).get("GroupId") in sources for r in rules)
    networks = list(from_networks)
    if not networks:
        return by_group
    if by_group:
        return True
    cidrs = [
        ipaddress.IPv4Network(cidr, strict=False)
        for rule in rules
        if (cidr := rule.ip_range.get("CidrIp"))
    ]
    return all(any(n.subnet_of(c) for c in cidrs) for n in networks)


def subnet_network(ec2: Any, subnet_id: str) -> Network | None:
    """The subnet's IPv4 CIDR, None if the subnet is gone."""
    try:
        return ipaddress.IPv4Network(ec2.get_subnet(subnet_id).cidr_block)
    except Exception:  # InvalidSubnetID.NotFound
        return None


def route_table_of(ec2: Any, subnet_id: str, vpc_id: str) -> Any | None:
    """The subnet's route table: its explicit association, else its VPC's main table."""
    main = None
    for table in list(ec2.route_tables.values()):
        if subnet_id in table._associations.values():
            return table
        if table.vpc_id == vpc_id and table.main_association_id is not None:
            main = table
    return main


def internet_route(ec2: Any, table: Any | None, public_ip: bool) -> bool:
    """Whether `table` sends 0.0.0.0/0 somewhere that reaches the internet for this interface:
    a NAT gateway that is available in a subnet routed to an internet gateway, an internet
    gateway when the interface has a public IP, or any other target (not modelled)."""
    route = _default_route(table)
    if route is None:
        return False
    if route.nat_gateway is not None:
        nat = route.nat_gateway
        if getattr(nat, "state", "available") != "available":
            return False
        if getattr(nat, "connectivity_type", "public") == "private":
            return False
        nat_subnet = ec2.get_subnet(nat.subnet_id)
        nat_route = _default_route(route_table_of(ec2, nat.subnet_id, nat_subnet.vpc_id))
        return nat_route is not None and _is_internet_gateway(nat_route)
    if _is_internet_gateway(route):
        return public_ip
    return route.gateway is not None or any(
        getattr(route, attr, None) is not None
        for attr in ("instance", "transit_gateway", "interface", "vpc_pcx", "vpc_endpoint_id")
    )


def registry_of(image: str) -> str:
    """The registry host of an image reference (Docker's rule: a first component with a dot or
    a colon, or `localhost`, is a host; anything else is Docker Hub)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def pull_failure(
    ec2: Any,
    region: str,
    *,
    subnet_id: str,
    public_ip: bool,
    images: Iterable[str],
    groups: Iterable[str] = (),
    ip: str = "",
) -> str | None:
    """None when every image can be pulled from `subnet_id`, else the stopped reason."""
    subnet = ec2.get_subnet(subnet_id)
    table = route_table_of(ec2, subnet_id, subnet.vpc_id)
    if internet_route(ec2, table, public_ip):
        return None
    for image in images:
        registry = registry_of(image)
        if not _through_endpoints(ec2, region, subnet.vpc_id, table, registry, groups, ip):
            return (
                f"CannotPullContainerError: API error (500): Get https://{registry}/v2/:"
                " net/http: request canceled while waiting for connection"
            )
    return None


def _through_endpoints(
    ec2: Any,
    region: str,
    vpc_id: str,
    table: Any | None,
    registry: str,
    groups: Iterable[str],
    ip: str,
) -> bool:
    """Whether the region's private ECR is reachable through the VPC's endpoints."""
    if not registry.endswith(f".dkr.ecr.{region}.amazonaws.com"):
        return False  # public.ecr.aws, Docker Hub, another region: no endpoint serves them
    endpoints = [
        e
        for e in list(ec2.vpc_end_points.values())
        if e.vpc_id == vpc_id and getattr(e, "state", "available") == "available"
    ]
    prefix = f"com.amazonaws.{region}."
    src = list(groups)
    nets = [ipaddress.IPv4Network(f"{ip}/32")] if ip else []

    def interface(name: str) -> bool:
        return any(
            e.service_name == prefix + name
            and (e.vpc_endpoint_type or "").lower() == "interface"
            and e.private_dns_enabled in (True, "true", "True")
            and admits(ec2, e.security_group_ids, HTTPS, from_groups=src, from_networks=nets)
            for e in endpoints
        )

    s3 = table is not None and any(
        e.service_name == prefix + "s3"
        and (e.vpc_endpoint_type or "").lower() == "gateway"
        and table.id in (e.route_table_ids or [])
        for e in endpoints
    )
    return interface("ecr.api") and interface("ecr.dkr") and s3


def _default_route(table: Any | None) -> Any | None:
    if table is None:
        return None
    return next((r for r in table.routes if r.destination_cidr_block == ANYWHERE), None)


def _is_internet_gateway(route: Any) -> bool:
    gateway = route.gateway
    return gateway is not None and str(getattr(gateway, "id", "")).startswith("igw-")


def _groups(ec2: Any, group_ids: Iterable[str]) -> list[Any]:
    found = []
    for group_id in group_ids:
        group = ec2.get_security_group_from_id(group_id)
        if group is not None:
            found.append(group)
    return found


def _covers_tcp(rule: Any, port: int) -> bool:
    if rule.ip_protocol == "-1":
        return True
    if rule.ip_protocol != "tcp" or rule.from_port is None or rule.to_port is None:
        return False
    return int(rule.from_port) <= port <= int(rule.to_port)
