"""boto3 clients for the handlers: region and endpoint resolution, retries, and call counting.

Settings come from the usual places (environment including `AWS_ENDPOINT_URL`, profiles) with the
command line's `--region`, `--profile` and `--endpoint-url` on top. Retries use botocore's
`standard` mode (or `adaptive`). Every API call is counted by service and operation, and mutating
calls apart, so that tests can prove "no mutating call" and benchmarks can print call budgets.
Every HTTP attempt (retries too) first waits for the client-side budget (`controller.aws.budget`,
one per context, shared with its `for_region` siblings), and every throttled attempt is counted
(`CallCounter.throttles`), also when botocore's retry then succeeded. A create in
`UNSAFE_TO_RESEND` whose connection broke after the request went out is not resent by botocore
(a second request would make a second resource): it fails with `OutcomeUnknownError`, and the
handler's look-up by name and owner tag on the next pass finds what the first request made.
Neighbours: `controller.handlers` (the only users of the clients), `controller.aws.budget`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import HTTPClientError
from botocore.loaders import Loader, create_loader

from controller.aws.budget import Budget, BudgetSpec, make_budget
from controller.aws.cache import HIT, ReadCache
from controller.errors import FencedError, OutcomeUnknownError

MUTATING_PREFIXES = (
    "Create",
    "Delete",
    "Put",
    "Update",
    "Modify",
    "Register",
    "Deregister",
    "Authorize",
    "Revoke",
    "Set",
    "Tag",
    "Untag",
    "Add",
    "Remove",
    "Associate",
    "Disassociate",
    "Attach",
    "Detach",
    "Run",
    "Start",
    "Stop",
    "Allocate",
    "Release",
    "Import",
    "Flush",
    "Apply",
)


UNSAFE_TO_RESEND: frozenset[tuple[str, str]] = frozenset(
    {
        ("apigateway", "CreateRestApi"),
        ("apigateway", "CreateApiKey"),
        ("apigateway", "CreateUsagePlan"),
        ("apigateway", "CreateVpcLink"),
        ("apigateway", "CreateDeployment"),
        ("apigatewayv2", "CreateApi"),
        ("apigatewayv2", "CreateVpcLink"),
        ("apigatewayv2", "CreateIntegration"),
        ("ecs", "RegisterTaskDefinition"),
        ("ec2", "AllocateAddress"),
    }
)
"""Creates that take no client token and no unique name, so the same request sent twice makes
two resources (none of these operations has an idempotency token in its service model; EC2 and
ECS list the operations that do: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/ECS_Idempotency.html). The creates
that have one (ECS CreateService, EC2 CreateVpcEndpoint, Cloud Map namespaces) pass a
deterministic token; the rest fail on a repeat with an "already exists" that handlers adopt."""

THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "RequestThrottled",
    }
)


def is_mutating(operation: str) -> bool:
    """True for operations that change AWS state (by the AWS naming convention)."""
    return operation.startswith(MUTATING_PREFIXES)


@dataclass
class CallCounter:
    """Thread-safe count of API calls by (service, operation); retries are not extra calls."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    throttles: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Throttled HTTP attempts by (service, operation), retried ones included."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_outcome(self, service: str, operation: str, outcome: str) -> None:
        """Count how one call ended: `ok`, `error` or `throttled` (after botocore's retries)."""
        with self._lock:
            self.outcomes[(service, operation, outcome)] += 1

    def record_throttle(self, service: str, operation: str) -> None:
        """Count one HTTP attempt that AWS answered with a throttling error."""
        with self._lock:
            self.throttles[(service, operation)] += 1

    def throttled(self) -> Counter[tuple[str, str]]:
        """A copy of the throttled attempts so far."""
        with self._lock:
            return Counter(self.throttles)

    def record(self, service: str, operation: str) -> None:
        """Count one call."""
        with self._lock:
            self.calls[(service, operation)] += 1

    def snapshot(self) -> Counter[tuple[str, str]]:
        """A copy of the counts so far."""
        with self._lock:
            return Counter(self.calls)

    def mutating(self) -> Counter[tuple[str, str]]:
        """Only the calls that change state."""
        return Counter({k: v for k, v in self.snapshot().items() if is_mutating(k[1])})

    def total(self) -> int:
        """All calls so far."""
        with self._lock:
            return sum(self.calls.values())


