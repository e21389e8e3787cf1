"""AWS names of the model's resources, built on `controller.spec.names` (prefix and hashing)."""

from __future__ import annotations

from controller.spec.names import PREFIX, shorten


def aws_name(namespace: str, name: str, suffix: str, limit: int) -> str:
    """`ps-<namespace>-<name>[-<suffix>]`, hashed to fit `limit` (see `spec.names.shorten`)."""
    return shorten("-".join(p for p in (PREFIX, namespace, name, suffix) if p), limit)


def log_group_name(namespace: str, name: str) -> str:
    """The contract's log group name."""
    return f"/privateservice/{namespace}/{name}"


def api_object_name(namespace: str, name: str, item: str = "") -> str:
    """Names of API Gateway objects (no tight limit there): readable `<ns>/<name>[/<item>]`."""
    return "/".join(p for p in (namespace, name, item) if p)
