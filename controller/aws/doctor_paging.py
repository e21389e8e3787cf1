"""Paging and batching for doctor's reads: follow a list's continuation token to the end, and
cut id lists to the size a Describe accepts. Pure (no boto3): the caller passes the one-page call.
Neighbours: `controller.aws.doctor_reads` (the only user).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

MAX_PAGES = 100
"""A safety stop: a list longer than this many pages is cut (never an endless loop)."""


def pages(
    call: Callable[..., dict[str, Any] | None],
    key: str,
    token: tuple[str, str],
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """Every item under `key` of every page; `token` is (request parameter, response field)
    of the continuation token. A missing collection (`call` answers None) is []."""
    sent, received = token
    items: list[Any] = []
    request = dict(params)
    for _ in range(MAX_PAGES):
        page = call(**request)
        if page is None:
            break
        items += page.get(key, [])
        nxt = page.get(received)
        if not nxt:
            break
        request[sent] = nxt
    return items


def batched(ids: list[str], size: int) -> Iterator[list[str]]:
    """`ids` in chunks of at most `size` (none for an empty list)."""
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
