"""Deterministic AWS names derived from `<namespace>/<name>`, within each service's limits."""

from __future__ import annotations

import hashlib
import re


def aws_name(namespace: str, name: str, suffix: str, limit: int) -> str:
    """`ps-<namespace>-<name>-<suffix>`, hashed to fit `limit` while staying unique.

    ELBv2 names allow 32 chars of [A-Za-z0-9-] with no leading or trailing hyphen; hashing the
    full name keeps two long names apart deterministically.
    """
    full = "-".join(p for p in ("ps", namespace, name, suffix) if p)
    full = re.sub(r"[^A-Za-z0-9-]", "-", full)
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    head = full[: limit - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def log_group_name(namespace: str, name: str) -> str:
    """The contract's log group name."""
    return f"/privateservice/{namespace}/{name}"


def api_object_name(namespace: str, name: str, item: str = "") -> str:
    """Names of API Gateway objects (no tight limit there): readable `<ns>/<name>[/<item>]`."""
    return "/".join(p for p in (namespace, name, item) if p)
