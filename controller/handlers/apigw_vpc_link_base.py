"""What VPC links of both API Gateway versions share (`VpcLinkBase`); each version's module
says how it lists, makes and deletes links and which fields it spells how.

Neighbours: `apigw_common` (`NamedHandler`, the spelling), `apigw_vpc_link` (v1),
`apigwv2_vpc_link` (v2).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from controller.errors import PermanentError, TemporaryError
from controller.handlers.apigw_common import NamedHandler, tags_of
from controller.handlers.base import Delta, Desired, Observed, error_code


class VpcLinkBase(NamedHandler):
    """A VPC link of either version: links being deleted are ignored (AWS keeps them listed as
    DELETING for a while, and the name may be reused at once); PENDING makes the engine wait;
    FAILED is permanent, but still listed as owned so that the sweep deletes it; a link that
    something still uses is a wait to delete. Nothing is updatable in place."""

    create_delay = 15.0
    status_fields: ClassVar[tuple[str, str]]
    """The link's status and its status message."""

    @abstractmethod
    def _listed(self) -> Iterable[Mapping[str, Any]]:
        """Every link, DELETING ones included."""

    @abstractmethod
    def _props(self, link: Mapping[str, Any]) -> dict[str, Any]:
        """The link's props beside its name."""

    def _live(self) -> Iterator[Mapping[str, Any]]:
        status = self.status_fields[0]
        return (link for link in self._listed() if link.get(status) != "DELETING")

    def _check(self, item: Any) -> None:
        status, message = self.status_fields
        if item.get(status) == "FAILED":
            msg = (
                f"vpc link {item.get(self.spelling.name)} ({item[self.spelling.id]}) FAILED: "
                f"{item.get(message) or 'no reason given'}"
            )
            raise PermanentError(msg)

    def _observed(self, key: str, item: Any) -> Observed:
        link_id = item[self.spelling.id]
        return Observed(
            key=key,
            id=link_id,
            props={"name": item.get(self.spelling.name), **self._props(item)},
            tags=tags_of(item, self.spelling),
            outputs={"id": link_id},
            pending="vpc link PENDING" if item.get(self.status_fields[0]) == "PENDING" else None,
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing is updatable in place (name is identity, the rest means replacement)."""
        del deltas
        return self.observe(want) or have

    def delete(self, have: Observed) -> None:
        """Delete the link; NotFound is success, a link still referenced is a wait."""
        try:
            super().delete(have)
        except ClientError as exc:
            if error_code(exc) in ("BadRequestException", "ConflictException"):
                msg = f"vpc link {have.id} still referenced: {exc}"
                raise TemporaryError(msg, 15) from exc
            raise
