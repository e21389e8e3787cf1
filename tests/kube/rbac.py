"""Which RBAC permission each request to the API server needs, and whether deploy/ grants it.

`needed` maps the fake API server's request log to (apiGroup, resource, verb, namespace);
`granted` reads the ClusterRole and namespaced Role of deploy/kubernetes/base/rbac.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "base" / "rbac.yaml"
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}

Need = tuple[str, str, str, str | None]


def needed(requests: Iterable[tuple[str, str, str]]) -> set[Need]:
    """(apiGroup, resource[/subresource], verb, namespace or None) per request."""
    out: set[Need] = set()
    for method, path, _ in requests:
        parts = path.strip("/").split("/")
        if parts[0] == "api":  # /api/v1/...
            group, rest = "", parts[2:]
        else:  # /apis/{group}/{version}/...
            group, rest = parts[1], parts[3:]
        namespace = None
        if rest[:1] == ["namespaces"] and len(rest) > 2:
            namespace, rest = rest[1], rest[2:]
        resource, name, sub = rest[0], rest[1] if len(rest) > 1 else None, rest[2:3]
        full = f"{resource}/{sub[0]}" if sub else resource
        verbs = [VERBS[method]] if method != "GET" else ["get"] if name else ["list", "watch"]
        out.update((group, full, verb, namespace) for verb in verbs)
    return out


def _rules() -> list[tuple[dict[str, Any], str | None]]:
    rules = []
    for doc in yaml.safe_load_all(RBAC.read_text(encoding="utf-8")):
        if doc["kind"] == "ClusterRole":
            rules += [(rule, None) for rule in doc["rules"]]
        elif doc["kind"] == "Role":
            rules += [(rule, doc["metadata"]["namespace"]) for rule in doc["rules"]]
    return rules


def grants() -> set[Need]:
    """Every (apiGroup, resource, verb, Role namespace or None) the RBAC grants."""
    return {
        (group, resource, verb, scope)
        for rule, scope in _rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def granted(need: Need) -> bool:
    """Whether a rule of deploy/'s RBAC allows it (a Role only in its own namespace)."""
    group, resource, verb, namespace = need
    return any(
        group in rule["apiGroups"]
        and resource in rule["resources"]
        and verb in rule["verbs"]
        and (scope is None or scope == namespace)
        for rule, scope in _rules()
    )
