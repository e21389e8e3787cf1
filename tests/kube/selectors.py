"""Label and field selectors, as `labelSelector` / `fieldSelector` query parameters spell them.

Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-separated (all must
hold). Fields: `path=v`, `path==v`, `path!=v` on the dotted paths a kind supports (others raise
`ValueError`, which the server answers with 400). Neighbour: `store`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_SET_TERM = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQUALITY_TERM = re.compile(r"^\s*([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)\s*$")


def _terms(selector: str) -> list[str]:
    """Split on the commas that are not inside a `( ... )` value set."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term.strip() for term in terms if term.strip()]


def _label_term(term: str) -> Predicate:
    def labels(obj: dict[str, Any]) -> dict[str, Any]:
        return dict((obj.get("metadata") or {}).get("labels") or {})

    if match := _SET_TERM.match(term):
        key, operator = match.group(1), match.group(2)
        values = {value.strip() for value in match.group(3).split(",") if value.strip()}
        if operator == "in":
            return lambda obj: labels(obj).get(key) in values
        return lambda obj: labels(obj).get(key) not in values
    if match := _EQUALITY_TERM.match(term):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda obj: labels(obj).get(key) != value
        return lambda obj: labels(obj).get(key) == value
    if term.startswith("!"):
        return lambda obj: term[1:].strip() not in labels(obj)
    if re.fullmatch(r"[^\s!=(),]+", term):
        return lambda obj: term in labels(obj)
    raise ValueError(f"unable to parse requirement: {term!r}")


def _field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _field_term(term: str, supported: Collection[str]) -> Predicate:
    match = _EQUALITY_TERM.match(term)
    if not match:
        raise ValueError(f"invalid selector: {term!r}")
    path, operator, value = match.groups()
    if path not in supported:
        raise ValueError(f'field label not supported: "{path}"')
    if operator == "!=":
        return lambda obj: _field_value(obj, path) != value
    return lambda obj: _field_value(obj, path) == value


def parse_selectors(
    label_selector: str | None, field_selector: str | None, field_labels: Collection[str]
) -> Predicate:
    """One predicate for both selectors (either may be absent: then everything matches)."""
    predicates = [_label_term(term) for term in _terms(label_selector or "")]
    predicates += [_field_term(term, field_labels) for term in _terms(field_selector or "")]
    return lambda obj: all(predicate(obj) for predicate in predicates)
