"""A short-lived cache of read calls, at botocore's level, shared by every pass of a process.

API Gateway's control plane allows 10 calls per second per account, and the account-wide lists
(GetRestApis, GetUsagePlans, GetApiKeys, GetVpcLinks) are read by every service's pass. Within
`ttl` seconds the same read with the same parameters is answered from here: botocore lets a
`before-call` handler answer a call without sending it. Any mutating call on a service empties
that service's entries, so a pass always reads its own writes; `ttl` bounds how stale a change
made behind the controller's back can look (a resync is never shorter than 5 s).
Neighbours: `controller.aws.session` (registers it on each client).
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

CACHEABLE = frozenset(
    {
        ("apigateway", "GetRestApis"),
        ("apigateway", "GetRestApi"),
        ("apigateway", "GetVpcLinks"),
        ("apigateway", "GetUsagePlans"),
        ("apigateway", "GetUsagePlan"),
        ("apigateway", "GetApiKeys"),
        ("apigateway", "GetUsagePlanKeys"),
    }
)
HIT = "psctl_cache_hit"


class ReadCache:
    """(service, operation, request) -> (http response, parsed response, time stored)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.hits = 0
        self._entries: dict[tuple[str, str, str], tuple[Any, Any, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(service: str, operation: str, params: dict[str, Any]) -> tuple[str, str, str]:
        request = (
            params.get("url_path"),
            sorted((params.get("query_string") or {}).items()),
            params.get("body"),
        )
        return (service, operation, repr(request))

    def before_call(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> tuple[Any, Any] | None:
        """botocore `before-call`: answer a fresh cached read, or None to send the call."""
        service, operation = model.service_model.service_name, model.name
        if (service, operation) not in CACHEABLE:
            return None
        with self._lock:
            entry = self._entries.get(self._key(service, operation, params))
            if entry is None or time.monotonic() - entry[2] > self.ttl:
                return None
            self.hits += 1
        context[HIT] = True
        return entry[0], copy.deepcopy(entry[1])

    def after_call(
        self, model: Any, http_response: Any, parsed: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """botocore `after-call`: keep a successful cacheable read."""
        service, operation = model.service_model.service_name, model.name
        if context.get(HIT) or (service, operation) not in CACHEABLE:
            return
        if getattr(http_response, "status_code", 500) >= 300:
            return
        key = self._key(service, operation, context.get("psctl_params") or {})
        with self._lock:
            self._entries[key] = (http_response, copy.deepcopy(parsed), time.monotonic())

    def invalidate(self, service: str) -> None:
        """Forget every entry of `service` (after a mutating call on it)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == service]:
                del self._entries[key]
