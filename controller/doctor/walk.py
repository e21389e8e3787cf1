"""Following one chain downstream from a load balancer: listeners, target groups, (ALB,) the ECS
services whose `loadBalancers` name those target groups, their tasks, and the network around all
of them; and upstream from a load balancer to the VPC links that target it.

`Walk` fills one `Facts` and its hops; `Memo` holds the collections one run reads once for all
its chains (usage plans, API keys, domains, VPC links, every ECS service, the VPC's subnets,
groups, route tables, NACLs and endpoints). A read IAM refuses becomes an `Unknown` on the hop
being read (`Walk.guard`), never an error of the run.
Neighbours: `controller.aws.doctor_reads` (the reads), `walk_api` (the API Gateway side),
`discover` (the forms of the command), `facts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from controller.aws.doctor_reads import DoctorReads, ReadDeniedError
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import HOPS, HopRef, Unknown

T = TypeVar("T")
EC2_LAUNCH = "EC2"


class ChainUnreadableError(Exception):
    """The chain cannot be diagnosed at all: its first hop is missing or cannot be read."""


class Memo:
    """Reads shared by every chain of one run: a value, or the refusal, per key."""

    def __init__(self) -> None:
        self._store: dict[tuple[str, ...], Any] = {}

    def get(self, key: tuple[str, ...], read: Callable[[], T]) -> T:
        """`read()` once per key; a refusal is kept and raised again for the next chain."""
        if key not in self._store:
            try:
                self._store[key] = read()
            except ReadDeniedError as exc:
                self._store[key] = exc
        value = self._store[key]
        if isinstance(value, ReadDeniedError):
            raise value
        return value  # type: ignore[no-any-return]


class Walk:
    """One chain being discovered."""

    def __init__(self, reads: DoctorReads, memo: Memo, facts: Facts) -> None:
        self.reads = reads
        self.memo = memo
        self.facts = facts
        self.known_services: list[Shape] | None = None
        """Set when the services are known (a spec's, `--ecs-service`): no cluster scan."""

    # ------------------------------------------------------------------ bookkeeping
    def hop(self, hop: str, resource: str) -> None:
        """Add a hop (once), keeping the contract's order; branches stay in discovery order."""
        ref = HopRef(hop, resource)
        if ref not in self.facts.hops:
            self.facts.hops.append(ref)
            self.facts.hops.sort(key=lambda h: HOPS.index(h.hop))

    @contextmanager
    def guard(self, hop: str, resource: str) -> Iterator[None]:
        """A refused read inside becomes an `Unknown` on `hop` (the rest of the walk goes on)."""
        try:
            yield
        except ReadDeniedError as exc:
            self.facts.unknown.append(Unknown(hop, resource, exc.call, exc.permission, exc.message))

    # ------------------------------------------------------------------ load balancers
    def load_balancer(self, lb: Shape) -> None:
        """The load balancer, its attributes, listeners, target groups and what they target."""
        arn = lb["LoadBalancerArn"]
        if arn in self.facts.load_balancers:
            return
        kind = "alb" if lb.get("Type") == "application" else "nlb"
        self.facts.load_balancers[arn] = lb
        self.hop(kind, arn)
        with self.guard(kind, arn):
            self.facts.lb_attributes[arn] = self.reads.lb_attributes(arn)
        with self.guard(f"{kind}-listener", arn):
            listeners = self.reads.listeners(arn)
            self.facts.listeners[arn] = listeners
            for listener in listeners:
                self.hop(f"{kind}-listener", listener["ListenerArn"])
                if kind == "alb":
                    with self.guard("alb-listener", listener["ListenerArn"]):
                        self.facts.rules[listener["ListenerArn"]] = self.reads.rules(
                            listener["ListenerArn"]
                        )
        with self.guard(f"{kind}-target-group", arn):
            for tg in self.every_target_group():
                if arn in tg.get("LoadBalancerArns", []):
                    self.target_group(tg, kind)

    def target_group(self, tg: Shape, kind: str) -> None:
        """A target group, its attributes and health; an `alb` one leads to its ALB."""
        arn = tg["TargetGroupArn"]
        if arn in self.facts.target_groups:
            return
        hop = f"{kind}-target-group"
        self.facts.target_groups[arn] = tg
        self.hop(hop, arn)
        with self.guard(hop, arn):
            self.facts.tg_attributes[arn] = self.reads.tg_attributes(arn)
        with self.guard(hop, arn):
            self.facts.target_health[arn] = self.reads.target_health(arn)
        if tg.get("TargetType") == "alb":
            albs = [
                d["Target"]["Id"]
                for d in self.facts.target_health.get(arn, [])
                if d.get("Target", {}).get("Id", "").startswith("arn:")
            ]
            with self.guard("alb", arn):
                for alb in self.load_balancers_by_arn(albs):
                    self.load_balancer(alb)

    def upstream_vpc_links(self, nlb_arn: str) -> None:
        """The REST VPC links (v1) whose targets name this NLB."""
        with self.guard("vpc-link", nlb_arn):
            for link in self.memo.get(("vpc_links",), self.reads.vpc_links):
                if nlb_arn in link.get("targetArns", []):
                    self.facts.vpc_links[link["id"]] = link
                    self.hop("vpc-link", link["id"])

    def nlbs_in_front_of(self, alb_arn: str) -> list[Shape]:
        """The NLBs whose `alb` target groups register this ALB (field report 001)."""
        found: list[Shape] = []
        with self.guard("nlb-target-group", alb_arn):
            for tg in self.every_target_group():
                if tg.get("TargetType") != "alb" or not tg.get("LoadBalancerArns"):
                    continue
                health = self.reads.target_health(tg["TargetGroupArn"])
                if any(d.get("Target", {}).get("Id") == alb_arn for d in health):
                    found += self.load_balancers_by_arn(tg["LoadBalancerArns"])
        return found

    def every_target_group(self) -> list[Shape]:
        """Every target group of the account, one paged list per run (shared with the
        handlers' list through the read snapshot)."""
        return self.memo.get(("target_groups",), self.reads.target_groups)

    def load_balancers_by_arn(self, arns: list[str]) -> list[Shape]:
        """These load balancers, from the run's one list of every load balancer (a newer one
        than the list is described by ARN); one that does not exist is left out."""
        if not arns:
            return []
        every = self.memo.get(("load_balancers",), self.reads.load_balancers)
        found = {lb["LoadBalancerArn"]: lb for lb in every if lb["LoadBalancerArn"] in arns}
        for arn in arns:
            if arn not in found:
                found.update(
                    {lb["LoadBalancerArn"]: lb for lb in self.reads.load_balancers(arns=[arn])}
                )
        return [found[a] for a in arns if a in found]

    # ------------------------------------------------------------------ ECS
    def services(self) -> None:
        """The ECS services whose `loadBalancers` name one of the chain's (non-alb) target
        groups, with their task definitions, stopped tasks and container instances."""
        tgs = {a for a, tg in self.facts.target_groups.items() if tg.get("TargetType") != "alb"}
        if not tgs:
            return
        candidates = self.known_services
        if candidates is None:
            with self.guard("service", ", ".join(sorted(tgs))):
                candidates = self.memo.get(("services",), self._every_service)
        for svc in candidates or []:
            named = {lb.get("targetGroupArn") for lb in svc.get("loadBalancers", [])}
            if named & tgs or self.known_services is not None:
                self.service(svc)

    def _every_service(self) -> list[Shape]:
        out: list[Shape] = []
        for cluster in self.reads.clusters():
            arns = self.reads.service_arns(cluster)
            out += [s for s in self.reads.services(cluster, arns) if s.get("status") == "ACTIVE"]
        return out

    def service(self, svc: Shape) -> None:
        """One service and what runs it."""
        arn = svc["serviceArn"]
        if arn in self.facts.services:
            return
        self.facts.services[arn] = svc
        self.hop("service", arn)
        cluster = svc.get("clusterArn", "")
        td_arn = svc.get("taskDefinition", "")
        self.hop("tasks", td_arn)
        with self.guard("tasks", td_arn):
            td = self.reads.task_definition(td_arn) if td_arn else None
            if td is not None:
                self.facts.task_definitions[td_arn] = td
        with self.guard("tasks", arn):
            stopped = self.reads.stopped_task_arns(cluster, svc["serviceName"])
            self.facts.stopped_tasks[arn] = self.reads.tasks(cluster, stopped[:100])
        if self._on_ec2(svc, self.facts.task_definitions.get(td_arn)):
            self._container_instances(cluster)

    @staticmethod
    def _on_ec2(svc: Shape, td: Shape | None) -> bool:
        if svc.get("launchType") == EC2_LAUNCH:
            return True
        if svc.get("launchType") or svc.get("capacityProviderStrategy"):
            return False
        return td is not None and td.get("networkMode") in ("bridge", "host")

    def _container_instances(self, cluster: str) -> None:
        if cluster in self.facts.container_instances:
            return
        with self.guard("tasks", cluster):
            items = self.reads.container_instances(cluster)
            self.facts.container_instances[cluster] = items
            ids = [i["ec2InstanceId"] for i in items if i.get("ec2InstanceId")]
            for inst in self.reads.instances(ids) if ids else []:
                self.facts.instances[inst["InstanceId"]] = inst

    # ------------------------------------------------------------------ network
    def network(self, extra_vpcs: tuple[str, ...] = ()) -> None:
        """The VPC(s) of the chain's load balancers and services, read as whole collections."""
        vpcs = {lb.get("VpcId") for lb in self.facts.load_balancers.values()}
        vpcs |= {tg.get("VpcId") for tg in self.facts.target_groups.values()}
        vpcs |= set(extra_vpcs)
        ids = sorted(v for v in vpcs if v)
        if not ids:
            return
        for vpc_id in ids:
            self.hop("network", vpc_id)
        key = tuple(ids)
        reads = self.reads
        facts = self.facts
        steps: list[tuple[str, Callable[[], None]]] = [
            ("vpcs", lambda: facts.vpcs.update({v["VpcId"]: v for v in reads.vpcs(ids)})),
            (
                "subnets",
                lambda: facts.subnets.update(
                    {
                        s["SubnetId"]: s
                        for s in self.memo.get(("subnets", *key), lambda: reads.subnets(ids))
                    }
                ),
            ),
            (
                "groups",
                lambda: facts.security_groups.update(
                    {
                        g["GroupId"]: g
                        for g in self.memo.get(("sgs", *key), lambda: reads.security_groups(ids))
                    }
                ),
            ),
            (
                "routes",
                lambda: facts.route_tables.extend(
                    self.memo.get(("rts", *key), lambda: reads.route_tables(ids))
                ),
            ),
            (
                "nacls",
                lambda: facts.network_acls.extend(
                    self.memo.get(("nacls", *key), lambda: reads.network_acls(ids))
                ),
            ),
            (
                "endpoints",
                lambda: facts.vpc_endpoints.extend(
                    self.memo.get(("vpces", *key), lambda: reads.vpc_endpoints(ids))
                ),
            ),
        ]
        for _name, step in steps:
            with self.guard("network", ids[0]):
                step()
        self._addresses()

    def _addresses(self) -> None:
        """The Elastic IPs the chain's load balancers name (read only when one does)."""
        named = {
            a["AllocationId"]
            for lb in self.facts.load_balancers.values()
            for az in lb.get("AvailabilityZones", [])
            for a in az.get("LoadBalancerAddresses", [])
            if a.get("AllocationId")
        }
        if not named:
            return
        with self.guard("nlb", "addresses"):
            every = self.memo.get(("addresses",), self.reads.addresses)
            self.facts.addresses = [a for a in every if a.get("AllocationId") in named]
