"""The desired stack: resources keyed by a stable key, with lazy references between them.

A `Resource` names the handler `kind` that deploys it, its ownership `component`, and `props`:
the desired fields in the same shape the handler's observe reports, where any value may be a
`Ref` to an output (`id`, `arn`, ...) of another resource. Refs define the dependency graph; the
engine resolves them from the outputs of the resources it has already deployed. Nothing here
talks to AWS. Neighbours: `controller.model.build` (makes stacks), `controller.reconcile.engine`
(walks them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Lazy:
    """A value known only at apply: a `Ref` or a `Digest` (typed props spell a field that may
    hold one `str | R`, see `controller.model.props`)."""

    __slots__ = ()


@dataclass(frozen=True)
class Ref(Lazy):
    """A lazy reference to output `attr` of the resource with key `key`."""

    key: str
    attr: str = "id"

    def __str__(self) -> str:
        return f"${{{self.key}.{self.attr}}}"


class Unknown:
    """Stands for a value known only after apply (its producer does not exist yet)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = Unknown()


@dataclass(frozen=True)
class Digest(Lazy):
    """A short digest of `value` taken once its Refs are resolved (a deployment's fingerprint):
    a producer recreated with a new id (a VPC link, an NLB with a new DNS name) gives a new
    digest, where hashing the unresolved `${vpc-link.id}` text would give the same one."""

    value: Any

    def __str__(self) -> str:
        return f"digest({json.dumps(self.value, default=str, sort_keys=True)})"


def digest(value: Any) -> str:
    """16 hex digits of SHA-256 over `value` as canonical JSON."""
    text = json.dumps(value, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def refs_in(value: Any) -> Iterator[Ref]:
    """Every Ref inside a nested structure of dicts, lists and tuples."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Digest):
        yield from refs_in(value.value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from refs_in(item)


def resolve(value: Any, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    """`value` with every Ref replaced by its output, or UNKNOWN when not produced yet."""
    if isinstance(value, Ref):
        return outputs.get(value.key, {}).get(value.attr, UNKNOWN)
    if isinstance(value, Digest):
        inner = resolve(value.value, outputs)
        return UNKNOWN if contains_unknown(inner) else digest(inner)
    if isinstance(value, Mapping):
        return {k: resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, outputs) for v in value)
    return value


def contains_unknown(value: Any) -> bool:
    """True when a resolved structure still holds an UNKNOWN."""
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


@dataclass(frozen=True)
class Resource:
    """One desired AWS resource.

    `key` is unique in the stack and stable across reconciles (`nlb`, `usage-plan/gold`).
    `spec_paths` maps a prop path to the spec field it comes from, so that `drift.ignoreFields`
    and plan output can speak the user's language.
    """

    key: str
    kind: str
    component: str
    props: Mapping[str, Any]
    spec_paths: Mapping[str, str] = field(default_factory=dict)
    extra_deps: tuple[str, ...] = ()

    @property
    def deps(self) -> set[str]:
        """Keys of the resources this one needs first."""
        return {ref.key for ref in refs_in(self.props)} | set(self.extra_deps)


@dataclass
class Stack:
    """All desired resources of one PrivateService, plus its identity and tags."""

    owner: str
    tags: Mapping[str, str]
    resources: dict[str, Resource] = field(default_factory=dict)

    def add(self, resource: Resource) -> Ref:
        """Add a resource; returns a Ref to its id for convenience."""
        if resource.key in self.resources:
            msg = f"duplicate resource key {resource.key!r}"
            raise ValueError(msg)
        self.resources[resource.key] = resource
        return Ref(resource.key)

    def levels(self) -> list[list[Resource]]:
        """Resources in dependency order, grouped so that each group depends only on earlier ones.

        Resources in one group are independent of each other and may be deployed concurrently.
        """
        missing = {
            (r.key, d) for r in self.resources.values() for d in r.deps if d not in self.resources
        }
        if missing:
            msg = f"dangling references: {sorted(missing)}"
            raise ValueError(msg)
        done: set[str] = set()
        remaining = dict(self.resources)
        out: list[list[Resource]] = []
        while remaining:
            level = [r for r in remaining.values() if r.deps <= done]
            if not level:
                msg = f"dependency cycle among {sorted(remaining)}"
                raise ValueError(msg)
            out.append(level)
            for r in level:
                done.add(r.key)
                del remaining[r.key]
        return out

    def dependents(self, key: str) -> set[str]:
        """Every resource that depends on `key`, directly or not."""
        out: set[str] = set()
        frontier = {key}
        while frontier:
            nxt = {r.key for r in self.resources.values() if r.deps & frontier} - out
            out |= nxt
            frontier = nxt
        return out
