"""What every API Gateway handler shares, v1 (REST) and v2 (HTTP) alike, with each version's
field spelling as data (`Spelling`: v1 `id`/`name`/`tags`/`items`/`position`, v2 PascalCase
with a per-object id such as `VpcLinkId`, `Items`, `NextToken`).

Shared: tags as a plain map (`tags_of`), find-by-name preferring our owner tag (`pick_named`),
paging by token (`paged`), throttling as a wait (`throttle_is_temporary`), NotFound on delete
as success, and the life of a top-level named and tagged object (`NamedHandler`: APIs, VPC
links, usage plans, API keys; VPC links through `apigw_vpc_link_base`) or of an untagged object
inside an API (`ApiChildHandler`: authorizer, integration, route).
Neighbours: `controller.handlers.base` (the contract), `apigw_vpc_link_base`, the `apigw_*` and
`apigwv2_*` handlers.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import Desired, Handler, Observed, error_code, tolerating

if TYPE_CHECKING:
    from types_boto3_apigateway.type_defs import PaginatorConfigTypeDef

THROTTLED = "TooManyRequestsException"
PAGE: PaginatorConfigTypeDef = {"PageSize": 500}
"""API Gateway lists 25 items a page unless asked for more; 500 is the most it gives
(`limit`, https://docs.aws.amazon.com/apigateway/latest/api/API_GetRestApis.html). Every caller
asks for the same pages, so that the read snapshot (`controller.aws.cache`) serves them all."""
_T = TypeVar("_T", bound=Mapping[str, object])
_R = TypeVar("_R")


@dataclass(frozen=True)
class Spelling:
    """How one API Gateway version (its boto3 service) names the fields every handler reads,
    and, per object (`of`), its id field and the noun of its operations (`Create<noun>`,
    `Update<noun>`, `Delete<noun>`: CreateRestApi, DeleteVpcLink, UpdateStage, ...).

    v1: https://docs.aws.amazon.com/apigateway/latest/api/API_GetVpcLinks.html (`items`,
    `position`); v2: https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html
    (`Items`, `NextToken`; boto3 spells v2 fields in PascalCase).
    """

    service: str
    id: str
    name: str
    tags: str
    items: str
    next_page: str
    noun: str = ""

    def of(self, noun: str, ident: str | None = None) -> Spelling:
        """The spelling of one kind of object: its operations' noun, its id field if not
        the version's (v2: `ApiId`, `VpcLinkId`, ...)."""
        return replace(self, noun=noun, id=ident or self.id)


V1 = Spelling("apigateway", "id", "name", "tags", "items", "position")
V2 = Spelling("apigatewayv2", "Id", "Name", "Tags", "Items", "NextToken")


def tags_of(item: Mapping[str, Any], spelling: Spelling = V1) -> dict[str, str]:
    """The tags of an API Gateway object (both versions spell tags as a plain map)."""
    raw = item.get(spelling.tags)
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def pick_named(items: Iterable[_T], name: str, owner: str, spelling: Spelling = V1) -> _T | None:
    """The item called `name`, preferring one with our owner tag; None when none has the name.

    A same-named item without our tag is still returned: its tags tell the engine it is not ours.
    """
    same = [item for item in items if item.get(spelling.name) == name]
    owned = [item for item in same if ownership.is_owned(tags_of(item, spelling), owner)]
    candidates = owned or same
    return candidates[0] if candidates else None


def item_of(name: str, owner: str) -> str:
    """`<item>` of an object named `<owner>/<item>` (else the name itself)."""
    prefix = f"{owner}/"
    return name[len(prefix) :] if name.startswith(prefix) else name


def paged(call: Callable[..., Any], spelling: Spelling, **kwargs: Any) -> Iterator[Any]:
    """Every item of a list operation botocore has no paginator for (v1 GetAuthorizers, v2
    GetVpcLinks), following the page token."""
    token: str | None = None
    while True:
        page = call(**kwargs, **({spelling.next_page: token} if token else {}))
        yield from page.get(spelling.items, [])
        token = page.get(spelling.next_page)
        if not token:
            return


