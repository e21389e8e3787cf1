"""Cross-field rules of the PrivateService contract: specs that cannot work, refused offline.

`check(ps)` runs every rule on a structurally valid `PrivateService` (the models in `models`
already enforce single-field limits) and returns one `Problem` per broken rule, each naming the
field from the document root (`spec.container.memory`) with the value and the fix (contract
rule 8). Warnings (contract rule 7) do not make a spec invalid. Neighbours: `models` (the
structure), `loader` (adds file and line to each problem), `names` (field paths, used to check
`drift.ignoreFields`, and the AWS names, which fit by construction).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from controller.spec import limits
from controller.spec.models import PrivateService
from controller.spec.names import unknown_spec_path

Severity = Literal["error", "warning"]
DEFAULT_STAGE = "$default"
"""The HTTP API stage served from the base of the invoke URL, with no stage prefix
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html)."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (a dotted path from the document root), what, and how bad."""

    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{self.path}: {self.message}" if self.path else f"{prefix}{self.message}"


# Fargate task sizes: cpu units -> valid memory (MiB).
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


# -- the rules --------------------------------------------------------------------------------

Rule = Callable[[PrivateService], Iterator[Problem]]


def _exactly_one(
    where: str, first: tuple[str, object], second: tuple[str, object], what: str
) -> Iterator[Problem]:
    (a, a_value), (b, b_value) = first, second
    if a_value is not None and b_value is not None:
        yield Problem(f"{where}.{b}", f"both {a} and {b} are set: keep exactly one of them")
    elif a_value is None and b_value is None:
        yield Problem(where, f"one of {a} or {b} is required ({what})")


def _network(ps: PrivateService) -> Iterator[Problem]:
    net, where = ps.spec.network, "spec.network"
    yield from _exactly_one(
        where, ("vpcId", net.vpc_id), ("vpcSelector", net.vpc_selector), "the VPC"
    )
    yield from _exactly_one(
        where,
        ("subnetIds", net.subnet_ids),
        ("subnetSelector", net.subnet_selector),
        "the task subnets",
    )
    for name, selector in (
        ("vpcSelector", net.vpc_selector),
        ("subnetSelector", net.subnet_selector),
        ("publicSubnetSelector", net.public_subnet_selector),
    ):
        if selector == {}:
            yield Problem(f"{where}.{name}", "an empty selector matches everything: name a tag")
    if net.subnet_ids == []:
        yield Problem(f"{where}.subnetIds", "is empty: list at least one private subnet")
    public = ps.spec.load_balancer.scheme == "internet-facing"
    has_ids, has_selector = bool(net.public_subnet_ids), net.public_subnet_selector is not None
    if has_ids and has_selector:
        yield Problem(
            f"{where}.publicSubnetSelector",
            "both publicSubnetIds and publicSubnetSelector are set: keep at most one of them",
        )
    elif public and not (has_ids or has_selector):
        yield Problem(
            where,
            "an internet-facing load balancer needs publicSubnetIds or publicSubnetSelector",
        )
    elif not public and (has_ids or has_selector):
        name = "publicSubnetIds" if has_ids else "publicSubnetSelector"
        yield Problem(
            f"{where}.{name}",
            "is only for loadBalancer.scheme internet-facing (scheme is internal): remove it",
        )


def _load_balancer(ps: PrivateService) -> Iterator[Problem]:
    lb, where = ps.spec.load_balancer, "spec.loadBalancer"
    if lb.scheme == "internet-facing" and ps.spec.api is not None:
        yield Problem(
            f"{where}.scheme",
            "internet-facing is only for a service without `api`: API Gateway reaches the NLB "
            "through a VPC Link, which needs scheme internal",
        )
    if lb.static_ips and lb.scheme != "internet-facing":
        yield Problem(
            f"{where}.staticIps",
            "true needs scheme internet-facing (Elastic IPs are public): set staticIps false",
        )
    listener = lb.listener
    if listener.protocol == "TLS" and listener.certificate_arn is None:
        yield Problem(
            f"{where}.listener.certificateArn", "listener protocol TLS needs an ACM certificateArn"
        )
    elif listener.protocol == "TCP" and listener.certificate_arn is not None:
        yield Problem(
            f"{where}.listener.certificateArn",
            "is set but listener protocol is TCP: set protocol TLS or remove certificateArn",
        )
    if lb.alb is not None:
        seen: set[int] = set()
        for i, rule in enumerate(lb.alb.rules):
            if rule.priority in seen:
                yield Problem(
                    f"{where}.alb.rules[{i}].priority",
                    f"{rule.priority} is used by an earlier rule: ALB rule priorities are unique",
                )
            seen.add(rule.priority)


