"""The sandbox's front door: a WSGI middleware around moto's app that counts, throttles and pages.

For every request a client sends, `Traffic` names the service and operation
(`operations.identify`), asks the `quotas.Limiter` in force (none with `--quotas off`), records a
`calls.Call` and then either answers as AWS does over quota (`throttle_answer`: each service's
own status, error code and body) or lets moto serve it, through `paging.paged` for API Gateway's
list operations while paging is on. `GET /_psctl/calls` serves the call log as JSON and `DELETE
/_psctl/calls` clears it. The sandbox's own requests are neither counted nor throttled: moto's
`/moto-api/` endpoints (reset, config) by path, and the seeding clients by the
`INTERNAL_HEADER` they send (`server._client(..., internal=True)`); the ECS agent reads moto's
backends directly and never reaches this door.
Paging follows the quotas unless set: AWS always pages, but a page only matters to a client's
call count and budget, which only quotas make observable, and with quotas off the sandbox keeps
moto's single page so `--quotas off` (the demo's default) changes nothing of what was served
before. A `tap` (the sandbox's CloudTrail) sees and serves every call let through.
Neighbours: `server` (installs it), `quotas`, `calls`, `paging`, `operations`, `cloudtrail`.
"""

from __future__ import annotations

import functools
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.iam.models import get_account_id_from

from controller.sandbox import paging
from controller.sandbox.calls import CALLS_PATH, Call, CallLog, calls_to_json
from controller.sandbox.operations import Operation, identify, warm
from controller.sandbox.quotas import Limiter, Quotas

INTERNAL_HEADER = "X-Psctl-Sandbox-Internal"
_INTERNAL_KEY = "HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")
_FORM = "application/x-www-form-urlencoded"

WsgiApp = paging.WsgiApp
Answer = tuple[str, list[tuple[str, str]], bytes]
Tap = Callable[[WsgiApp, dict[str, Any], Callable[..., Any], Operation], Iterable[bytes]]


def throttle_answer(service: str) -> Answer:
    """(status, headers, body) AWS answers a call of `service` over its quota with."""
    request_id = str(uuid.uuid4())
    if service in ("apigateway", "apigatewayv2"):
        return (
            "429 Too Many Requests",
            [
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", "TooManyRequestsException"),
                ("x-amzn-RequestId", request_id),
            ],
            json.dumps({"message": "Too Many Requests"}).encode(),
        )
    if service == "ec2":
        body = (
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            "<Message>Request limit exceeded.</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return "503 Service Unavailable", [("Content-Type", "text/xml")], body.encode()
    if service in ("elbv2", "elb"):
        version = "2015-12-01" if service == "elbv2" else "2012-06-01"
        body = (
            f'<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/{version}/">'
            "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return "400 Bad Request", [("Content-Type", "text/xml")], body.encode()
    return (  # ECS and the other JSON 1.1 services
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)],
        json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode(),
    )


class Traffic:
    """The middleware's state: the quotas in force, paging, and the call log."""

    def __init__(self, quotas: Quotas | None = None, paging: bool | None = None) -> None:
        self.log = CallLog()
        self._lock = threading.Lock()
        self._limiter = Limiter(quotas) if quotas is not None else None
        self._paging = paging
        self.tap: Tap | None = None
        """Sees every call it lets through, and serves it (`cloudtrail.CloudTrail.tap`)."""

    @property
    def quotas(self) -> Quotas | None:
        """The quotas in force (None: off)."""
        limiter = self._limiter
        return limiter.quotas if limiter is not None else None

    def set_quotas(self, quotas: Quotas | None) -> None:
        """Enforce `quotas` from now on, with full buckets (None: stop throttling)."""
        with self._lock:
            self._limiter = Limiter(quotas) if quotas is not None else None

    @property
    def paging(self) -> bool:
        """Whether API Gateway's list operations answer in pages (set, else with quotas on)."""
        return self._limiter is not None if self._paging is None else self._paging

    def set_paging(self, paging: bool | None) -> None:
        """Page (True), do not (False), or follow the quotas (None)."""
        self._paging = paging

    def refill(self) -> None:
        """Fill every bucket again (a reset makes a fresh account)."""
        self.set_quotas(self.quotas)

    def wrap(self, app: WsgiApp) -> WsgiApp:
        """`app` behind this door."""
        warm()

        def door(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            return self._serve(app, environ, start_response)

        return door

    def _serve(
        self, app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CALLS_PATH:
            return self._calls_endpoint(environ, start_response)
        if environ.get(_INTERNAL_KEY) or path.startswith("/moto-api/"):
            return app(environ, start_response)
        operation = identify(environ, _read_form(environ))
        if operation is None:
            return app(environ, start_response)
        limiter = self._limiter
        throttled = limiter is not None and not limiter.try_acquire(
            get_account_id_from(operation.access_key),
            operation.region,
            operation.family,
            operation.operation,
        )
        name = operation.operation
        self.log.append(
            Call(time.monotonic(), operation.service, operation.family, name, throttled)
        )
        if throttled:
            return _answer(start_response, throttle_answer(operation.service))
        serve: WsgiApp = app
        if self.paging and _is_paged(operation):
            serve = functools.partial(paging.paged, app)
        tap = self.tap
        if tap is not None:  # the sandbox's CloudTrail (`cloudtrail`)
            return tap(serve, environ, start_response, operation)
        return serve(environ, start_response)

    def _calls_endpoint(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "DELETE":
            self.log.clear()
            return _answer(start_response, ("204 No Content", [], b""))
        if method != "GET":
            return _answer(
                start_response, ("405 Method Not Allowed", [("Allow", "GET, DELETE")], b"")
            )
        quotas = self.quotas
        body = calls_to_json(
            self.log.snapshot(),
            quotas=quotas.label if quotas is not None else "off",
            paging=self.paging,
        )
        return _answer(start_response, ("200 OK", [("Content-Type", "application/json")], body))


def _is_paged(operation: Operation) -> bool:
    return operation.service == "apigateway" and operation.operation in paging.PAGED_OPERATIONS


def _answer(start_response: Callable[..., Any], answer: Answer) -> list[bytes]:
    status, headers, body = answer
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _read_form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """The urlencoded body of a query-protocol call (EC2, ELB), put back for moto to read."""
    if not environ.get("CONTENT_TYPE", "").startswith(_FORM):
        return {}
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        return {}
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
