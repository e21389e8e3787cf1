"""Find each chain to diagnose and read everything its checks need into a `Facts`, in request
order, from any of the command's starting points (contract, "Diagnosis: psctl doctor"):

- a spec (`-f`): the chain the spec owns, found exactly as `psctl plan`/`status` find it (one dry
  pass of the engine: every read, no write), then read as any chain from its API (or its NLB);
  `Facts.owned` is True, so fixes are spec changes;
- `--rest-api ID [--stage NAME]`, `--http-api ID`: downstream from the API;
- `--load-balancer ARN|NAME`: upstream to the VPC links that target it (an ALB: to the NLB whose
  `alb` target group registers it) and downstream;
- `--ecs-service CLUSTER/SERVICE`: up through its target groups to the load balancer(s), the
  VPC links and the REST APIs whose integrations name them, and down again to its tasks.
Several stages, integrations or target groups are several branches (several hops of one kind).
A chain whose first hop is missing or unreadable raises `ChainUnreadableError` with one line
naming the call and the permission; anything else refused is an `Unknown` on its hop.
`Facts.calls` holds the AWS calls made for that chain (collections shared by the chains of one
run are read once, by the first chain that needs them).
Neighbours: `walk` and `walk_api` (the walking), `controller.aws.doctor_reads` (the reads),
`controller.reconcile.runner` (the spec's dry pass), `controller.cli_doctor` (the command).
"""

from __future__ import annotations

from collections.abc import Callable

from controller.aws.doctor_reads import DoctorReads, ReadDeniedError
from controller.aws.session import AwsContext
from controller.doctor.facts import Facts, Shape
from controller.doctor.walk import ChainUnreadableError, Memo, Walk
from controller.doctor.walk_api import Owned, http_api, private_endpoints, rest_api
from controller.errors import ControllerError
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler
from controller.spec.models import PrivateService

__all__ = ["ChainUnreadableError", "Discovery"]

LB_KINDS = ("network", "application")
NLB_PROTOCOLS = ("TCP", "UDP", "TLS", "TCP_UDP")
MAX_UPSTREAM_APIS = 25
"""`--ecs-service` reads the methods of at most this many REST APIs to find those in front."""


def _root(what: str, read: Callable[[], Shape | None]) -> Shape:
    """The chain's first hop: missing or refused is a `ChainUnreadableError`, one line."""
    try:
        got = read()
    except ReadDeniedError as exc:
        msg = f"cannot read {what}: {exc.call} was denied (add {exc.permission})"
        raise ChainUnreadableError(msg) from exc
    if got is None:
        raise ChainUnreadableError(f"{what} not found")
    return got


