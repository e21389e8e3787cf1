"""Network checks on the tasks' routes: tasks exposed to the internet (`public-ip-on-tasks`) and
tasks that cannot reach what starting them needs (`no-route-to-ecr`: the image registry, the
log service, the secret stores, ECS Exec's channel).

AWS rules:
- A subnet routes through its explicit route table, else the VPC's main one (VPC guide, "Route
  tables"); a Fargate task reaches the internet through a NAT gateway route (0.0.0.0/0 -> nat-),
  or through an internet gateway only with a public IP (`assignPublicIp=ENABLED`) (ECS guide,
  "Amazon ECS task networking options for Fargate").
- Without internet access, Fargate needs the interface endpoints `ecr.api` and `ecr.dkr` and the
  `s3` gateway endpoint on the tasks' route tables (image layers live in S3), `logs` for the
  awslogs driver, `secretsmanager`/`ssm` for secrets, `ssmmessages` for ECS Exec; the endpoints'
  security groups must admit 443 from the tasks, and private DNS must be on so that the usual
  service names resolve to them (ECR guide, "Amazon ECR interface VPC endpoints (AWS
  PrivateLink)", https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html: "The
  security group attached to the VPC endpoint must allow incoming connections on port 443 from
  the private subnet of the VPC"; ECS guide, "Amazon ECS interface VPC endpoints"). Images on
  other registries (public.ecr.aws, Docker Hub) are pulled from the internet: no endpoint helps.
- An interface endpoint with private DNS takes the service's name for the whole VPC, so its group
  must admit the tasks even where a NAT route exists.
Seed 001's checklist is this module. Neighbours: `network_chain`, `network_reach`, `network`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from controller.doctor.checks.network_chain import (
    blind,
    permission_cli,
    region_flag,
    task_groups,
    task_peer,
    task_subnets,
)
from controller.doctor.checks.network_reach import default_route, route_table_of, sg_verdict
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, finding

Shape = dict[str, Any]
_PRIVATE_ECR = re.compile(
    r"^\d{12}\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
)
_READS = ("DescribeRouteTables", "DescribeSubnets", "DescribeServices")
_ENDPOINT_READS = (*_READS, "DescribeVpcEndpoints", "DescribeTaskDefinition")


def _cluster_service(service: Shape) -> str:
    cluster = str(service.get("clusterArn", "")).rsplit("/", 1)[-1]
    return f"--cluster {cluster} --service {service.get('serviceName', '')}"


def _update_network_cli(facts: Facts, service: Shape, subnets: list[str]) -> str:
    groups = ",".join(task_groups(service))
    return (
        f"aws ecs update-service {_cluster_service(service)}{region_flag(facts)} "
        f"--network-configuration 'awsvpcConfiguration={{subnets=[{','.join(subnets)}],"
        f"securityGroups=[{groups}],assignPublicIp=DISABLED}}'"
    )


def _to_igw(facts: Facts, subnet_id: str) -> bool | None:
    """Whether the subnet's default route goes to an internet gateway (None: not read)."""
    table = route_table_of(facts, subnet_id)
    if table is None:
        return None
    route = default_route(table)
    return bool(route and str(route.get("GatewayId", "")).startswith("igw-"))


def public_ip_on_tasks(facts: Facts) -> list[Finding]:
    """Tasks get a public IP, or run in a subnet routed to an internet gateway (seeds 000, 001:
    the service must be reachable only through the load balancer)."""
    out = []
    for arn, service in facts.services.items():
        cfg = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
        subnets = task_subnets(service)
        if not cfg or blind(facts, _READS, arn, *subnets):
            continue
        vpc = {facts.subnets.get(s, {}).get("VpcId") for s in subnets}
        private = sorted(
            s
            for s, shape in facts.subnets.items()
            if shape.get("VpcId") in vpc and _to_igw(facts, s) is False
        )
        public = [s for s in subnets if _to_igw(facts, s)]
        keep = [s for s in subnets if s not in public] or private or ["<private-subnet-ids>"]
        if cfg.get("assignPublicIp") == "ENABLED":
            resource, hop, what = arn, "tasks", "the service gives its tasks a public IP"
        elif public:
            resource, hop = public[0], "network"
            what = f"the tasks run in {', '.join(public)}, routed to an internet gateway"
        else:
            continue
        out.append(
            finding(
                "public-ip-on-tasks",
                hop,
                resource,
                what,
                why="tasks in a public subnet (or with a public IP) are addressable from the "
                "internet around the load balancer: one security group mistake exposes them.",
                fix_spec="spec.network.subnetIds / subnetSelector: private subnets (no route to "
                "an internet gateway); psctl always sets assignPublicIp=DISABLED (contract rule 4)",
                fix_cli=_update_network_cli(facts, service, keep),
            )
        )
    return out


