"""The sandbox's CloudTrail: every mutating call someone else makes becomes an EventBridge event.

AWS records each management API call in CloudTrail and puts it on the account's default
EventBridge bus as `detail-type: AWS API Call via CloudTrail`, `source: aws.<service>`, best
effort, seconds to minutes later ("AWS service events delivered via AWS CloudTrail",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html). moto
emits none. `CloudTrail.tap` sits in `traffic`'s door: for each successful mutating call of a
chain service that is NOT signed with one of `controller_keys` (the controller's own calls are
left out, as `psctl run --events` would drop them anyway), it builds the record with CloudTrail's
field names ("CloudTrail record contents",
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html):
`eventVersion`, `userIdentity` (`type` IAMUser, `arn`, `accountId`, `accessKeyId`, `userName`:
the sandbox has no principals behind keys, so the user name is the access key id), `eventTime`,
`eventSource` (`<signing name>.amazonaws.com`), `eventName`, `awsRegion`, `sourceIPAddress`,
`userAgent`, `requestParameters` (the call's parameters in camelCase: query-protocol lists as
EC2's `{"items": [...]}` and ELB's plain lists, REST path parameters by their model names),
`responseElements` (JSON answers only), `requestID`, `eventID`, `readOnly`, `eventType`,
`managementEvent`, `recipientAccountId`, `eventCategory`; after `delay` seconds (default 1) a
thread puts it on the default bus with PutEvents over HTTP (the sandbox's own, uncounted call).
Failed calls are not emitted (CloudTrail does record them, with `errorCode`).
Neighbours: `traffic` (calls `tap`), `server` (starts it), `operations` (names the call).
"""

from __future__ import annotations

import functools
import heapq
import io
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.exceptions
import botocore.session
from moto.iam.models import get_account_id_from

from controller.aws.session import is_mutating
from controller.sandbox.operations import Operation

Serve = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Put = Callable[[list[dict[str, str]]], object]
DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_SOURCES = {
    "ec2": "ec2",
    "elbv2": "elasticloadbalancing",
    "apigateway": "apigateway",
    "apigatewayv2": "apigateway",
    "ecs": "ecs",
    "lambda": "lambda",
    "servicediscovery": "servicediscovery",
    "iam": "iam",
    "logs": "logs",
}
"""botocore service -> CloudTrail's eventSource prefix, for the services the chain uses."""
DELAY_ENV = "PSCTL_SANDBOX_CLOUDTRAIL_SECONDS"
_SKIP_FORM = frozenset({"Action", "Version"})


def delay_from_env(default: float = 1.0) -> float:
    """`PSCTL_SANDBOX_CLOUDTRAIL_SECONDS`, else `default`."""
    value = os.environ.get(DELAY_ENV)
    return float(value) if value else default


