"""The client-side AWS call budget: token buckets per quota family, shared by every thread.

One job: decide how long an AWS call must wait so that the controller spends at most a `share`
(default 0.5) of the account's published control-plane quotas, leaving the rest to people and
other tools. `Budget.acquire(service, operation)` passes the call through its family's bucket for
the operation's category and, on top, any per-operation bucket; it blocks the calling thread
(a worker of `controller.runtime`, or the CLI's) until every bucket has a token. Buckets start
full, as AWS's do; a bucket never holds less than one token of burst.

Published quotas (per account and region; sustained rate per second / burst), the figures below:
- API Gateway, "Amazon API Gateway quotas" (API Gateway Developer Guide, "API Gateway quotas for
  configuring and running a REST API" / control-plane throttling): every control-plane call
  10/s burst 40, shared by all operations of `apigateway` and `apigatewayv2`; on top,
  CreateDeployment 1 per 5 s, UpdateUsagePlan 1 per 20 s, CreateRestApi 1 per 3 s,
  DeleteRestApi 1 per 30 s, CreateVpcLink (v1 and v2) 1 per 15 s, CreateApiKey/DeleteApiKey 5/s.
- Elastic Load Balancing v2, "Elastic Load Balancing API request throttling" and "Quotas for
  your Network Load Balancers": Describe* 10/s burst 40; RegisterTargets/DeregisterTargets 4/s
  burst 20; other mutating calls 3/s burst 20; on top, CreateLoadBalancer 0.2/s burst 10.
- EC2, "Amazon EC2 API request throttling" (EC2 API Reference): non-mutating 20/s burst 100;
  mutating 5/s burst 50; AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress each
  5/s burst 50; CreateTags 10/s burst 100 (these three have buckets of their own in EC2).
- ECS, "Request throttling for the Amazon ECS API" (ECS API Reference, "Request token bucket
  sizes and refill rates"): cluster read 20/s burst 50; cluster modify 1/s burst 20; task
  definition read 20/s burst 50; task definition modify 1/s burst 20; service read 20/s burst
  100; service modify 5/s burst 50; cluster resource (tasks) read 20/s burst 100 and modify
  40/s burst 100; tag read 20/s burst 50; tag modify 10/s burst 20; any other read 20/s burst
  50 and any other modify 1/s burst 20 (the smallest published modify bucket).
Other services (iam, logs, lambda, servicediscovery, sts, s3, dynamodb, sns, ...) have quotas of
their own that this controller comes nowhere near: they pass unbudgeted, counted as `other`.

`parse_budget("apigateway=5,elbv2=5")` gives per-family overrides: the family's headline rate in
requests per second (API Gateway's account-wide bucket; ELB's Describe*; EC2's non-mutating;
ECS's cluster read), every category bucket of the family scaled in proportion, rate and burst;
per-operation buckets keep the share. `share=F` sets the share of every other bucket.
Neighbours: `controller.aws.session` (creates one `Budget` per `AwsContext` and calls `acquire`
from a botocore `before-send` handler, once per HTTP attempt), `controller.cli_args`
(`--aws-budget`), `controller.runtime.metrics` (wait seconds per family).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_SHARE = 0.5
OFF = "off"
SHARE_KEY = "share"
OTHER = "other"
"""The family of every service without a budget: admitted and counted, never delayed."""


@dataclass(frozen=True)
class Quota:
    """A published token bucket: sustained rate (tokens per second) and burst (capacity)."""

    rate: float
    burst: float


@dataclass(frozen=True)
class Family:
    """The quotas of one family of services: category buckets, and per-operation ones on top.

    An operation passes the bucket of its category (`members`, else `write` for a mutating one,
    else `read`) and, when it has one, its own bucket of `operations`.
    """

    name: str
    services: frozenset[str]
    headline: str
    categories: Mapping[str, Quota]
    read: str
    write: str
    members: Mapping[str, str] = field(default_factory=dict)
    operations: Mapping[str, Quota] = field(default_factory=dict)

    def category(self, operation: str, mutating: bool) -> str:
        """The category bucket `operation` passes."""
        return self.members.get(operation) or (self.write if mutating else self.read)


def _every(seconds: float) -> Quota:
    return Quota(1.0 / seconds, 1.0)


_ECS_MEMBERS = {
    **dict.fromkeys(("DescribeClusters", "ListClusters"), "cluster-read"),
    **dict.fromkeys(
        (
            "CreateCluster",
            "DeleteCluster",
            "PutClusterCapacityProviders",
            "UpdateCluster",
            "UpdateClusterSettings",
        ),
        "cluster-modify",
    ),
    **dict.fromkeys(
        ("DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies"),
        "task-definition-read",
    ),
    **dict.fromkeys(
        ("RegisterTaskDefinition", "DeregisterTaskDefinition"), "task-definition-modify"
    ),
    **dict.fromkeys(("DescribeServices", "ListServices"), "service-read"),
    **dict.fromkeys(("CreateService", "DeleteService", "UpdateService"), "service-modify"),
    **dict.fromkeys(
        (
            "DescribeTasks",
            "ListTasks",
            "DescribeContainerInstances",
            "ListContainerInstances",
            "ListAttributes",
        ),
        "tasks-read",
    ),
    **dict.fromkeys(
        ("RunTask", "StartTask", "StopTask", "PutAttributes", "DeleteAttributes"),
        "tasks-modify",
    ),
    "ListTagsForResource": "tag-read",
    **dict.fromkeys(("TagResource", "UntagResource"), "tag-modify"),
}

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="apigateway",
            services=frozenset({"apigateway", "apigatewayv2"}),
            headline="account",
            categories={"account": Quota(10, 40)},
            read="account",
            write="account",
            operations={
                "CreateDeployment": _every(5),
                "UpdateUsagePlan": _every(20),
                "CreateRestApi": _every(3),
                "DeleteRestApi": _every(30),
                "CreateVpcLink": _every(15),
                "CreateApiKey": Quota(5, 5),
                "DeleteApiKey": Quota(5, 5),
            },
        ),
        Family(
            name="elbv2",
            services=frozenset({"elbv2"}),
            headline="describe",
            categories={
                "describe": Quota(10, 40),
                "targets": Quota(4, 20),
                "mutating": Quota(3, 20),
            },
            read="describe",
            write="mutating",
            members={"RegisterTargets": "targets", "DeregisterTargets": "targets"},
            operations={"CreateLoadBalancer": Quota(0.2, 10)},
        ),
        Family(
            name="ec2",
            services=frozenset({"ec2"}),
            headline="non-mutating",
            categories={
                "non-mutating": Quota(20, 100),
                "mutating": Quota(5, 50),
                "AuthorizeSecurityGroupIngress": Quota(5, 50),
                "RevokeSecurityGroupIngress": Quota(5, 50),
                "CreateTags": Quota(10, 100),
            },
            read="non-mutating",
            write="mutating",
            members={
                "AuthorizeSecurityGroupIngress": "AuthorizeSecurityGroupIngress",
                "RevokeSecurityGroupIngress": "RevokeSecurityGroupIngress",
                "CreateTags": "CreateTags",
            },
        ),
        Family(
            name="ecs",
            services=frozenset({"ecs"}),
            headline="cluster-read",
            categories={
                "cluster-read": Quota(20, 50),
                "cluster-modify": Quota(1, 20),
                "task-definition-read": Quota(20, 50),
                "task-definition-modify": Quota(1, 20),
                "service-read": Quota(20, 100),
                "service-modify": Quota(5, 50),
                "tasks-read": Quota(20, 100),
                "tasks-modify": Quota(40, 100),
                "tag-read": Quota(20, 50),
                "tag-modify": Quota(10, 20),
                "other-read": Quota(20, 50),
                "other-modify": Quota(1, 20),
            },
            read="other-read",
            write="other-modify",
            members=_ECS_MEMBERS,
        ),
    )
}

_BY_SERVICE = {service: f for f in FAMILIES.values() for service in f.services}


def family_of(service: str) -> str:
    """The quota family of a boto3 service name (`other` when it has no budget)."""
    f = _BY_SERVICE.get(service)
    return f.name if f is not None else OTHER


class TokenBucket:
    """A thread-safe token bucket that starts full; `acquire` waits for a token.

    A caller takes its token at once, possibly into debt, and then sleeps until the refill has
    paid the debt: callers are served in the order they arrived, and no thread spins.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (rate > 0 and math.isfinite(rate)) or not (burst >= 1 and math.isfinite(burst)):
            msg = f"a token bucket needs rate > 0 and burst >= 1 (got {rate}, {burst})"
            raise ValueError(msg)
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def tokens(self) -> float:
        """Tokens in the bucket now (negative: owed to callers already waiting)."""
        with self._lock:
            self._refill()
            return self._tokens

    def acquire(self) -> float:
        """Take one token, blocking until it is there; the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1
            wait = max(0.0, -self._tokens / self.rate)
        if wait > 0:
            self._sleep(wait)
        return wait


class Budget:
    """Every bucket of every family, for all threads and specs of one controller.

    `overrides` maps a family to its headline rate (req/s), and `share` (key `share`) to the
    share of the published quotas for everything else; see `parse_budget`.
    """

    def __init__(
        self,
        overrides: Mapping[str, float] | None = None,
        *,
        share: float = DEFAULT_SHARE,
        mutating: Callable[[str], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        overrides = dict(overrides or {})
        share = overrides.pop(SHARE_KEY, share)
        _check(overrides, share)
        if mutating is None:
            from controller.aws.session import is_mutating  # session imports this module

            mutating = is_mutating
        self.share = share
        self.overrides = overrides
        self._mutating = mutating
        self._categories: dict[tuple[str, str], TokenBucket] = {}
        self._operations: dict[tuple[str, str], TokenBucket] = {}
        for f in FAMILIES.values():
            factor = (
                overrides[f.name] / f.categories[f.headline].rate if f.name in overrides else share
            )
            for name, q in f.categories.items():
                self._categories[(f.name, name)] = _bucket(q, factor, clock, sleep)
            for name, q in f.operations.items():
                self._operations[(f.name, name)] = _bucket(q, share, clock, sleep)
        self._lock = threading.Lock()
        self._waited: dict[str, float] = {}
        self._admitted: Counter[str] = Counter()

    def buckets(self, service: str, operation: str) -> list[TokenBucket]:
        """The buckets a call of `service`'s `operation` must pass, in order."""
        f = _BY_SERVICE.get(service)
        if f is None:
            return []
        found = [self._categories[(f.name, f.category(operation, self._mutating(operation)))]]
        if (own := self._operations.get((f.name, operation))) is not None:
            found.append(own)
        return found

    def acquire(self, service: str, operation: str) -> float:
        """Wait until the call may be sent; the seconds waited (0 for an unbudgeted service)."""
        waited = sum(bucket.acquire() for bucket in self.buckets(service, operation))
        family = family_of(service)
        with self._lock:
            self._admitted[family] += 1
            self._waited[family] = self._waited.get(family, 0.0) + waited
        return waited

    def waited(self) -> dict[str, float]:
        """Seconds waited so far, per family (summed over threads)."""
        with self._lock:
            return dict(self._waited)

    def admitted(self) -> Counter[str]:
        """Calls (HTTP attempts) admitted so far, per family."""
        with self._lock:
            return Counter(self._admitted)


