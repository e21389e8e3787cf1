"""The client-side AWS call budget: token buckets per quota family, shared by every thread.

One job: decide how long an AWS call must wait so that the controller spends at most a `share`
(default 0.5) of the account's published control-plane quotas, leaving the rest to people and
other tools. `Budget.acquire(service, operation)` passes the call through its family's bucket for
the operation's category and, on top, any per-operation bucket; it blocks the calling thread
(a worker of `controller.runtime`, or the CLI's) until every bucket has a token. Buckets start
full, as AWS's do; a bucket never holds less than one token of burst.

The published quotas and the families they form are `controller.aws.quotas` (with the AWS
documents they come from).

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

from controller.aws.quotas import BY_SERVICE, FAMILIES, OTHER, Family, Quota, family_of

DEFAULT_SHARE = 0.5
OFF = "off"
SHARE_KEY = "share"


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
        f = BY_SERVICE.get(service)
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


__all__ = [  # the quota table is re-exported: callers name the budget, not where figures live
    "DEFAULT_SHARE",
    "FAMILIES",
    "OFF",
    "OTHER",
    "Budget",
    "BudgetSpec",
    "Family",
    "Quota",
    "TokenBucket",
    "family_of",
    "make_budget",
    "parse_budget",
]