@dataclass
class AwsSettings:
    """How to reach AWS; `None` means "the usual places" (environment, profile, config file)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_attempts: int = 5
    read_cache_seconds: float = 0.0  # > 0: share identical reads this long (see aws.cache)
    budget: BudgetSpec = None
    """The client-side budget (see aws.budget): None is the default share of every family,
    except on a loopback endpoint (the sandbox), which has no AWS quotas; `off` is none at all;
    else `parse_budget`'s string or mapping, which applies to every endpoint."""


def _no_resend(caught_exception: Any, operation: Any, **_: Any) -> None:
    """Stop botocore from resending a create of `UNSAFE_TO_RESEND` whose answer was lost.

    An `HTTPClientError` (connection closed, read timeout) comes after the request went out, so
    AWS may have acted on it; a connection that was never made (`EndpointConnectionError`,
    `ConnectTimeoutError`) is retried as usual. Raising here ends the call (botocore emits
    needs-retry once per attempt and lets the exception through).
    """
    if not isinstance(caught_exception, HTTPClientError):
        return
    service, name = operation.service_model.service_name, operation.name
    if (service, name) in UNSAFE_TO_RESEND:
        msg = f"{service}:{name}: the answer was lost ({caught_exception}); not resent"
        raise OutcomeUnknownError(msg, 1.0) from caught_exception


_LOADER: Loader | None = None
_LOADER_LOCK = threading.Lock()


def _botocore_session() -> botocore.session.Session:
    """A new botocore session whose service models come from one loader per process.

    Each new session would parse every service's model files again (about 0.3 s of CPU for the
    ten services of the chain); the models are read-only data, so every AwsContext (one per
    region, a new one per `psctl` command or spec generation) shares the loader's cache.
    """
    global _LOADER  # noqa: PLW0603 - a process-wide cache of read-only data
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = create_loader()
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


