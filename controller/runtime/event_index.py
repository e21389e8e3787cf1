"""The index from resource ids and ARNs to the specs that own them, kept from what passes saw.

`observed_ids` takes what one pass observed (each change's id, every string in the outputs, the
ARNs written in the spec's stack), plus each one's `aliases` (an ECS service ARN is also
`ecs-service:<cluster>/<service>`, a Lambda function ARN `lambda-function:<name>`, a usage-plan
key `<plan>/<key>` also `<key>`): the spellings in which a CloudTrail event names them.
`EventIndex` keeps them per spec. Neighbours: `controller.runtime.events` (the router),
`controller.ports.events` (`aliases`), `controller.reconcile.engine` (`Outcome`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from controller.model.stack import Stack
from controller.ports.events import aliases
from controller.reconcile.engine import Outcome


def observed_ids(outcome: Outcome | None, stack: Stack | None) -> set[str]:
    """Every id and ARN a pass saw for a spec: what an event about it would name."""
    found: set[str] = set()
    if outcome is not None:
        found |= {c.id for c in outcome.changes if c.id}
        for outputs in outcome.outputs.values():
            found |= set(_strings(outputs))
    if stack is not None:  # ARNs written in the spec (an authorizer's function)
        for res in stack.resources.values():
            found |= {s for s in _strings(res.props) if s.startswith("arn:")}
    for value in list(found):
        found |= {value.split("/", 1)[1]} if value.count("/") == 1 and "/" in value else set()
        found |= aliases(value)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


class EventIndex:
    """Resource id / ARN -> the specs that own it."""

    def __init__(self) -> None:
        self._owners: dict[str, set[str]] = {}
        self._ids: dict[str, set[str]] = {}

    def observe(self, owner: str, ids: Iterable[str]) -> None:
        """Add what a pass of `owner` observed (ids of replaced resources stay: harmless)."""
        mine = self._ids.setdefault(owner, set())
        for value in ids:
            if value not in mine:
                mine.add(value)
                self._owners.setdefault(value, set()).add(owner)

    def forget(self, owner: str) -> None:
        """The spec is gone."""
        for value in self._ids.pop(owner, set()):
            owners = self._owners.get(value)
            if owners is not None:
                owners.discard(owner)
                if not owners:
                    del self._owners[value]

    def owners(self, ids: Iterable[str]) -> set[str]:
        """The specs owning any of `ids`."""
        return {o for value in ids for o in self._owners.get(value, ())}

    def __len__(self) -> int:
        return len(self._owners)  # ids indexed
