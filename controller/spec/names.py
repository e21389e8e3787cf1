"""Names: the camelCase field paths of the spec, and the AWS names derived from it.

Field paths (`spec.api.usagePlans[0].name`) are how every problem names its field: `type_at`
walks the models by their camelCase names (for `drift.ignoreFields` and "did you mean" hints),
`render_path` / `parse_path` convert between pydantic locations and dotted paths.

Every resource the controller creates is named `ps-<namespace>-<name>-<suffix>`. When that is
longer than the AWS limit for the resource (32 characters for load balancers and target groups),
the name is cut and ends with 8 hex digits of the SHA-256 of the full name, so it is still
deterministic, still unique in practice, and always fits. Names use only [A-Za-z0-9-] and never
start or end with a hyphen, which every AWS service the controller uses accepts.

Neighbours: `models` (the identity: `metadata.namespace`, `metadata.name`), `rules` (which
relies on these names fitting by construction), the handlers (which use them where a service
has no tags to find a resource by).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
from collections.abc import Sequence
from typing import Annotated, TypeGuard, Union, get_args, get_origin

from pydantic import BaseModel

from controller.spec.models import PrivateService, Spec

Loc = tuple[str | int, ...]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_PATH_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")

# -- field paths -------------------------------------------------------------------------------


def _unwrap(tp: object) -> object:
    """`X` from `Annotated[X, ...]` and from `X | None`."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def is_model(tp: object) -> TypeGuard[type[BaseModel]]:
    """Whether `tp` is a pydantic model class."""
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def field_types(model: type[BaseModel]) -> dict[str, object]:
    """camelCase name -> annotation of every field of `model`."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def type_at(path: Sequence[str | int], root: type[BaseModel] = PrivateService) -> object | None:
    """The (unwrapped) type at `path` below `root`, or None when no such field exists.

    List indexes are optional (`api.usagePlans.name` and `api.usagePlans[0].name` both resolve)
    and any key is accepted below a map (`tags.team`).
    """
    tp: object = root
    for segment in path:
        tp = _unwrap(tp)
        if get_origin(tp) is list:
            tp = _unwrap(get_args(tp)[0])
            if isinstance(segment, int):
                continue
        if get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif is_model(tp) and isinstance(segment, str):
            fields = field_types(tp)
            if segment not in fields:
                return None
            tp = fields[segment]
        else:
            return None
    return _unwrap(tp)


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """` (did you mean 'x'?)` when a candidate is close to `word`, else the empty string."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_spec_path(path: str) -> str | None:
    """Why `path` (dotted, from `spec`) names no field, or None when it does."""
    segments = path.split(".")
    for depth in range(1, len(segments) + 1):
        if type_at(segments[:depth], Spec) is None:
            parent = type_at(segments[: depth - 1], Spec)
            known = sorted(field_types(parent)) if is_model(parent) else []
            name = segments[depth - 1]
            where = ".".join(segments[: depth - 1]) or "spec"
            hint = did_you_mean(name, known)
            return f"{path!r} is not a spec path: {where} has no field {name!r}{hint}"
    return None


# -- rendering paths ---------------------------------------------------------------------------


def render_path(loc: Loc) -> str:
    """`('spec', 'api', 'usagePlans', 0, 'name')` -> `spec.api.usagePlans[0].name`."""
    out = ""
    for segment in loc:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _IDENTIFIER.match(segment):
            out += f".{segment}" if out else segment
        else:
            out += f"[{segment!r}]"
    return out


def parse_path(path: str) -> Loc:
    """The inverse of `render_path` for identifier and index segments."""
    return tuple(int(index) if index else name for name, index in _PATH_TOKEN.findall(path))


# -- AWS names --------------------------------------------------------------------------------

PREFIX = "ps"
DIGEST_CHARS = 8
# The shortest limit that still leaves room for "ps-" + one character + "-" + the digest.
MIN_LIMIT = len(PREFIX) + 3 + DIGEST_CHARS
_SUFFIX = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")

# Limits of the names the controller derives (AWS service quotas, documented per service).
NLB_NAME_LIMIT = 32
TARGET_GROUP_NAME_LIMIT = 32
ECS_SERVICE_NAME_LIMIT = 255
API_KEY_NAME_LIMIT = 1024


def full_name(namespace: str, name: str, suffix: str) -> str:
    """`ps-<namespace>-<name>-<suffix>`, not shortened."""
    if not _SUFFIX.match(suffix):
        raise ValueError(f"name suffix {suffix!r} must be [A-Za-z0-9-] without edge hyphens")
    return f"{PREFIX}-{namespace}-{name}-{suffix}"


def shorten(name: str, limit: int) -> str:
    """`name` itself when it fits in `limit`, else its head and an 8-hex digest of all of it."""
    if limit < MIN_LIMIT:
        raise ValueError(f"name limit {limit} is below the minimum {MIN_LIMIT}")
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:DIGEST_CHARS]
    head = name[: limit - DIGEST_CHARS - 1].rstrip("-")
    return f"{head}-{digest}"


def aws_name(ps: PrivateService, suffix: str, limit: int) -> str:
    """The deterministic AWS name of one component of `ps`, at most `limit` characters."""
    return shorten(full_name(ps.metadata.namespace, ps.metadata.name, suffix), limit)