def _launch_type(ps: PrivateService) -> Iterator[Problem]:
    container, service = ps.spec.container, ps.spec.service
    if service.launch_type == "EC2":
        if container.host_port is None:
            yield Problem(
                "spec.container.hostPort",
                "launchType EC2 needs a fixed hostPort: an NLB has no dynamic port mapping "
                "(seed 004)",
            )
        return
    if container.cpu not in FARGATE_MEMORY:
        sizes = ", ".join(str(c) for c in FARGATE_MEMORY)
        yield Problem("spec.container.cpu", f"{container.cpu} is not a Fargate cpu size ({sizes})")
    elif container.memory not in (valid := FARGATE_MEMORY[container.cpu]):
        step = valid[1] - valid[0]
        use = "512, 1024 or 2048" if container.cpu == 256 else f"a multiple of {step} in that range"
        yield Problem(
            "spec.container.memory",
            f"{container.memory} is not valid for cpu {container.cpu} on Fargate "
            f"({valid[0]}..{valid[-1]}): use {use}",
        )
    if container.host_port is not None:
        yield Problem(
            "spec.container.hostPort",
            f"{container.host_port} is only for launchType EC2: Fargate tasks are reached on "
            "container.port; remove hostPort",
        )
    if service.instance_security_group_ids:
        yield Problem(
            "spec.service.instanceSecurityGroupIds",
            "is only for launchType EC2 (container instances): remove it",
        )


def _service(ps: PrivateService) -> Iterator[Problem]:
    service, port = ps.spec.service, ps.spec.container.port
    if service.service_connect is not None and service.service_connect.port != port:
        yield Problem(
            "spec.service.serviceConnect.port",
            f"{service.service_connect.port} is not container.port {port}: Service Connect "
            "publishes the container's one port mapping",
        )
    low, high = (
        service.deployment.minimum_healthy_percent,
        service.deployment.maximum_percent,
    )
    if low > high:
        yield Problem(
            "spec.service.deployment.minimumHealthyPercent",
            f"{low} is above maximumPercent {high}",
        )
    elif low == high and service.desired_count > 0:
        yield Problem(
            "spec.service.deployment.maximumPercent",
            f"{high} equals minimumHealthyPercent: a deployment can neither start nor stop a task",
            "warning",
        )


def _api(ps: PrivateService) -> Iterator[Problem]:
    api, where = ps.spec.api, "spec.api"
    if api is None:
        return
    if api.type == "HTTP":
        if api.usage_plans:
            yield Problem(f"{where}.usagePlans", "HTTP APIs have no usage plans: use type REST")
        if api.api_key_required:
            yield Problem(f"{where}.apiKeyRequired", "HTTP APIs have no API keys: use type REST")
        if api.endpoint_type == "PRIVATE":
            yield Problem(
                f"{where}.endpointType", "PRIVATE needs type REST: HTTP APIs are regional only"
            )
    elif api.api_key_required and not any(plan.api_keys for plan in api.usage_plans):
        yield Problem(
            f"{where}.apiKeyRequired",
            "true but no usage plan has an API key: every request would get 403 (seed 002); "
            "add a usage plan with apiKeys",
        )
    if api.vpc_endpoint_ids and api.endpoint_type != "PRIVATE":
        yield Problem(f"{where}.vpcEndpointIds", "is only for endpointType PRIVATE: remove it")
    if api.custom_domain is not None and api.endpoint_type == "PRIVATE":
        yield Problem(
            f"{where}.customDomain",
            "a regional custom domain cannot map a PRIVATE API: remove customDomain",
        )
    plans: set[str] = set()
    for i, plan in enumerate(api.usage_plans):
        if plan.name in plans:
            yield Problem(
                f"{where}.usagePlans[{i}].name", f"{plan.name!r} is used by an earlier usage plan"
            )
        plans.add(plan.name)
        keys: set[str] = set()
        for j, key in enumerate(plan.api_keys):
            if key in keys:
                yield Problem(
                    f"{where}.usagePlans[{i}].apiKeys[{j}]", f"{key!r} is listed twice in this plan"
                )
            keys.add(key)