def _needs(service: Shape, taskdef: Shape, region: str) -> tuple[list[str], list[str]]:
    """(endpoint service suffixes the tasks need without internet, images only the internet
    serves: other registries, and private ECR registries of another region, since an interface
    endpoint serves its own region's registry)."""
    needs: list[str] = []
    internet: list[str] = []
    for c in taskdef.get("containerDefinitions", []):
        image = str(c.get("image", ""))
        ecr = _PRIVATE_ECR.match(image)
        if ecr and (not region or ecr.group("region") == region):
            needs += ["ecr.api", "ecr.dkr", "s3"]
        elif image:
            internet.append(image)
        if c.get("logConfiguration", {}).get("logDriver") == "awslogs":
            needs.append("logs")
        for secret in c.get("secrets", []):
            source = str(secret.get("valueFrom", ""))
            needs.append("secretsmanager" if ":secretsmanager:" in source else "ssm")
    if service.get("enableExecuteCommand"):
        needs.append("ssmmessages")
    return list(dict.fromkeys(needs)), internet


def _endpoints(facts: Facts, vpc_id: str, suffix: str) -> list[Shape]:
    return [
        e
        for e in facts.vpc_endpoints
        if e.get("VpcId") == vpc_id
        and str(e.get("ServiceName", "")).endswith(f".{suffix}")
        and str(e.get("State", "available")).lower() == "available"
    ]


@dataclass(frozen=True)
class Problem:
    """One thing between the tasks of one subnet and a service they need, with its fix."""

    text: str
    cli: str


def _problems(facts: Facts, service: Shape, subnet: str, needs: list[str]) -> list[Problem]:
    """What stops the tasks in `subnet` from reaching each needed service through endpoints."""
    vpc_id = str(facts.subnets.get(subnet, {}).get("VpcId", ""))
    table_id = str((route_table_of(facts, subnet) or {}).get("RouteTableId", "<route-table-id>"))
    create = (
        f"aws ec2 create-vpc-endpoint --vpc-id {vpc_id}{region_flag(facts)} --service-name "
        f"com.amazonaws.{facts.region or '<region>'}."
    )
    problems = []
    for suffix in needs:
        found = _endpoints(facts, vpc_id, suffix)
        gateway = [
            e
            for e in found
            if e.get("VpcEndpointType") == "Gateway" and table_id in e.get("RouteTableIds", [])
        ]
        interface = [e for e in found if e.get("VpcEndpointType", "Interface") == "Interface"]
        dns = [e for e in interface if e.get("PrivateDnsEnabled")]
        if suffix == "s3" and gateway:
            continue
        if dns:
            problems += _closed(facts, service, dns)
        elif interface:
            endpoint = interface[0]["VpcEndpointId"]
            problems.append(
                Problem(
                    f"the {suffix} endpoint {endpoint} has private DNS off",
                    f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint}"
                    f"{region_flag(facts)} --private-dns-enabled",
                )
            )
        elif suffix == "s3":
            problems.append(
                Problem(
                    f"no s3 gateway endpoint on route table {table_id}",
                    f"{create}s3 --vpc-endpoint-type Gateway --route-table-ids {table_id}",
                )
            )
        else:
            problems.append(
                Problem(
                    f"no {suffix} interface endpoint",
                    f"{create}{suffix} --vpc-endpoint-type Interface --subnet-ids "
                    f"{' '.join(task_subnets(service))} --security-group-ids <endpoint-sg> "
                    "--private-dns-enabled",
                )
            )
    return problems


