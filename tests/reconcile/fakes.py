"""An in-memory AWS for engine tests: one fake handler per kind over a shared dict."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from controller.aws.session import AwsContext
from controller.errors import TemporaryError
from controller.handlers.base import Delta, Desired, Handler, Observed

_ids = itertools.count(1)


@dataclass
class Cloud:
    """Resources by (kind, name): props, tags, id; plus every mutating call made."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)
    fail_create: dict[str, Exception] = field(default_factory=dict)


class FakeHandler(Handler):
    """Finds by props["name"]; lists owned by tag; records every mutation."""

    service = "fake"

    def __init__(
        self, kind: str, cloud: Cloud, *, shared: bool = False, replace_on: tuple[str, ...] = ()
    ) -> None:  # no AWS client needed
        self.kind = kind  # type: ignore[misc]
        self.cloud = cloud
        self.shared = shared  # type: ignore[misc]
        self.replace_on = replace_on  # type: ignore[misc]
        self.refreshes = 0

    def refresh(self) -> None:
        """No stored reads here: count how often the engine asked for fresh ones."""
        self.refreshes += 1

    def _obs(self, key: str, item: dict[str, Any]) -> Observed:
        return Observed(
            key=key,
            id=item["id"],
            props=dict(item["props"]),
            tags=dict(item["tags"]),
            outputs={"id": item["id"], "arn": f"arn:{item['id']}"},
            pending="provisioning" if item["props"]["name"] in self.cloud.pending else None,
        )

    def observe(self, want: Desired) -> Observed | None:
        item = self.cloud.items.get((self.kind, want.props["name"]))
        return self._obs(want.key, item) if item else None

    def create(self, want: Desired) -> Observed:
        if want.props["name"] in self.cloud.fail_create:
            raise self.cloud.fail_create[want.props["name"]]
        self.cloud.calls.append(("create", self.kind, want.props["name"]))
        item = {
            "id": f"id-{next(_ids)}",
            "props": dict(want.props),
            "tags": dict(want.tags),
            "key": want.key,
        }
        self.cloud.items[(self.kind, want.props["name"])] = item
        return self._obs(want.key, item)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        self.cloud.calls.append(("update", self.kind, want.props["name"]))
        item = self.cloud.items[(self.kind, want.props["name"])]
        item["props"] = dict(want.props)
        return self._obs(want.key, item)

    def delete(self, have: Observed) -> None:
        self.cloud.calls.append(("delete", self.kind, have.props["name"]))
        self.cloud.items.pop((self.kind, have.props["name"]), None)

    def list_owned(self, owner: str) -> list[Observed]:
        return [
            self._obs(item["key"], item)
            for (kind, _), item in self.cloud.items.items()
            if kind == self.kind and item["tags"].get("privateservice.io/owner") == owner
        ]


def temporary(message: str = "later", delay: float = 7.0) -> TemporaryError:
    """A TemporaryError to inject."""
    return TemporaryError(message, delay)


__all__ = ["AwsContext", "Cloud", "FakeHandler", "temporary"]
