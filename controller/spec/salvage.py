"""The cross-field rules of a structurally invalid document: every problem in one validate.

A document with a structural error (a bad `metadata.name`, `drift.mode: Fix`, port 70000) has no
model, so the rules (`rules.check`) could not run and their problems (memory for cpu, TLS
without certificate, a bad `drift.ignoreFields` path) only showed once the first was fixed.
`rule_problems` repairs a copy of the data instead: each field in error is dropped (its default
applies), or replaced by a placeholder where the contract requires it, or, failing both, its
parent is dropped; what was repaired is "tainted". Once the copy validates, every rule that
reads nothing tainted runs (`rules.check(ps, skip=tainted)`), so a placeholder or a default
never causes a problem of its own. Neighbours: `loader` (calls this after the structural
problems), `rules` (the rules and what each reads), `names` (paths and model types).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from controller.spec.models import PrivateService
from controller.spec.names import Loc, did_you_mean, field_types, is_model, render_path, type_at
from controller.spec.rules import Problem, check

ROUNDS = 8
"""Repairs reveal at most a few new errors each (a dropped required field's parent...)."""

PLACEHOLDERS: dict[str, object] = {
    "metadata": {"name": "placeholder"},
    "metadata.name": "placeholder",
    "spec.network": {},
    "spec.container": {"image": "placeholder", "port": 80},
    "spec.container.image": "placeholder",
    "spec.container.port": 80,
    "spec.service": {"cluster": "placeholder"},
    "spec.service.cluster": "placeholder",
}
"""Stand-ins for the required fields of required objects (nothing to drop them into)."""


def _parent_and_key(data: Any, loc: Loc) -> tuple[Any, str | int] | None:
    """The container holding `loc` in `data` and the key or index in it, or None."""
    node = data
    for segment in loc[:-1]:
        in_map = isinstance(node, Mapping) and segment in node
        in_list = isinstance(node, list) and isinstance(segment, int) and segment < len(node)
        if not (in_map or in_list):
            return None
        node = node[segment]
    return node, loc[-1]


def _required(loc: Loc) -> bool:
    """Whether the field at `loc` is a required field of its model."""
    parent = type_at(loc[:-1])
    if not is_model(parent) or not isinstance(loc[-1], str):
        return False
    return any(
        (f.alias or name) == loc[-1] and f.is_required() for name, f in parent.model_fields.items()
    )


def _repair(data: Any, loc: Loc, tainted: set[str]) -> bool:
    """Drop or replace the value at `loc` (or, failing that, its parent); False when only the
    whole document could go."""
    while loc:
        path = render_path(loc)
        found = _parent_and_key(data, loc)
        if path in PLACEHOLDERS:
            if found is not None and isinstance(found[0], MutableMapping):
                found[0][found[1]] = copy.deepcopy(PLACEHOLDERS[path])
                tainted.add(path)
                return True
            loc = loc[:-1]
            continue
        if not _required(loc) and found is not None:
            holder, key = found
            if isinstance(holder, MutableMapping) and key in holder:
                del holder[key]
                tainted.add(path)
                return True
            if isinstance(holder, list) and isinstance(key, int) and key < len(holder):
                del holder[key]  # later indexes shift: the whole list is tainted
                tainted.add(render_path(loc[:-1]))
                return True
        loc = loc[:-1]
    return False


def _misspelt(loc: Loc) -> str | None:
    """For an unknown field, the path of the known field it is close to, if any."""
    parent = type_at(loc[:-1])
    if not is_model(parent):
        return None
    hint = did_you_mean(str(loc[-1]), sorted(field_types(parent)))
    return render_path((*loc[:-1], hint.split("'")[1])) if hint else None


def _fix(data: Any, errors: Iterable[ErrorDetails], tainted: set[str]) -> bool:
    """Repair every error of one validation round; False when one cannot be repaired."""
    locs = []
    for error in errors:
        loc: Loc = tuple(s for s in error["loc"] if s != "[key]")
        if error["type"] == "extra_forbidden" and (meant := _misspelt(loc)) is not None:
            tainted.add(meant)  # `memroy: 1`: the rules reading `memory` are unreliable
        locs.append(loc[:-1] if error["type"] == "missing" and _required(loc) else loc)

    # deepest and last first: deleting a list item does not move those still to delete
    def order(loc: Loc) -> tuple[int, int]:
        return len(loc), loc[-1] if loc and isinstance(loc[-1], int) else -1

    return all(_repair(data, loc, tainted) for loc in sorted(set(locs), key=order, reverse=True))


def rule_problems(data: Mapping[str, Any], errors: list[ErrorDetails]) -> list[Problem]:
    """The problems of every rule that reads no field in error, for a document whose
    `errors` (pydantic's, from `PrivateService.model_validate(data)`) made it invalid."""
    repaired, tainted = copy.deepcopy(dict(data)), set[str]()
    for _ in range(ROUNDS):
        if not _fix(repaired, errors, tainted):
            return []
        try:
            ps = PrivateService.model_validate(repaired, by_alias=True, by_name=False)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            continue
        return check(ps, skip=tainted)
    return []
