"""The cross-field rules (`rules`) that CEL can check on `spec` alone, for the CRD.

`SPEC_RULES` is data: each `CelRule` becomes one `x-kubernetes-validations` entry on the spec
schema (`crd`), so the API server refuses a spec that cannot work before the controller sees it.
Each message starts with the field it names, as `rules.Problem` does (`spec.loadBalancer.staticIps:
...`), and `fieldPath` points at that field. The API server evaluates the rules after it filled
the schema's defaults in: a field with a default is present whenever its object is, but objects
without a schema default (`loadBalancer`, `api`, `listener`...) may be absent (`_get`). A test
evaluates every rule with a CEL implementation against the cases of the pydantic rules.

Left to the controller (`rules.check`), which validates every object it reads anyway:
- unique ALB rule priorities, unique usage plan names, unique API keys within a plan: sets or
  pairwise loops over lists without `maxItems`, too costly for the API server's estimate;
- apiKeyRequired needs a usage plan with an API key: a loop over the plans' key lists (no
  `maxItems` either);
- drift.ignoreFields must name spec fields: needs the whole field tree (and suggests names);
- minimumHealthyPercent <= maximumPercent: the schema's bounds (<= 100, >= 100) already hold it;
- the warnings (deregistration delay vs stopTimeoutSeconds, a stuck deployment): a CEL rule
  refuses; a warning must not.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from controller.spec.rules import FARGATE_MEMORY


@dataclass(frozen=True)
class CelRule:
    """One CEL rule on `spec`: `rule` must hold; `field` (from the document root) is at fault."""

    field: str
    rule: str
    text: str

    @property
    def message(self) -> str:
        return f"{self.field}: {self.text}"

    @property
    def field_path(self) -> str:
        """`field` relative to `spec`, where the rule is attached (`.network.vpcId`)."""
        return self.field.removeprefix("spec")

    def validation(self) -> dict[str, str]:
        """The `x-kubernetes-validations` entry."""
        return {"rule": self.rule, "message": self.message, "fieldPath": self.field_path}


REQUIRED = ("network", "container", "service")  # `spec`'s required fields: always present


def _has(path: str) -> str:
    """`has()` of every step of a dotted path below `self` that may be absent."""
    steps = path.split(".")
    prefixes = [".".join(steps[: i + 1]) for i in range(len(steps))]
    return " && ".join(f"has(self.{p})" for p in prefixes if p not in REQUIRED)


def _get(path: str, default: str) -> str:
    """The defaulted field at `path`, or its `default` (a CEL literal) when an object above it,
    which has no schema default, is absent. The API server fills schema defaults in before it
    evaluates the rules, so the field itself is present whenever its object is."""
    parent = _has(path.rsplit(".", 1)[0])
    return f"({parent} ? self.{path} : {default})" if parent else f"self.{path}"


def _nonempty(path: str) -> str:
    """The list or map at `path` is present and not empty."""
    return f"({_has(path)} && size(self.{path}) > 0)"


def _memory_ok(memory: str, valid: tuple[int, ...]) -> str:
    """`memory` is one of `valid`: a range with a step when the sizes are evenly spaced."""
    step = valid[1] - valid[0]
    if all(b - a == step for a, b in pairwise(valid)):
        return f"({memory} >= {valid[0]} && {memory} <= {valid[-1]} && {memory} % {step} == 0)"
    return f"{memory} in [{', '.join(str(m) for m in valid)}]"


def _fargate_memory() -> str:
    cpu, memory = _get("container.cpu", "256"), _get("container.memory", "512")
    chain = "true"
    for size, valid in reversed(FARGATE_MEMORY.items()):
        chain = f"{cpu} == {size} ? {_memory_ok(memory, valid)} : {chain}"
    return f"({chain})"


PUBLIC = _get("loadBalancer.scheme", "'internal'") + " == 'internet-facing'"
EC2 = "self.service.launchType == 'EC2'"
PUBLIC_IDS = _nonempty("network.publicSubnetIds")
PUBLIC_SELECTOR = "has(self.network.publicSubnetSelector)"
PROTOCOL = _get("loadBalancer.listener.protocol", "'TCP'")
CERTIFICATE = _has("loadBalancer.listener.certificateArn")
CPU = _get("container.cpu", "256")


def _exactly_one(first: str, second: str, what: str) -> list[CelRule]:
    a, b = f"has(self.network.{first})", f"has(self.network.{second})"
    return [
        CelRule(
            f"spec.network.{second}",
            f"!({a} && {b})",
            f"both {first} and {second} are set: keep exactly one of them",
        ),
        CelRule("spec.network", f"{a} || {b}", f"one of {first} or {second} is required ({what})"),
    ]


def _not_empty_selector(name: str) -> CelRule:
    return CelRule(
        f"spec.network.{name}",
        f"!has(self.network.{name}) || size(self.network.{name}) > 0",
        "an empty selector matches everything: name a tag",
    )


NETWORK = [
    *_exactly_one("vpcId", "vpcSelector", "the VPC"),
    *_exactly_one("subnetIds", "subnetSelector", "the task subnets"),
    *(_not_empty_selector(n) for n in ("vpcSelector", "subnetSelector", "publicSubnetSelector")),
    CelRule(
        "spec.network.subnetIds",
        "!has(self.network.subnetIds) || size(self.network.subnetIds) > 0",
        "is empty: list at least one private subnet",
    ),
    CelRule(
        "spec.network.publicSubnetSelector",
        f"!({PUBLIC_IDS} && {PUBLIC_SELECTOR})",
        "both publicSubnetIds and publicSubnetSelector are set: keep at most one of them",
    ),
    CelRule(
        "spec.network",
        f"!({PUBLIC}) || {PUBLIC_IDS} || {PUBLIC_SELECTOR}",
        "an internet-facing load balancer needs publicSubnetIds or publicSubnetSelector",
    ),
    CelRule(
        "spec.network.publicSubnetIds",
        f"{PUBLIC} || !{PUBLIC_IDS} || {PUBLIC_SELECTOR}",
        "is only for loadBalancer.scheme internet-facing (scheme is internal): remove it",
    ),
    CelRule(
        "spec.network.publicSubnetSelector",
        f"{PUBLIC} || !{PUBLIC_SELECTOR} || {PUBLIC_IDS}",
        "is only for loadBalancer.scheme internet-facing (scheme is internal): remove it",
    ),
]

LOAD_BALANCER = [
    CelRule(
        "spec.loadBalancer.scheme",
        f"!({PUBLIC} && has(self.api))",
        "internet-facing is only for a service without `api`: API Gateway reaches the NLB "
        "through a VPC Link, which needs scheme internal",
    ),
    CelRule(
        "spec.loadBalancer.staticIps",
        f"!{_get('loadBalancer.staticIps', 'false')} || {PUBLIC}",
        "true needs scheme internet-facing (Elastic IPs are public): set staticIps false",
    ),
    CelRule(
        "spec.loadBalancer.listener.certificateArn",
        f"{PROTOCOL} != 'TLS' || {CERTIFICATE}",
        "listener protocol TLS needs an ACM certificateArn",
    ),
    CelRule(
        "spec.loadBalancer.listener.certificateArn",
        f"{PROTOCOL} != 'TCP' || !({CERTIFICATE})",
        "is set but listener protocol is TCP: set protocol TLS or remove certificateArn",
    ),
    CelRule(
        "spec.loadBalancer.targetGroup.healthCheck.timeoutSeconds",
        f"{_get('loadBalancer.targetGroup.healthCheck.timeoutSeconds', '5')} < "
        f"{_get('loadBalancer.targetGroup.healthCheck.intervalSeconds', '10')}",
        "must be less than intervalSeconds",
    ),
]

LAUNCH_TYPE = [
    CelRule(
        "spec.container.hostPort",
        f"!({EC2}) || has(self.container.hostPort)",
        "launchType EC2 needs a fixed hostPort: an NLB has no dynamic port mapping (seed 004)",
    ),
    CelRule(
        "spec.container.cpu",
        f"{EC2} || {CPU} in [{', '.join(str(c) for c in FARGATE_MEMORY)}]",
        f"is not a Fargate cpu size ({', '.join(str(c) for c in FARGATE_MEMORY)})",
    ),
    CelRule(
        "spec.container.memory",
        f"{EC2} || {_fargate_memory()}",
        "is not valid for this cpu on Fargate: 256 takes 512, 1024 or 2048; 512 takes "
        "1024..4096, 1024 takes 2048..8192, 2048 takes 4096..16384, 4096 takes 8192..30720 "
        "(multiples of 1024); 8192 takes 16384..61440 (of 4096); 16384 takes 32768..122880 "
        "(of 8192)",
    ),
    CelRule(
        "spec.container.hostPort",
        f"{EC2} || !has(self.container.hostPort)",
        "is only for launchType EC2: Fargate tasks are reached on container.port; remove hostPort",
    ),
    CelRule(
        "spec.service.instanceSecurityGroupIds",
        f"{EC2} || !{_nonempty('service.instanceSecurityGroupIds')}",
        "is only for launchType EC2 (container instances): remove it",
    ),
    CelRule(
        "spec.service.serviceConnect.port",
        "!has(self.service.serviceConnect) || self.service.serviceConnect.port == "
        "self.container.port",
        "is not container.port: Service Connect publishes the container's one port mapping",
    ),
]

HTTP = "self.api.type == 'HTTP'"
PRIVATE_API = "self.api.endpointType == 'PRIVATE'"
API = [
    CelRule(
        "spec.api.usagePlans",
        f"!has(self.api) || !({HTTP} && {_nonempty('api.usagePlans')})",
        "HTTP APIs have no usage plans: use type REST",
    ),
    CelRule(
        "spec.api.apiKeyRequired",
        f"!has(self.api) || !({HTTP} && self.api.apiKeyRequired)",
        "HTTP APIs have no API keys: use type REST",
    ),
    CelRule(
        "spec.api.endpointType",
        f"!has(self.api) || !({HTTP} && {PRIVATE_API})",
        "PRIVATE needs type REST: HTTP APIs are regional only",
    ),
    CelRule(
        "spec.api.vpcEndpointIds",
        f"!has(self.api) || !{_nonempty('api.vpcEndpointIds')} || {PRIVATE_API}",
        "is only for endpointType PRIVATE: remove it",
    ),
    CelRule(
        "spec.api.customDomain",
        f"!has(self.api) || !(has(self.api.customDomain) && {PRIVATE_API})",
        "a regional custom domain cannot map a PRIVATE API: remove customDomain",
    ),
]

SPEC_RULES: tuple[CelRule, ...] = (*NETWORK, *LOAD_BALANCER, *LAUNCH_TYPE, *API)


def spec_validations() -> list[dict[str, str]]:
    """`SPEC_RULES` as the spec schema's `x-kubernetes-validations`."""
    return [rule.validation() for rule in SPEC_RULES]