def _bucket(
    q: Quota, factor: float, clock: Callable[[], float], sleep: Callable[[float], None]
) -> TokenBucket:
    return TokenBucket(q.rate * factor, max(1.0, q.burst * factor), clock=clock, sleep=sleep)


def _known() -> str:
    return ", ".join([*FAMILIES, SHARE_KEY])


def _problem(name: str, number: float) -> str | None:
    """Why `name=number` is no budget item, or None."""
    if name == SHARE_KEY:
        return None if 0 < number <= 1 else "the share must be > 0 and <= 1"
    if name not in FAMILIES:
        return f"unknown family {name!r} (known: {_known()})"
    if not (number > 0 and math.isfinite(number)):
        return "the rate must be a number of requests per second > 0"
    return None


def _check(overrides: Mapping[str, float], share: float) -> None:
    for name, number in [*overrides.items(), (SHARE_KEY, share)]:
        if (problem := _problem(name, number)) is not None:
            msg = f"bad budget {name}={number}: {problem}"
            raise ValueError(msg)


def parse_budget(text: str) -> dict[str, float]:
    """`apigateway=5,elbv2=5,share=0.3` as a mapping; ValueError naming the bad item."""
    result: dict[str, float] = {}
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        msg = f"empty budget: expected FAMILY=REQ_PER_S,... with FAMILY one of {_known()}, or off"
        raise ValueError(msg)
    for item in items:
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or name not in (*FAMILIES, SHARE_KEY):
            msg = f"bad budget item {item!r}: expected FAMILY=REQ_PER_S, FAMILY one of {_known()}"
            raise ValueError(msg)
        if name in result:
            msg = f"bad budget item {item!r}: {name} is given twice"
            raise ValueError(msg)
        try:
            number = float(value)
        except ValueError:
            msg = f"bad budget item {item!r}: {value!r} is not a number"
            raise ValueError(msg) from None
        if (problem := _problem(name, number)) is not None:
            msg = f"bad budget item {item!r}: {problem}"
            raise ValueError(msg)
        result[name] = number
    return result


BudgetSpec = str | Mapping[str, float] | None
"""What `AwsSettings.budget` holds: None (the default share of every family), `off`, the
command line's string form, or a mapping as `parse_budget` returns."""


def make_budget(spec: BudgetSpec) -> Budget | None:
    """The `Budget` a spec asks for; None for `off`."""
    if spec is None:
        return Budget()
    if isinstance(spec, str):
        if spec.strip().lower() == OFF:
            return None
        spec = parse_budget(spec)
    return Budget(spec)
