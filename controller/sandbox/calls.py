"""The sandbox's call log: every AWS request it served, for call counts and budget checks.

`CallLog` is a thread-safe list of `Call` (monotonic time, service, quota family, operation,
throttled or not) that `traffic` appends to for each request a client sent (never the sandbox's
own); `Sandbox.call_log()` reads it in this process and `GET /_psctl/calls` serves it as JSON
(`calls_to_json`), which `fetch_call_log` reads back from another process: time.monotonic() is
the system-wide CLOCK_MONOTONIC on Linux, so times compare across processes of one machine.
`max_in_window` is the measure the tests and benchmarks use: the most calls of one family in any
window of `window` seconds. Neighbours: `traffic`, `server`, `tests/sandbox/test_sandbox_quotas`.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

CALLS_PATH = "/_psctl/calls"


@dataclass(frozen=True)
class Call:
    """One request the sandbox served: `family` groups services that share quotas (apigateway
    and apigatewayv2 are both "apigateway")."""

    time: float
    service: str
    family: str
    operation: str
    throttled: bool


class CallLog:
    """An append-only, thread-safe log of `Call`s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def append(self, call: Call) -> None:
        """Record one call."""
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> list[Call]:
        """The calls so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()


def max_in_window(log: Iterable[Call], service_family: str, window: float = 1.0) -> int:
    """The most calls of `service_family` (a family or a service name) that fall in any window
    of `window` seconds, i.e. within [t, t + window) for some t. Throttled calls count: AWS
    counts every request it receives."""
    if window <= 0:
        raise ValueError(f"window must be positive, not {window}")
    times = sorted(c.time for c in log if service_family in (c.family, c.service))
    best = 0
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def calls_to_json(calls: Iterable[Call], **extra: Any) -> bytes:
    """`{"calls": [{"time", "service", "family", "operation", "throttled"}...], **extra}`."""
    return json.dumps({**extra, "calls": [asdict(c) for c in calls]}).encode()


def fetch_call_log(endpoint_url: str, timeout: float = 10.0) -> list[Call]:
    """The call log of the sandbox at `endpoint_url` (`GET /_psctl/calls`)."""
    url = endpoint_url.rstrip("/") + CALLS_PATH
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) endpoint: {endpoint_url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked above
        document = json.load(response)
    return [Call(**entry) for entry in document["calls"]]