class AwsContext:
    """One boto3 session for one region, with cached, counted clients."""

    def __init__(
        self, settings: AwsSettings | None = None, counter: CallCounter | None = None
    ) -> None:
        self.settings = settings or AwsSettings()
        self.counter = counter or CallCounter()
        self._session = boto3.session.Session(
            botocore_session=_botocore_session(),
            profile_name=self.settings.profile,
            region_name=self.settings.region,
        )
        if not self._session.region_name:
            msg = "no AWS region: set spec.region, --region, AWS_REGION or AWS_DEFAULT_REGION"
            raise ValueError(msg)
        self.region: str = self._session.region_name
        self._config = Config(
            retries={"mode": self.settings.retry_mode, "max_attempts": self.settings.max_attempts},
            user_agent_extra="privateservice-controller",
        )
        self._clients: dict[str, Any] = {}
        self._memos: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.write_gate: Callable[[], bool] | None = None
        """With leader election: False once the lease is lost; every mutating call is then
        refused before it is sent (`FencedError`), so a pass in flight stops writing too. It is
        asked before the call and again before each HTTP attempt (botocore's retries)."""
        self.cache = (
            ReadCache(self.settings.read_cache_seconds)
            if self.settings.read_cache_seconds > 0
            else None
        )
        self.budget: Budget | None = make_budget(self.settings.budget)
        """Shared by every client, thread and spec of this context and its `for_region`
        siblings: AWS's quotas are per Region, so one budget for all Regions is stricter than
        needed, never looser (and this controller rarely spans Regions)."""

    def budget_waits(self) -> dict[str, float]:
        """Seconds waited for the budget so far, per family (empty without a budget)."""
        return self.budget.waited() if self.budget is not None else {}

    def for_region(self, region: str | None) -> AwsContext:
        """This context, or a sibling for another region sharing the counter."""
        if region is None or region == self.region:
            return self
        settings = AwsSettings(
            region=region,
            profile=self.settings.profile,
            endpoint_url=self.settings.endpoint_url,
            retry_mode=self.settings.retry_mode,
            max_attempts=self.settings.max_attempts,
            read_cache_seconds=self.settings.read_cache_seconds,
            budget=self.settings.budget,
        )
        sibling = AwsContext(settings, self.counter)
        sibling.write_gate = self.write_gate
        sibling.budget = self.budget
        return sibling

    def client(self, service: str) -> Any:
        """A cached client for `service` whose every call is counted."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._session.client(  # type: ignore[call-overload]
                    service, endpoint_url=self.settings.endpoint_url, config=self._config
                )
                events = client.meta.events
                if self.cache is not None:  # first: a cached answer is not an AWS call
                    events.register("before-call.*.*", self.cache.before_call)
                    events.register("after-call.*.*", self.cache.after_call)
                    events.register("after-call-error.*.*", self.cache.after_call_error)
                events.register("before-call.*.*", self._count)
                events.register("after-call.*.*", self._outcome)
                if self._budgeted(client.meta.endpoint_url):  # once per HTTP attempt
                    events.register("before-send.*.*", partial(self._spend, service))
                events.register("before-send.*.*", self._fence)  # once per HTTP attempt
                events.register("needs-retry.*.*", self._attempt)  # once per HTTP attempt
                events.register("needs-retry.*.*", _no_resend)
                self._clients[service] = client
            return client

    def _budgeted(self, endpoint_url: str) -> bool:
        if self.budget is None:
            return False
        host = urlsplit(endpoint_url).hostname or ""
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        return self.settings.budget is not None or not loopback

    def _fence(self, request: Any, **_: Any) -> None:
        """Refuse every HTTP attempt of a mutating call once the lease is lost, retries too:
        botocore's retries of a throttled write go out seconds after the call began."""
        operation = getattr(request, "context", {}).get("psctl_operation")
        if operation is None or self.write_gate is None or self.write_gate():
            return
        service, name = operation
        msg = f"{service}:{name} not sent (retry): this replica no longer holds the lease"
        raise FencedError(msg)

    def _spend(self, service: str, event_name: str, **_: Any) -> None:
        if self.budget is not None:  # None: returning None lets botocore send the request
            self.budget.acquire(service, event_name.rsplit(".", 1)[-1])

    def _attempt(self, response: Any, operation: Any, **_: Any) -> None:
        if response is None:  # no HTTP answer (connection error): nothing AWS throttled
            return
        code = str((response[1] or {}).get("Error", {}).get("Code", ""))
        if code in THROTTLE_CODES:
            self.counter.record_throttle(operation.service_model.service_name, operation.name)

    def _outcome(
        self, model: Any, http_response: Any, parsed: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if context.get(HIT):
            return
        code = str((parsed or {}).get("Error", {}).get("Code", ""))
        status = getattr(http_response, "status_code", 200)
        outcome = "throttled" if code in THROTTLE_CODES else "error" if status >= 400 else "ok"
        self.counter.record_outcome(model.service_model.service_name, model.name, outcome)

    def access_key_id(self) -> str | None:
        """The access key id this context's calls are signed with (None without credentials)."""
        credentials = self._session.get_credentials()
        return None if credentials is None else credentials.get_frozen_credentials().access_key

    def forget(self, service: str) -> None:
        """Drop the stored reads of `service` and what was learned from them (`memo`): the
        next read of it goes to AWS."""
        if self.cache is not None:
            self.cache.invalidate(service)
        with self._lock:
            self._memos.pop(service, None)

    def memo(self, service: str) -> dict[str, Any] | None:
        """What handlers learned from `service`'s reads (ids to read directly next time),
        shared by every spec of this context; None without a read snapshot (one-shot reads
        then stay as they are). `forget(service)` (an event, a wait) clears it."""
        if self.cache is None:
            return None
        with self._lock:
            return self._memos.setdefault(service, {})

    def _count(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        if self.write_gate is not None and is_mutating(model.name) and not self.write_gate():
            msg = f"{service}:{model.name} not sent: this replica no longer holds the lease"
            raise FencedError(msg)
        self.counter.record(service, model.name)
        if is_mutating(model.name):  # the per-attempt fence reads it from the request
            context["psctl_operation"] = (service, model.name)
        if self.cache is not None and is_mutating(model.name):
            write = (service, model.service_model.protocol, params.get("url_path"))
            self.cache.on_write(*write)
            context["psctl_write"] = write  # and again once AWS has answered (aws.cache)