@contextmanager
def throttle_is_temporary(what: str, delay: float = 5.0) -> Iterator[None]:
    """Turn API Gateway's TooManyRequests (after botocore's retries) into a TemporaryError.

    API Gateway's control plane allows 10 calls/s and far less for some operations
    (UpdateUsagePlan 1 per 20 s, DeleteRestApi 1 per 30 s, CreateDeployment 1 per 5 s).
    """
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == THROTTLED:
            raise TemporaryError(f"{what}: throttled by API Gateway", delay) from exc
        raise


@dataclass(frozen=True)
class Parent:
    """The API that objects without tags of their own live in: the prop naming it and how to
    read its tags (None when the API is gone)."""

    prop: str
    tags: Callable[[Any, str], dict[str, str] | None]


class ApiGatewayHandler(Handler):
    """A handler of either API Gateway version: create after a look-up, NotFound on delete is
    success, a throttle a wait, and an update is one call sent only when something differs.
    The spelling says the service (`service` follows it) and names the operations."""

    spelling: ClassVar[Spelling] = V1
    create_delay: ClassVar[float] = 5.0
    create_log: ClassVar[tuple[tuple[str, str], ...]] = (("name", "name"),)
    """What the "creating" log line names: (log field, prop) pairs."""
    delete_delay: ClassVar[float] = 5.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.service = cls.spelling.service

    def _call(self, verb: str) -> str:
        """The operation `verb` of this object (`Create`, `Update`, `Delete`)."""
        return f"{verb}{self.spelling.noun}"

    def _make(self, want: Desired) -> Any:
        """Send the create request (`Create<noun>`); the answer holds the new object."""
        raise NotImplementedError(f"{self.kind}: no create request")

    @abstractmethod
    def _send_delete(self, have: Observed) -> None:
        """Send the delete request(s) (`Delete<noun>`)."""

    def _seen(
        self,
        key: str,
        item: Mapping[str, Any],
        props: dict[str, Any],
        tags: dict[str, str] | None = None,
        **outputs: Any,
    ) -> Observed:
        """`item` as Observed: its id read by the spelling (also output `id`, beside `outputs`),
        its own tags unless `tags` are given (an object owned through its API)."""
        ident = item[self.spelling.id]
        return Observed(
            key=key,
            id=ident,
            props=props,
            tags=tags_of(item, self.spelling) if tags is None else tags,
            outputs={"id": ident, **outputs},
        )

    def _first(self, items: Callable[[], Iterable[_R]], match: Callable[[_R], bool]) -> _R | None:
        """The first item that matches; None also when what holds the items is gone."""
        try:
            return next((item for item in items() if match(item)), None)
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise

    def _create(
        self,
        want: Desired,
        adopt: Callable[[Any], Observed],
        *,
        marker: bool = False,
        taken: Callable[[], Observed] | None = None,
    ) -> Observed:
        """Create after a look-up (a retry must not make a second one): log, `_make` (inside
        `creating` when AWS cannot deduplicate the create: `marker`), `adopt` the answer.
        With `taken`, a ConflictException (made by a retry before us) is answered by it."""
        have = self.observe(want)
        if have is not None:
            return have
        self.log_call("creating", want, **{k: want.props[p] for k, p in self.create_log})
        pending: AbstractContextManager[None] = self.creating(want) if marker else nullcontext()
        try:
            with pending, throttle_is_temporary(self._call("Create"), self.create_delay):
                made = self._make(want)
        except ClientError as exc:
            if taken is None or error_code(exc) != "ConflictException":
                raise
            return taken()
        self.log_call("created", want, id=made[self.spelling.id])
        return adopt(made)

    def delete(self, have: Observed) -> None:
        """Delete; NotFound is success, a throttle a wait of `delete_delay`."""
        self.log_call("deleting", have, id=have.id)
        with (
            tolerating(*self.not_found_codes),
            throttle_is_temporary(self._call("Delete"), self.delete_delay),
        ):
            self._send_delete(have)

    def _send_update(self, want: Desired, have: Observed, changes: Any) -> Any:
        """Send the update request (`Update<noun>`) with `changes`; the answer is the object."""
        raise NotImplementedError(f"{self.kind}: no update request")

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        """The object an update answered, as Observed."""
        raise NotImplementedError(f"{self.kind}: no update answer")

    def _update(
        self, want: Desired, have: Observed, changes: Mapping[str, Any] | list[Any]
    ) -> Observed:
        """Send one update (`Update<noun>`; a throttle is a wait) and report its answer; `have`
        when `changes` is empty. `changes`: v1's patch operations or v2's changed fields."""
        if not changes:
            return have
        if isinstance(changes, list):
            self.log_call("updating", want, id=have.id, paths=[op["path"] for op in changes])
        else:
            self.log_call("updating", want, id=have.id, fields=sorted(changes))
        with throttle_is_temporary(self._call("Update")):
            made = self._send_update(want, have, changes)
        return self._answered(want, have, made)


