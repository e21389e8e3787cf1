"""Human and JSON renderings of engine outcomes (plan, apply progress, delete).

Values known only after apply print as "(known after apply)"; API key values never reach here
(handlers do not read them). Neighbours: `controller.reconcile.engine`, `controller.cli_aws`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from controller.handlers.base import flatten
from controller.model.stack import Unknown
from controller.reconcile.engine import Action, Change, Outcome

SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.WAIT: "…",
    Action.BLOCKED: "…",
    Action.CONFLICT: "!",
    Action.FAILED: "!",
    Action.RETAIN: "=",
    Action.NOOP: " ",
}


def plain(value: Any) -> Any:
    """JSON-safe value: UNKNOWN as text, tuples as lists."""
    if isinstance(value, Unknown):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def change_json(change: Change) -> dict[str, Any]:
    """One change as a JSON object."""
    out: dict[str, Any] = {
        "key": change.key,
        "kind": change.kind,
        "component": change.component,
        "action": str(change.action),
        "id": change.id,
    }
    if change.deltas:
        out["changes"] = [
            {"path": d.path, "desired": plain(d.desired), "actual": plain(d.actual)}
            for d in change.deltas
        ]
    if change.action is Action.CREATE and change.props is not None:
        out["desired"] = plain(change.props)
    if change.message:
        out["message"] = change.message
    if change.downtime:
        out["downtime"] = change.downtime
    return out


def _delta_lines(path: str, actual: Any, desired: Any) -> list[str]:
    """One field's change: `path: old -> new`, or for two lists one line per element added
    (`+`) or removed (`-`), as Terraform shows a set (an ingress rule, not the list twice)."""
    if not (isinstance(actual, list) and isinstance(desired, list)):
        return [f"      {path}: {json.dumps(actual)} -> {json.dumps(desired)}"]
    have = [json.dumps(v, sort_keys=True) for v in actual]
    want = [json.dumps(v, sort_keys=True) for v in desired]
    added = [v for v in want if v not in have]
    removed = [v for v in have if v not in want]
    if not (added or removed):  # same elements, another order
        return [f"      {path}: reordered"]
    counts = [
        f"{len(added)} to add" if added else "",
        f"{len(removed)} to remove" if removed else "",
    ]
    head = f"      {path}: {', '.join(c for c in counts if c)}"
    return [head] + [f"        + {v}" for v in added] + [f"        - {v}" for v in removed]


def change_lines(change: Change, *, verbose: bool = True) -> list[str]:
    """One change as text: a head line, then one line per field."""
    action = str(change.action)
    if change.downtime and change.action.mutates:  # `replace (downtime: scheme: new DNS...)`
        action = f"{action} (downtime: {change.downtime})"
    head = f"{SYMBOL[change.action]} {action:<8} {change.key}"
    if change.id and change.action is not Action.CREATE:
        head += f" ({change.id})"
    if change.message:
        head += f": {change.message}"
    lines = [head]
    if not verbose:
        return lines
    for d in change.deltas:
        lines += _delta_lines(d.path, plain(d.actual), plain(d.desired))
    if change.action is Action.CREATE and change.props is not None:
        for path, value in flatten(plain(change.props)).items():
            lines.append(f"      {path}: {json.dumps(value)}")
    return lines


def plan_text(name: str, outcome: Outcome) -> str:
    """A plan for one service."""
    shown = [c for c in outcome.changes if c.action is not Action.NOOP]
    if not shown:
        return f"{name}: no changes"
    counts = {
        a: sum(c.action is a for c in shown)
        for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)
    }
    summary = ", ".join(f"{n} to {a}" for a, n in counts.items() if n)
    body = "\n".join(line for c in shown for line in change_lines(c))
    return f"{name}: {summary or 'nothing to change'}\n{body}"
