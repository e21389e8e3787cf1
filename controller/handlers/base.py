"""The handler contract: one narrow client per AWS resource kind (crossplane's managed shape).

Rules every handler keeps:
- `observe` never modifies; it finds the resource by deterministic name or owner tag and reports
  its fields in the same shape as the desired props, plus whether it carries our owner tag.
- `create` looks up first and uses client tokens where the API has them, so a retry after a
  crash creates nothing twice. A create without either sends its request inside `creating`: a
  lost answer (`OutcomeUnknownError`, see `controller.aws.session`) leaves a create-pending
  marker, and until the look-up finds the resource (or `PENDING_CREATE_SECONDS` pass) the
  create is a wait, never a second request.
- `single_instance` handlers' `list_owned` keys each resource by its stack key, so that the
  sweep can find a second owned instance of one key (made by a create whose answer was lost in
  an earlier run) and delete it, keeping the one in use.
- `update` is a series of one-aspect steps, each starting with "if nothing differs here, skip".
- fields AWS cannot modify are listed in `replace_on`; the engine deletes and recreates instead.
  Which of those changes (and which in-place ones) cut clients off is `downtime`, read from
  `controller.handlers.replacements`.
- `delete` treats NotFound as success.
- `list_owned` finds every resource of this kind carrying our owner tag (orphan sweep, delete).
Handlers are the only code that calls boto3. Neighbours: `controller.reconcile.engine` (caller),
`controller.aws` (clients, tags).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, cast

import structlog
from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.errors import OutcomeUnknownError, TemporaryError
from controller.handlers.replacements import downtime_of
from controller.model.stack import Resource

log = structlog.get_logger(__name__)

CREATED_GRACE_SECONDS = 60.0
"""How long a resource this handler created may read back without its tags (ECS under load)
before that means someone else's resource at our name."""
PENDING_CREATE_SECONDS = 30.0
"""How long a create whose answer was lost is waited for before it is sent again: AWS reads can
lag writes by seconds (eventual consistency), and a resend of these creates makes a duplicate."""


@dataclass(frozen=True)
class Delta:
    """One difference: the prop `path`, what we want and what AWS holds."""

    path: str
    desired: Any
    actual: Any


@dataclass
class Observed:
    """What AWS holds for one resource.

    `props` has the desired props' shape; `outputs` feeds Refs (`id`, `arn`, ...); `pending`
    says the resource exists but is still provisioning (with a reason), which the engine turns
    into a requeue for it and its dependents. `foreign` lists additions on our resource that
    are not ours to remove (a listener someone else put on our NLB): drift to report, never to
    correct, as `(field, what)` pairs.
    """

    key: str
    id: str
    props: dict[str, Any]
    tags: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)
    pending: str | None = None
    foreign: list[tuple[str, str]] = field(default_factory=list)
    settling: str | None = None
    """Usable as it is, but not yet where the spec wants it, for a reason that needs time and
    must not hold dependents back (an old port kept open while the service's old tasks still
    serve on it): the engine asks for another pass, dependents go on."""

    def owned_by(self, owner: str) -> bool:
        """True when the resource carries `owner`'s owner tag."""
        return ownership.is_owned(self.tags, owner)


@dataclass(frozen=True)
class Desired:
    """A stack resource with its Refs resolved, plus the tags it must carry."""

    resource: Resource
    props: Mapping[str, Any]
    tags: Mapping[str, str]
    owner: str

    @property
    def key(self) -> str:
        """The stack key."""
        return self.resource.key


P = TypeVar("P")


def props_as(want: Desired, shape: type[P]) -> P:
    """`want.props` as its kind's props TypedDict with every Ref resolved, e.g.
    `props_as(want, Listener[Known])` (`controller.model.props`), so that mypy checks each read
    against what the model builds. A cast: nothing changes at run time."""
    del shape
    return cast(P, want.props)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {"a.b": leaf}; lists are leaves (handlers normalise their order)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff_props(desired: Mapping[str, Any], actual: Mapping[str, Any]) -> list[Delta]:
    """Field-level deltas for every desired leaf that AWS holds differently.

    A desired `None` where AWS holds a mapping (a throttle to remove) is a delta too.
    """
    want, have = flatten(desired), flatten(actual)
    deltas = []
    for path, value in want.items():
        held = have.get(path)
        if held is None and value is None:
            below = {k[len(path) + 1 :]: v for k, v in have.items() if k.startswith(path + ".")}
            if any(v is not None for v in below.values()):
                deltas.append(Delta(path, None, below))
        elif held != value:
            deltas.append(Delta(path, value, held))
    return deltas