def _closed(facts: Facts, service: Shape, endpoints: list[Shape]) -> list[Problem]:
    """Endpoints whose groups do not admit 443 from the tasks."""
    tasks = task_peer(facts, service)
    out = []
    for e in endpoints:
        groups = [str(g.get("GroupId")) for g in e.get("Groups", [])]
        if groups and sg_verdict(facts, groups, 443, tasks) == "deny":
            out.append(
                Problem(
                    f"the endpoint {e['VpcEndpointId']}'s group {', '.join(groups)} does not "
                    "admit 443 from the tasks",
                    permission_cli(facts, groups[0], 443, tasks),
                )
            )
    return out


def no_route_to_ecr(facts: Facts) -> list[Finding]:
    """The tasks' subnets have no internet route and lack an endpoint the tasks need, or such an
    endpoint is closed to the tasks or has private DNS off: tasks stop with
    CannotPullContainerError / ResourceInitializationError (seed 001)."""
    out = []
    for arn, service in facts.services.items():
        subnets = task_subnets(service)
        taskdef = facts.task_definitions.get(str(service.get("taskDefinition", "")))
        if not subnets or taskdef is None or blind(facts, _ENDPOINT_READS, arn, *subnets):
            continue
        needs, internet_images = _needs(service, taskdef, facts.region)
        cfg = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
        public_ip = cfg.get("assignPublicIp") == "ENABLED"
        problems: dict[str, list[Problem]] = {}
        for subnet in subnets:
            table = route_table_of(facts, subnet)
            if table is None:
                continue
            route = default_route(table) or {}
            to_igw = str(route.get("GatewayId", "")).startswith("igw-")
            online = str(route.get("NatGatewayId", "")).startswith("nat-") or (public_ip and to_igw)
            if route and not online and not to_igw:
                continue  # a transit gateway, an appliance, peering: where it leads is unknown
            vpc_id = str(facts.subnets.get(subnet, {}).get("VpcId", ""))
            if online:
                found = [
                    e
                    for s in needs
                    for e in _endpoints(facts, vpc_id, s)
                    if e.get("PrivateDnsEnabled")
                ]
                problems_here = _closed(facts, service, found)
            else:
                problems_here = [
                    Problem(
                        f"no NAT route for image {image} (pulled from the internet)",
                        f"aws ec2 create-route --route-table-id {table.get('RouteTableId')}"
                        f"{region_flag(facts)} --destination-cidr-block 0.0.0.0/0 "
                        "--nat-gateway-id <nat-gateway-id>",
                    )
                    for image in internet_images
                ]
                problems_here += _problems(facts, service, subnet, needs)
            if problems_here:
                problems[subnet] = problems_here
        if problems:
            out.append(_ecr_finding(service, problems))
    return out


def _ecr_finding(service: Shape, problems: dict[str, list[Problem]]) -> Finding:
    subnet, first = next(iter(problems.items()))
    detail = "; ".join(dict.fromkeys(p.text for ps in problems.values() for p in ps))
    clis = "\n".join(dict.fromkeys(p.cli for ps in problems.values() for p in ps))
    return finding(
        "no-route-to-ecr",
        "network",
        subnet,
        f"the tasks of {service.get('serviceName', '')} in {', '.join(problems)} cannot reach "
        f"what they need to start: {detail}",
        why="a task in a private subnet pulls its image, sends its logs and reads its secrets "
        "through a NAT gateway or the VPC endpoints; without either it stops with "
        "CannotPullContainerError or ResourceInitializationError and never becomes a target.",
        fix_spec="spec.network.subnetIds / subnetSelector: subnets routed to a NAT gateway, or "
        "add the VPC endpoints to the VPC (no spec field governs them)",
        fix_cli=clis or first[0].cli,
    )