class NamedHandler(ApiGatewayHandler):
    """A top-level object found by its deterministic name among the account's objects of its
    kind, preferring the one with our owner tag, and made with our tags (after a look-up).
    The name is all observe needs (what the object leads to may not exist yet); one object per
    stack key."""

    identity = ("name",)
    single_instance = True
    owned_key: ClassVar[str] = ""
    """The stack key `list_owned` gives; `{item}` stands for the name without `<owner>/`."""

    @abstractmethod
    def _live(self) -> Iterable[Any]:
        """Every object of this kind in the account and region (a list every pass shares)."""

    @abstractmethod
    def _observed(self, key: str, item: Any) -> Observed:
        """An object in the desired props' shape."""

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        return self._observed(want.key, made)

    def _check(self, item: Any) -> None:
        """Raise for an object that can never become usable (observe and create only)."""
        del item

    def _owned_key(self, item: Any, owner: str) -> str:
        return self.owned_key.format(item=item_of(item.get(self.spelling.name, ""), owner))

    def observe(self, want: Desired) -> Observed | None:
        """The object with our name, preferring ours."""
        found = pick_named(self._live(), want.props["name"], want.owner, self.spelling)
        if found is None:
            return None
        self._check(found)
        return self._observed(want.key, found)

    def create(self, want: Desired) -> Observed:
        """Create the object (after a look-up; a lost answer leaves a create-pending marker)."""

        def adopt(made: Any) -> Observed:
            self._check(made)
            return self._observed(want.key, made)

        return self._create(want, adopt, marker=True)

    def list_owned(self, owner: str) -> list[Observed]:
        """Every object of this kind carrying our owner tag."""
        return [
            self._observed(self._owned_key(item, owner), item)
            for item in self._live()
            if ownership.is_owned(tags_of(item, self.spelling), owner)
        ]


class ApiChildHandler(ApiGatewayHandler):
    """An object inside an API that takes no tags of its own (authorizer, integration, route):
    ours through the API's tags, found among the API's objects of its kind."""

    parent: ClassVar[Parent]

    @abstractmethod
    def _children(self, api_id: str) -> Iterable[Any]:
        """The API's objects of this kind."""

    @abstractmethod
    def _matches(self, want: Desired, item: Any) -> bool:
        """True for the object `want` describes."""

    @abstractmethod
    def _observed(self, want: Desired, item: Any, tags: dict[str, str]) -> Observed:
        """An object in the desired props' shape, with the API's tags."""

    def _absent(self, want: Desired) -> None:
        """Called when the API holds no such object (a check that must fail early)."""
        del want

    def _parent_tags(self, want: Desired) -> dict[str, str] | None:
        return self.parent.tags(self.client, want.props[self.parent.prop])

    def observe(self, want: Desired) -> Observed | None:
        """Our object in the API; None when it or the API is missing."""
        tags = self._parent_tags(want)
        if tags is None:
            return None
        api_id = want.props[self.parent.prop]
        found = self._first(lambda: self._children(api_id), lambda item: self._matches(want, item))
        if found is None:
            self._absent(want)
            return None
        return self._observed(want, found, tags)

    def create(self, want: Desired) -> Observed:
        """Create the object (after a look-up: a retry must not make a second one)."""
        return self._create(
            want, lambda made: self._observed(want, made, self._parent_tags(want) or {})
        )

    def _child(
        self, want: Desired, item: Mapping[str, Any], tags: dict[str, str], **props: Any
    ) -> Observed:
        """`item` as Observed: the API's prop first, then `props`, with the API's `tags`."""
        parent = self.parent.prop
        return self._seen(want.key, item, {parent: want.props[parent], **props}, tags)

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        """The object an update answered, with the tags we had (the API's)."""
        return self._observed(want, made, have.tags)
