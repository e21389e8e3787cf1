"""Name the AWS service and operation of an incoming HTTP request, as AWS's front door does.

`identify(environ, form)` reads what a signed SDK request carries: the SigV4 `Authorization`
header's credential scope (access key, Region, signing name), then the operation from
`X-Amz-Target` (JSON protocols: ECS, ...), from `Action=` in the form body or the query
string (EC2, ELB, IAM, ...), or, for REST protocols (API Gateway v1 and v2, Lambda, ...), from
the method and path matched against botocore's service model (`_RestMatcher`, built once per
service from each operation's `http.method` and `http.requestUri`). API Gateway v1 and v2 both
sign as `apigateway`: v2's paths start with `/v2/`. Requests without a SigV4 signature (moto's
own `/moto-api/`, a browser) are not AWS calls and yield None.
Neighbours: `traffic` (throttles and logs what this names), `quotas` (families).
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import botocore.exceptions
import botocore.session

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
_SIGNING_TO_SERVICE = {"elasticloadbalancing": "elbv2", "monitoring": "cloudwatch"}
FAMILIES = {"apigatewayv2": "apigateway"}


@dataclass(frozen=True)
class Operation:
    """Who called what: the botocore service name, its quota family and the operation."""

    service: str
    family: str
    operation: str
    access_key: str
    region: str


def identify(environ: dict[str, Any], form: dict[str, list[str]]) -> Operation | None:
    """The AWS operation `environ` asks for; `form` is its parsed urlencoded body, if any."""
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is None:
        return None
    access_key, region, signing = found.groups()
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    path = environ.get("PATH_INFO", "")
    service = _SIGNING_TO_SERVICE.get(signing, signing)
    if signing == "apigateway" and path.startswith("/v2/"):
        service = "apigatewayv2"
    version = (form.get("Version") or query.get("Version") or [""])[0]
    if signing == "elasticloadbalancing" and version == "2012-06-01":
        service = "elb"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = (form.get("Action") or query.get("Action") or [""])[0]
    if target:
        operation = target.rsplit(".", 1)[-1]
    elif action:
        operation = action
    else:
        matcher = _matcher(service)
        method = environ.get("REQUEST_METHOD", "GET")
        operation = matcher.match(method, path, query) if matcher is not None else ""
    return Operation(service, FAMILIES.get(service, service), operation, access_key, region)


class _RestMatcher:
    """method + path (+ required query keys) -> operation name, from botocore's model."""

    def __init__(self, service: str) -> None:
        model = _botocore().get_service_model(service)
        self._routes: list[tuple[int, int, str, re.Pattern[str], frozenset[str], str]] = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http.get("requestUri", "/")
            path, _, query = uri.partition("?")
            keys = frozenset(part.split("=", 1)[0] for part in query.split("&") if part)
            pattern = re.compile(self._regex(path))
            literal = len(re.sub(r"\{[^}]+\}", "", path))
            self._routes.append(
                (len(keys), literal, http.get("method", "GET"), pattern, keys, name)
            )
        self._routes.sort(key=lambda route: (-route[0], -route[1]))

    @staticmethod
    def _regex(template: str) -> str:
        out = []
        for piece in re.split(r"(\{[^}]+\})", template.rstrip("/") or "/"):
            if piece.startswith("{"):
                out.append(".+" if piece.endswith("+}") else "[^/]+")
            else:
                out.append(re.escape(piece))
        return "".join(out) + "/?"

    def match(self, method: str, path: str, query: dict[str, list[str]]) -> str:
        """The operation, or "" when no route fits."""
        for _keys, _literal, route_method, pattern, keys, name in self._routes:
            if route_method == method and pattern.fullmatch(path) and keys <= query.keys():
                return name
        return ""


_lock = threading.Lock()


@functools.cache
def _botocore() -> Any:
    return botocore.session.get_session()


_matchers: dict[str, _RestMatcher | None] = {}


def warm(services: tuple[str, ...] = ("apigateway", "apigatewayv2")) -> None:
    """Build these services' matchers now, so that no first call waits for botocore's model
    (a wait that would refill buckets between a call's arrival and its token)."""
    for service in services:
        _matcher(service)


def _matcher(service: str) -> _RestMatcher | None:
    with _lock:
        if service not in _matchers:
            try:
                _matchers[service] = _RestMatcher(service)
            except botocore.exceptions.BotoCoreError:  # unknown: only loses operation names
                _matchers[service] = None
        return _matchers[service]
