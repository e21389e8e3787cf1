"""AWS's published control-plane request quotas, as token buckets the sandbox enforces.

`parse_quotas("aws" | "off" | "xN")` gives the `Quotas` in force (`None` for off): `AWS_RULES`
are the published rates and bursts, per account and Region; `xN` multiplies every rate and burst
by N (x10: a test meets the same shape of throttling ten times faster). `Limiter` holds one token
bucket per (access key's account, Region, bucket) and answers `try_acquire`: a call takes one
token from every bucket its operation falls in (all or none), or is throttled and takes none.
Sources, quoted in `tests/sandbox/test_sandbox_quotas.py`:
- "Amazon API Gateway quotas" (docs.aws.amazon.com/apigateway/latest/developerguide/limits.html),
  "API Gateway quotas for creating, deploying and managing an API": total operations 10 requests
  per second with a burst of 40, and the per-operation figures of `_APIGATEWAY_OPERATIONS`
  (CreateRestApi at the regional/private rate; edge-optimized APIs are slower on AWS);
- "Request throttling for the ELB API" (docs.aws.amazon.com/elasticloadbalancing/latest/
  userguide/elb-api-throttling.html): Describe* 10/s burst 40, RegisterTargets and
  DeregisterTargets 4/s burst 20, CreateLoadBalancer 0.2/s burst 10, other mutating 3/s burst 20;
- "Request throttling for the Amazon EC2 API" (docs.aws.amazon.com/ec2/latest/devguide/
  ec2-api-throttling.html): "each API is evaluated individually", so every EC2 action has its
  own bucket, sized by category: non-mutating (Describe*, Get*, List*, Search*) 20/s burst 100,
  mutating 5/s burst 50, Authorize/RevokeSecurityGroupIngress 5/s burst 50, CreateTags 10/s
  burst 100.
ECS: "Request throttling for the Amazon ECS API" (docs.aws.amazon.com/AmazonECS/latest/
APIReference/request-throttling.html) publishes a table this project could not read in full, so
ECS is left unthrottled (its calls are still logged; a `Rule` for family "ecs" throttles it).
Neighbours: `traffic` (asks the limiter per request), `server` (`Sandbox(quotas=...)`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One quota: `rate` tokens per second into a bucket of `burst` tokens.

    `shared` rules apply to every operation of `family` (API Gateway's account-wide total), on
    top of one category: the first non-shared rule of the family whose `operations` or
    `prefixes` match, else the family's catch-all (no operations, no prefixes). `per_operation`
    gives each operation a bucket of its own (EC2).
    """

    family: str
    name: str
    rate: float
    burst: float
    operations: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    shared: bool = False
    per_operation: bool = False

    def matches(self, operation: str) -> bool:
        """Whether this (non-shared) rule names `operation`."""
        return operation in self.operations or operation.startswith(self.prefixes or ("\0",))

    @property
    def catch_all(self) -> bool:
        """A category for every operation no other category of the family names."""
        return not self.shared and not self.operations and not self.prefixes


def _per(count: float, seconds: float, name: str) -> Rule:
    """API Gateway's "N requests every S seconds per account" for operation `name`."""
    return Rule("apigateway", name, count / seconds, count, frozenset({name}))


_APIGATEWAY_OPERATIONS = (
    _per(5, 1, "CreateApiKey"),
    _per(1, 5, "CreateDeployment"),
    _per(1, 20, "CreateDocumentationVersion"),
    _per(1, 30, "CreateDomainName"),
    _per(5, 1, "CreateResource"),
    _per(1, 3, "CreateRestApi"),
    _per(1, 15, "CreateVpcLink"),
    _per(5, 1, "DeleteApiKey"),
    _per(1, 30, "DeleteDomainName"),
    _per(5, 1, "DeleteResource"),
    _per(1, 30, "DeleteRestApi"),
    _per(5, 2, "GetResources"),
    _per(1, 30, "DeleteVpcLink"),
    _per(1, 30, "ImportDocumentationParts"),
    _per(1, 3, "ImportRestApi"),
    _per(1, 1, "PutRestApi"),
    _per(1, 20, "UpdateAccount"),
    _per(1, 30, "UpdateDomainName"),
    _per(1, 20, "UpdateUsagePlan"),
)