def changed(deltas: Iterable[Delta], *prefixes: str) -> bool:
    """True when a delta touches a path equal to or below one of `prefixes`."""
    return any(d.path == p or d.path.startswith(p + ".") for d in deltas for p in prefixes)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def tolerating(*codes: str) -> Iterator[None]:
    """Swallow a ClientError with one of these codes (NotFound on delete, exists on create)."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) not in codes:
            raise


class Handler(ABC):
    """Observe / create / update / delete one kind of AWS resource."""

    kind: ClassVar[str]
    service: ClassVar[str]
    replace_on: ClassVar[tuple[str, ...]] = ()
    not_found_codes: ClassVar[tuple[str, ...]] = ("NotFoundException",)
    # What a delete may answer for a resource already gone (None: `not_found_codes`); () where
    # the kind's NotFound code also means other refusals (ECS's ClientException).
    gone_on_delete: ClassVar[tuple[str, ...] | None] = None
    # Props observe needs; None: every prop holding a Ref. An unknown one means "not there yet".
    identity: ClassVar[tuple[str, ...] | None] = None
    # A resource we do not own at our name is used as it is (an ECS cluster), not a conflict.
    shared: ClassVar[bool] = False
    # An update gives the resource new outputs (a task definition revision has a new ARN).
    update_changes_outputs: ClassVar[bool] = False
    # One resource per stack key: a second owned one with the same key is deleted by the sweep.
    single_instance: ClassVar[bool] = False
    # Nothing of its own in AWS (a step of the stack, like retiring old listeners): observed and
    # converged like the others, never deleted (a delete of the stack would find it forever).
    virtual: ClassVar[bool] = False

    def __init__(self, aws: AwsContext) -> None:
        self.aws = aws
        self.client = aws.client(self.service)
        self._pending: dict[str, float] = {}  # stack key -> when a create's answer was lost

    @property
    def _created(self) -> dict[str, tuple[str, float]]:
        """Stack key -> (id, when) of what this handler made (made on first use: test doubles
        may skip `__init__`)."""
        made: dict[str, tuple[str, float]] = self.__dict__.setdefault("_made", {})
        return made

    def remember_created(self, key: str, resource_id: str) -> None:
        """The engine made `resource_id` for `key` just now (see `created_recently`)."""
        self._created[key] = (resource_id, time.monotonic())

    def created_recently(self, key: str, resource_id: str) -> bool:
        """True when this handler created exactly this resource within CREATED_GRACE_SECONDS:
        one that reads back without tags then is a short wait, not a conflict."""
        made = self._created.get(key)
        return (
            made is not None
            and made[0] == resource_id
            and time.monotonic() - made[1] < CREATED_GRACE_SECONDS
        )

    @contextmanager
    def creating(self, want: Desired) -> Iterator[None]:
        """Send one create that AWS cannot deduplicate (call it after the look-up missed).

        While a create of this key whose answer was lost may still become visible, this is a
        wait instead; a lost answer records the marker and is a short wait (the next pass's
        look-up adopts what the request made).
        """
        since = self._pending.get(want.key)
        if since is not None:
            waited = time.monotonic() - since
            if waited < PENDING_CREATE_SECONDS:
                msg = f"{want.key}: created {waited:.0f}s ago, answer lost; not visible yet"
                raise TemporaryError(msg, 2.0)
        try:
            yield
        except OutcomeUnknownError:
            self._pending[want.key] = time.monotonic()
            self.refresh()
            raise
        self._pending.pop(want.key, None)

    @abstractmethod
    def observe(self, want: Desired) -> Observed | None:
        """What AWS holds at this resource's name or tag, or None."""

    @abstractmethod
    def create(self, want: Desired) -> Observed:
        """Create the resource (idempotently) and return what was made."""

    @abstractmethod
    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Change what differs, one aspect at a time."""

    @abstractmethod
    def delete(self, have: Observed) -> None:
        """Delete; NotFound is success."""

    def list_owned(self, owner: str) -> list[Observed]:
        """Every resource of this kind carrying `owner`'s tag (default: none can exist apart)."""
        del owner
        return []

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field-level differences between the desired props and what AWS holds."""
        return diff_props(want.props, have.props)

    def requires_replacement(self, deltas: list[Delta]) -> bool:
        """True when a delta touches a field AWS cannot modify in place."""
        return changed(deltas, *self.replace_on)

    def downtime(self, deltas: list[Delta], have: Observed) -> str | None:
        """`field: why` when making these changes cuts clients off (a new NLB's DNS name),
        None when traffic keeps flowing; `controller.handlers.replacements` holds the table."""
        del have
        return downtime_of(self.kind, deltas)

    def reobserve(self, want: Desired) -> Observed:
        """Observe right after a change; AWS reads can lag writes, so absence is a short wait."""
        have = self.observe(want)
        if have is None:
            raise TemporaryError(f"{want.key}: not visible yet after the change", 2.0)
        return have

    def refresh(self) -> None:
        """Forget the stored reads of this kind's service (see `controller.aws.cache`): the
        engine calls it when a resource is still provisioning or a call failed for a while, so
        the next pass sees AWS as it is then."""
        self.aws.forget(self.service)

    def is_not_found(self, exc: ClientError) -> bool:
        """True for this service's NotFound error codes."""
        return error_code(exc) in self.not_found_codes

    def remove(self, have: Observed) -> None:
        """Delete, with this kind's NotFound answers (`not_found_codes`) as success: how the
        engine deletes every kind, so that a resource already gone never fails a delete or a
        replacement, whichever call of `delete` meets it first."""
        gone = self.not_found_codes if self.gone_on_delete is None else self.gone_on_delete
        with tolerating(*gone):
            self.delete(have)

    def log_call(self, event: str, want: Desired | Observed, **kw: Any) -> None:
        """Log a mutating step with the resource bound."""
        log.info(event, kind=self.kind, key=want.key, **kw)