class Discovery:
    """Discovers chains over one AWS context; collections are read once for all of them."""

    def __init__(self, aws: AwsContext) -> None:
        self.aws = aws
        self._memos: dict[str, Memo] = {}

    def _walk(self, aws: AwsContext, target: str, *, owned: bool = False) -> Walk:
        reads = DoctorReads(aws)
        memo = self._memos.setdefault(aws.region, Memo())
        return Walk(reads, memo, Facts(target=target, owned=owned, region=aws.region))

    def _finish(self, walk: Walk, before: dict[str, int]) -> Facts:
        walk.services()
        walk.network()
        for api in walk.facts.rest_apis.values():
            private_endpoints(walk, api)
        after = walk.reads.calls()
        for call, count in after.items():
            if count - before.get(call, 0) > 0:
                walk.facts.calls[call] = count - before.get(call, 0)
        return walk.facts

    def _downstream(self, walk: Walk, lb_arns: list[str]) -> None:
        for arn in lb_arns:
            with walk.guard("nlb", arn):
                for lb in walk.load_balancers_by_arn([arn]):
                    walk.load_balancer(lb)

    # ------------------------------------------------------------------ the forms
    def rest_api(self, api_id: str, stage: str | None = None) -> Facts:
        """`--rest-api ID [--stage NAME]`."""
        walk = self._walk(self.aws, f"rest-api/{api_id}")
        before = dict(walk.reads.calls())
        api = _root(f"REST API {api_id}", lambda: walk.reads.rest_api(api_id))
        self._downstream(walk, rest_api(walk, api, stage))
        return self._finish(walk, before)

    def http_api(self, api_id: str) -> Facts:
        """`--http-api ID`."""
        walk = self._walk(self.aws, f"http-api/{api_id}")
        before = dict(walk.reads.calls())
        api = _root(f"HTTP API {api_id}", lambda: walk.reads.http_api(api_id))
        self._downstream(walk, http_api(walk, api))
        return self._finish(walk, before)

    def load_balancer(self, ref: str) -> Facts:
        """`--load-balancer ARN|NAME`: upstream VPC links, then downstream."""
        is_arn = ref.startswith("arn:")
        if is_arn and not any(f"loadbalancer/{k}/" in ref for k in ("net", "app")):
            msg = (
                f"{ref} is not a network or application load balancer (gateway or Classic): "
                "doctor follows NLB and ALB chains"
            )
            raise ChainUnreadableError(msg)
        name = ref.split("/")[-2] if is_arn else ref
        walk = self._walk(self.aws, f"load-balancer/{name}")
        before = dict(walk.reads.calls())

        def read() -> Shape | None:
            found = walk.reads.load_balancers(**({"arns": [ref]} if is_arn else {"names": [ref]}))
            return found[0] if found else None

        lb = _root(f"load balancer {ref}", read)
        if lb.get("Type") not in LB_KINDS:
            msg = f"{ref} is a {lb.get('Type')} load balancer: doctor follows NLB and ALB chains"
            raise ChainUnreadableError(msg)
        self._from_load_balancers(walk, [lb])
        return self._finish(walk, before)

    def _from_load_balancers(self, walk: Walk, lbs: list[Shape]) -> None:
        """Climb from ALBs to the NLBs in front of them, up to their VPC links, then walk down."""
        tops: list[Shape] = []
        for lb in lbs:
            fronts = (
                walk.nlbs_in_front_of(lb["LoadBalancerArn"]) if lb["Type"] == "application" else []
            )
            for top in fronts or [lb]:
                if top["LoadBalancerArn"] not in [t["LoadBalancerArn"] for t in tops]:
                    tops.append(top)
        for top in tops:
            if top["Type"] == "network":
                walk.upstream_vpc_links(top["LoadBalancerArn"])
            walk.load_balancer(top)

    def ecs_service(self, ref: str) -> Facts:
        """`--ecs-service CLUSTER/SERVICE` (or the service's ARN)."""
        parts = ref.rsplit(":service/", maxsplit=1)[-1].split("/")
        if len(parts) != 2 or not all(parts):
            raise ChainUnreadableError(f"--ecs-service takes CLUSTER/SERVICE, not {ref!r}")
        cluster, name = parts
        walk = self._walk(self.aws, f"ecs-service/{cluster}/{name}")
        before = dict(walk.reads.calls())

        def read() -> Shape | None:
            found = [s for s in walk.reads.services(cluster, [name]) if s.get("status") == "ACTIVE"]
            return found[0] if found else None

        svc = _root(f"ECS service {name} in cluster {cluster}", read)
        walk.known_services = [svc]
        walk.service(svc)
        tg_arns = sorted(
            {b["targetGroupArn"] for b in svc.get("loadBalancers", []) if b.get("targetGroupArn")}
        )
        with walk.guard("service", svc["serviceArn"]):
            tgs = [t for t in walk.every_target_group() if t["TargetGroupArn"] in tg_arns]
            lb_arns = sorted({a for tg in tgs for a in tg.get("LoadBalancerArns", [])})
            lbs = walk.load_balancers_by_arn(lb_arns)
            self._from_load_balancers(walk, lbs)
            for tg in tgs:  # a group no load balancer routes to is still the service's hop
                if not tg.get("LoadBalancerArns"):
                    walk.target_group(tg, "nlb" if tg.get("Protocol") in NLB_PROTOCOLS else "alb")
        self._upstream_apis(walk)
        return self._finish(walk, before)

    def _upstream_apis(self, walk: Walk) -> None:
        """The REST APIs whose integrations name one of the chain's VPC links (v1) by id (not
        through a stage variable), found by reading each API's methods: in an account of at
        most `MAX_UPSTREAM_APIS` REST APIs, else none are looked for (diagnose from the API
        with `--rest-api`)."""
        links = set(walk.facts.vpc_links)
        if not links:
            return
        with walk.guard("api", ", ".join(sorted(links))):
            apis = walk.memo.get(("rest_apis",), walk.reads.rest_apis)
            if len(apis) > MAX_UPSTREAM_APIS:
                return
            for api in apis:
                resources = walk.reads.resources(api["id"])
                named = {
                    str((m.get("methodIntegration") or {}).get("connectionId", ""))
                    for res in resources
                    for m in (res.get("resourceMethods") or {}).values()
                }
                if named & links:
                    walk.facts.resources[api["id"]] = resources
                    rest_api(walk, api, None)

    def spec(self, ps: PrivateService) -> Facts:
        """The chain `ps` owns, found by the engine's dry pass (as plan and status find it)."""
        try:
            rec = Reconciler(ps, self.aws)
            before = {f"{s}:{op}": n for (s, op), n in rec.aws.counter.snapshot().items()}
            outcome = rec.plan()
        except ControllerError as exc:
            raise ChainUnreadableError(f"{ps.owner}: {exc}") from exc
        out = outcome.outputs
        api_key = "http-api" if ps.spec.api and ps.spec.api.type == "HTTP" else "rest-api"
        needed = [api_key, "nlb"] if ps.spec.api else ["nlb"]
        missing = [
            k
            for k in needed
            if k not in out
            or any(c.key == k and c.action is Action.CREATE for c in outcome.changes)
        ]
        failed = [c for c in outcome.errors if c.key in needed]
        if failed:  # e.g. refused: the engine's reads are the handlers', which raise
            msg = f"{ps.owner}: cannot read {failed[0].key}: {failed[0].message}"
            raise ChainUnreadableError(" ".join(msg.split()))
        if missing:
            msg = (
                f"{ps.owner}: the chain does not exist yet (no {', '.join(missing)}): "
                "run psctl apply first"
            )
            raise ChainUnreadableError(msg)
        walk = self._walk(rec.aws, ps.owner, owned=True)
        walk.facts.owned_resources = {
            key: str(v.get("arn") or v.get("id"))
            for key, v in out.items()
            if v.get("arn") or v.get("id")
        }
        owned = Owned(
            usage_plans=[v["id"] for k, v in out.items() if k.startswith("usage-plan/")],
            api_keys=[v["id"] for k, v in out.items() if k.startswith("api-key/")],
            domains=[out["domain-name"]["id"]] if "domain-name" in out else [],
        )
        service = out.get("ecs-service", {})
        cluster = out.get("ecs-cluster", {}).get("arn") or ps.spec.service.cluster
        if service.get("arn"):
            with walk.guard("service", service["arn"]):
                walk.known_services = walk.reads.services(cluster, [service["arn"]])
        if api_key == "rest-api" and "rest-api" in out:
            api_id = out["rest-api"]["id"]
            api = _root(f"REST API {api_id}", lambda: walk.reads.rest_api(api_id))
            stage = out.get("stage", {}).get("name")
            self._downstream(walk, rest_api(walk, api, stage, owned))
        elif "http-api" in out:
            api_id = out["http-api"]["id"]
            api = _root(f"HTTP API {api_id}", lambda: walk.reads.http_api(api_id))
            self._downstream(walk, http_api(walk, api, owned))
        else:
            self._downstream(walk, [out["nlb"]["arn"]])
        return self._finish(walk, before)