class CloudTrail:
    """Records other principals' mutating calls and delivers them to EventBridge, delayed."""

    def __init__(self, controller_keys: Iterable[str], delay: float = 1.0) -> None:
        self.controller_keys = frozenset(controller_keys)
        self.delay = delay
        self.emitted = 0
        self._put: Put | None = None
        self._due: list[tuple[float, int, dict[str, str]]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- the door ------------------------------------------------------------------------
    def tap(
        self,
        serve: Serve,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        operation: Operation,
    ) -> Iterable[bytes]:
        """Serve the call; record it when it is another principal's successful write."""
        if (
            self._put is None
            or operation.access_key in self.controller_keys
            or operation.service not in EVENT_SOURCES
            or not is_mutating(operation.operation)
        ):
            return serve(environ, start_response)
        body = _read_body(environ)
        status: list[str] = []

        def capture(code: str, headers: Any, *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        answer = b"".join(serve(environ, capture))
        if status and int(status[0].split()[0]) < 400:
            record = build_record(operation, environ, body, answer)
            self._schedule(record)
        return [answer]

    # -- delivery ------------------------------------------------------------------------
    def start(self, put: Put) -> None:
        """Deliver with `put(entries)` (PutEvents) from a thread of its own."""
        self._put, self._stopping = put, False
        self._thread = threading.Thread(
            target=self._deliver, name="sandbox-cloudtrail", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering (pending events are dropped)."""
        with self._cond:
            self._stopping = True
            self._put = None
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def clear(self) -> None:
        """Drop the events not delivered yet (a reset makes a fresh account)."""
        with self._cond:
            self._due.clear()

    def _schedule(self, record: dict[str, Any]) -> None:
        entry = {
            "Source": f"aws.{record['eventSource'].split('.', 1)[0]}",
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(record),
        }
        with self._cond:
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + self.delay, self._seq, entry))
            self._cond.notify_all()

    def _deliver(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._due or self._due[0][0] > time.monotonic()):
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                if self._stopping:
                    return
                batch: list[dict[str, str]] = []
                while self._due and self._due[0][0] <= time.monotonic() and len(batch) < 10:
                    batch.append(heapq.heappop(self._due)[2])
                put = self._put
            if put is not None and batch:
                try:
                    put(batch)
                    self.emitted += len(batch)
                except Exception:  # noqa: S112 - best effort, as CloudTrail's delivery
                    continue


def build_record(
    operation: Operation, environ: dict[str, Any], body: bytes, answer: bytes
) -> dict[str, Any]:
    """The CloudTrail record of one call (see the module docstring for the fields)."""
    account = get_account_id_from(operation.access_key)
    key = operation.access_key
    source = EVENT_SOURCES[operation.service]
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": f"AIDA{abs(hash(key)) % 10**12:012d}",
            "arn": f"arn:aws:iam::{account}:user/{key}",
            "accountId": account,
            "accessKeyId": key,
            "userName": key,
        },
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{source}.amazonaws.com",
        "eventName": operation.operation,
        "awsRegion": operation.region,
        "sourceIPAddress": environ.get("REMOTE_ADDR") or "127.0.0.1",
        "userAgent": environ.get("HTTP_USER_AGENT", ""),
        "requestParameters": request_parameters(operation, environ, body) or None,
        "responseElements": _json_object(answer),
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def request_parameters(
    operation: Operation, environ: dict[str, Any], body: bytes
) -> dict[str, Any]:
    """The call's parameters as CloudTrail spells them (camelCase)."""
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return nest_form(form, ec2=operation.service == "ec2")
    params = _json_object(body) or {}
    if not environ.get("HTTP_X_AMZ_TARGET"):  # a REST call: its path names resources too
        params = {**path_parameters(operation, environ.get("PATH_INFO", "")), **params}
    return params


def path_parameters(operation: Operation, path: str) -> dict[str, str]:
    """REST calls: the values of the request URI's `{placeholders}`, by their member names."""
    model = model_of(operation.service)
    if model is None:
        return {}
    op = model.operation_model(operation.operation)
    template = op.http.get("requestUri", "/").partition("?")[0]
    names = {
        member.serialization.get("name"): name
        for name, member in (op.input_shape.members.items() if op.input_shape else [])
        if member.serialization.get("location") == "uri"
    }
    pattern = re.sub(
        r"\\\{([^}+]+)\+?\\\}",
        lambda m: f"(?P<{_group(m.group(1))}>.+?)",
        re.escape(template.rstrip("/") or "/"),
    )
    found = re.fullmatch(pattern + "/?", path)
    if found is None:
        return {}
    out = {}
    for group, value in found.groupdict().items():
        member = names.get(_ungroup(group), _ungroup(group))
        out[_camel(member)] = unquote(value)
    return out


def nest_form(form: dict[str, list[str]], *, ec2: bool) -> dict[str, Any]:
    """`IpPermissions.1.IpRanges.1.CidrIp=...` -> nested camelCase, lists as EC2 or ELB spell
    them in CloudTrail (`{"items": [...]}` for EC2, plain lists for ELB's `.member.N`)."""
    root: dict[str, Any] = {}
    for flat, values in form.items():
        if flat in _SKIP_FORM or not values:
            continue
        parts = [p for p in flat.split(".") if p != "member"]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            key: Any = int(part) - 1 if part.isdigit() else _camel(part)
            nxt: Any = values[0] if last else ({} if not parts[i + 1].isdigit() else [])
            if isinstance(node, list):
                while len(node) <= key:
                    node.append(None)
                if node[key] is None:
                    node[key] = nxt
                node = node[key]
            else:
                node = node.setdefault(key, nxt)
    return _items(root) if ec2 else root


@functools.cache
def model_of(service: str) -> Any:
    """botocore's service model of `service` (None when botocore does not know it)."""
    try:
        return botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.BotoCoreError:
        return None


def _items(value: Any) -> Any:
    if isinstance(value, list):
        return {"items": [_items(v) for v in value]}
    if isinstance(value, dict):
        return {k: _items(v) for k, v in value.items()}
    return value


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _group(name: str) -> str:
    return "g_" + re.sub(r"\W", "_", name)


def _ungroup(group: str) -> str:
    return group[2:]


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back for moto to read."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    body = stream.read(int(length)) if length.isdigit() else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