_NON_MUTATING = ("Describe", "Get", "List", "Search")

AWS_RULES: tuple[Rule, ...] = (
    Rule("apigateway", "total", 10, 40, shared=True),
    *_APIGATEWAY_OPERATIONS,
    Rule("elbv2", "describe", 10, 40, prefixes=("Describe",)),
    Rule("elbv2", "targets", 4, 20, frozenset({"RegisterTargets", "DeregisterTargets"})),
    Rule("elbv2", "create-load-balancer", 0.2, 10, frozenset({"CreateLoadBalancer"})),
    Rule("elbv2", "mutating", 3, 20),
    Rule("ec2", "non-mutating", 20, 100, prefixes=_NON_MUTATING, per_operation=True),
    Rule(
        "ec2",
        "security-group-ingress",
        5,
        50,
        frozenset({"AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"}),
        per_operation=True,
    ),
    Rule("ec2", "create-tags", 10, 100, frozenset({"CreateTags"}), per_operation=True),
    Rule("ec2", "mutating", 5, 50, per_operation=True),
)


@dataclass(frozen=True)
class Quotas:
    """The rules in force, their rates and bursts multiplied by `multiplier`."""

    rules: tuple[Rule, ...] = AWS_RULES
    multiplier: float = 1.0

    @property
    def label(self) -> str:
        """`aws` or `xN`, as `--quotas` spells it."""
        if self.multiplier == 1.0:
            return "aws"
        return f"x{self.multiplier:g}"

    def buckets(self, family: str, operation: str) -> list[tuple[str, float, float]]:
        """(bucket key, rate, burst) of every bucket a call of `operation` takes a token from."""
        rules = [r for r in self.rules if r.family == family]
        chosen = [r for r in rules if r.shared]
        category = next((r for r in rules if not r.shared and r.matches(operation)), None)
        if category is None:
            category = next((r for r in rules if r.catch_all), None)
        if category is not None:
            chosen.append(category)
        return [
            (
                f"{r.family}:{r.name}" + (f":{operation}" if r.per_operation else ""),
                r.rate * self.multiplier,
                r.burst * self.multiplier,
            )
            for r in chosen
        ]


_SPEC = re.compile(r"x(\d+(?:\.\d+)?)")


def parse_quotas(spec: str) -> Quotas | None:
    """`aws` -> AWS's rates, `off` -> None, `xN` (N > 0) -> AWS's rates and bursts times N."""
    if spec == "off":
        return None
    if spec == "aws":
        return Quotas()
    match = _SPEC.fullmatch(spec)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"quotas must be aws, off or xN with N > 0 (e.g. x10), not {spec!r}")
    return Quotas(multiplier=float(match.group(1)))


class Limiter:
    """Thread-safe token buckets, full when first used, keyed by account, Region and bucket."""

    def __init__(self, quotas: Quotas) -> None:
        self.quotas = quotas
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}  # tokens, at

    def try_acquire(self, account: str, region: str, family: str, operation: str) -> bool:
        """Take a token from every bucket of the call, or none and answer False (throttled)."""
        specs = self.quotas.buckets(family, operation)
        now = time.monotonic()
        with self._lock:
            levels: list[tuple[tuple[str, str, str], float]] = []
            for name, rate, burst in specs:
                key = (account, region, name)
                tokens, at = self._buckets.get(key, (burst, now))
                levels.append((key, min(burst, tokens + (now - at) * rate)))
            if any(level < 1.0 for _, level in levels):
                return False
            for key, level in levels:
                self._buckets[key] = (level - 1.0, now)
            return True
