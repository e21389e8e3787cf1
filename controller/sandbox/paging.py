"""API Gateway's paging, which moto lacks: list operations answer one page of `limit` items.

AWS's API Gateway list operations (GetRestApis, GetResources, GetDeployments, GetVpcLinks,
GetUsagePlans, GetApiKeys, ...: every operation botocore's paginator model pages with
`position`, `PAGED_OPERATIONS`) return at most `limit` items, 25 by default and 500 at most,
and a `position` token when more remain; moto returns every item at once. `paged` runs moto's
answer and cuts it: the JSON `item` list (botocore's `items`) is sliced at an offset carried in
an opaque `position` token; moto lists in creation order, so pages are stable while nothing is
created or deleted. Non-list answers (GetUsage's map) and errors pass through untouched.
Source: "GetRestApis" in the Amazon API Gateway API Reference
(docs.aws.amazon.com/apigateway/latest/api/API_GetRestApis.html): "limit: The maximum number of
returned results per page. The default value is 25 and the maximum value is 500."
Neighbours: `traffic` (calls `paged` when paging is on), `operations`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import botocore.session

DEFAULT_LIMIT = 25
MAX_LIMIT = 500

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _paged_operations() -> frozenset[str]:
    loader = botocore.session.get_session().get_component("data_loader")
    config: dict[str, dict[str, Any]] = loader.load_service_model("apigateway", "paginators-1")[
        "pagination"
    ]
    # API Gateway v1 pages with `position` (v2 with NextToken, which moto implements)
    return frozenset(name for name, spec in config.items() if spec["input_token"] == "position")  # noqa: S105


PAGED_OPERATIONS = _paged_operations()


def encode_position(offset: int) -> str:
    """An opaque `position` token for the item at `offset`."""
    return base64.urlsafe_b64encode(f"psctl:{offset}".encode()).decode().rstrip("=")


def decode_position(token: str) -> int:
    """The offset a `position` token stands for; ValueError when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise ValueError(token) from error
    prefix, _, offset = text.partition(":")
    if prefix != "psctl" or not offset.isdigit():
        raise ValueError(token)
    return int(offset)


def _bad_request(start_response: Callable[..., Any], message: str) -> list[bytes]:
    body = json.dumps({"message": message}).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "BadRequestException"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def paged(app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Serve a paged list operation: moto's full answer cut to one page."""
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    limits = [value for key, value in query if key == "limit"]
    positions = [value for key, value in query if key == "position"]
    try:
        limit = min(MAX_LIMIT, max(1, int(limits[-1]))) if limits else DEFAULT_LIMIT
        offset = decode_position(positions[-1]) if positions and positions[-1] else 0
    except ValueError:
        return _bad_request(start_response, "Invalid position or limit")
    inner = dict(environ)
    inner["QUERY_STRING"] = urlencode([(k, v) for k, v in query if k not in ("limit", "position")])
    captured: list[Any] = []
    chunks: list[bytes] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured[:] = [status, headers]
        return chunks.append

    result = app(inner, capture)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = captured
    body = b"".join(chunks)
    if status.startswith("200"):
        document = json.loads(body or b"{}")
        items = document.get("item") if isinstance(document, dict) else None
        if isinstance(items, list):
            document["item"] = items[offset : offset + limit]
            document.pop("position", None)
            if offset + limit < len(items):
                document["position"] = encode_position(offset + limit)
            body = json.dumps(document).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]