def _stage(ps: PrivateService) -> Iterator[Problem]:
    api = ps.spec.api
    if api is not None and api.type == "REST" and api.stage_name == DEFAULT_STAGE:
        yield Problem(
            "spec.api.stageName",
            "$default is the HTTP API stage served at the URL root: REST API stage names are "
            "letters, digits, - and _ (use type HTTP or another name)",
        )


def _target_group(ps: PrivateService) -> Iterator[Problem]:
    group, where = ps.spec.load_balancer.target_group, "spec.loadBalancer.targetGroup"
    check = group.health_check
    if check.timeout_seconds >= check.interval_seconds:
        yield Problem(
            f"{where}.healthCheck.timeoutSeconds",
            f"{check.timeout_seconds} must be less than intervalSeconds {check.interval_seconds}",
        )
    stop = ps.spec.container.stop_timeout_seconds
    if group.deregistration_delay_seconds > stop + 30:
        yield Problem(
            f"{where}.deregistrationDelaySeconds",
            f"{group.deregistration_delay_seconds} exceeds container.stopTimeoutSeconds {stop} "
            "+ 30: deployments wait for draining long after tasks stopped; lower it",
            "warning",
        )


def _drift(ps: PrivateService) -> Iterator[Problem]:
    for i, path in enumerate(ps.spec.drift.ignore_fields):
        if (why := unknown_spec_path(path)) is not None:
            yield Problem(f"spec.drift.ignoreFields[{i}]", why)


def _aws_limits(ps: PrivateService) -> Iterator[Problem]:
    for path, message in limits.problems(ps):
        yield Problem(path, message)


RULES: dict[Rule, tuple[str, ...]] = {
    _network: ("spec.network", "spec.loadBalancer.scheme"),
    _load_balancer: ("spec.loadBalancer",),
    _launch_type: (
        "spec.container.cpu",
        "spec.container.memory",
        "spec.container.hostPort",
        "spec.service.launchType",
        "spec.service.instanceSecurityGroupIds",
    ),
    _service: (
        "spec.service.serviceConnect",
        "spec.service.deployment",
        "spec.service.desiredCount",
        "spec.container.port",
    ),
    _api: ("spec.api",),
    _stage: ("spec.api.type", "spec.api.stageName"),
    _target_group: ("spec.loadBalancer.targetGroup", "spec.container.stopTimeoutSeconds"),
    _drift: ("spec.drift.ignoreFields",),
    _aws_limits: ("spec.tags", "spec.container"),
}
"""Every rule and the fields it reads (a rule that reads `spec.api` only to see whether there is
one need not list it: a repaired document keeps or drops `api` as a whole)."""


def _overlaps(path: str, field: str) -> bool:
    """Whether `path` is `field`, inside it, or holds it (dotted paths with [index])."""
    short, long = sorted((path, field), key=len)
    return long == short or long.startswith((f"{short}.", f"{short}["))


def check(ps: PrivateService, skip: Collection[str] = ()) -> list[Problem]:
    """Every broken cross-field rule of `ps`, errors first, then warnings; the rules that read
    a field of `skip` (repaired by `salvage`, so not the user's value) do not run."""
    problems = [
        problem
        for rule, reads in RULES.items()
        if not any(_overlaps(path, field) for path in skip for field in reads)
        for problem in rule(ps)
    ]
    return sorted(problems, key=lambda p: p.severity != "error")
