"""The engine: deploy a Stack with the handlers, or tear one down, and say what it did.

Apply walks the stack's dependency levels; resources in one level run concurrently. For each:
observe, refuse anything at our name that lacks our owner tag, diff (minus `drift.ignoreFields`),
then create, update, or replace. A resource still provisioning and every temporary error become
a requeue delay, never a sleep; what depends on it waits for the next pass. Owned resources that
the stack no longer wants (a removed API key) are swept in reverse kind order. Delete observes the
whole stack, then deletes in reverse order; a resource its handler keeps because another
service still uses it (`InUseError`: a shared execute-api endpoint) is kept, with what it uses.
A dry run does every read and no write: that is plan. A change that cuts clients off (a new
NLB's DNS name: `Handler.downtime`, `controller.handlers.replacements`) is made, refused or held
back by `downtime_policy`: `allow` (plan, apply --allow-replace, a spec change under run),
`refuse` (apply: Failed, nothing done) or `report` (drift under run: reported, left alone).
Neighbours: `controller.handlers` (the only AWS access), `controller.model.stack`,
`controller.reconcile.outcome` (what a pass did: Action, Change, Outcome; re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from controller.aws import tags as ownership
from controller.aws.errors import ServiceError, requeue_delay
from controller.errors import InUseError, PermanentError, TemporaryError
from controller.handlers.base import Delta, Desired, Handler, Observed
from controller.model.stack import (
    UNKNOWN,
    Ref,
    Resource,
    Stack,
    contains_unknown,
    refs_in,
    resolve,
)
from controller.reconcile.downtime import DowntimePolicy, held_sweep, hold, sweep_downtime
from controller.reconcile.outcome import Action, Change, Outcome

log = structlog.get_logger(__name__)

REPLACE_GUARD_SECONDS = 600.0
"""A resource replaced again within this many seconds of its last replacement (same engine: one
spec generation) is not replaced a second time: the replaced field did not read back as written
(a fidelity problem or a concurrent writer), and looping would destroy a load balancer whose
DNS name and addresses clients depend on (issue 14: an NLB replaced 18 times in 40 s)."""


def _delay_for(exc: Exception) -> float | None:
    """The requeue delay for a temporary failure, None for a permanent one."""
    if isinstance(exc, TemporaryError):
        return exc.delay
    return requeue_delay(exc)


def spec_path(resource: Resource, path: str) -> str | None:
    """The spec field a prop path of `resource` comes from, when the builder said so."""
    for prop, spec in resource.spec_paths.items():
        if path == prop or path.startswith(prop + "."):
            return spec
    return None


class Engine:
    """Deploys stacks with one handler per kind.

    `handlers` is ordered by dependency (the registry's order): the sweep walks it backwards.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        workers: int = 4,
        ignore_fields: Collection[str] = (),
    ) -> None:
        self.handlers = handlers
        self.workers = workers
        self.ignore_fields = set(ignore_fields)
        # (resource key, prop path) pairs left alone: contested fields (see controller.alerts)
        self.ignored_props: set[tuple[str, str]] = set()
        # resource key -> monotonic time of its last replacement (REPLACE_GUARD_SECONDS)
        self.replaced: dict[str, float] = {}
        self.clock = time.monotonic
        self.downtime_policy: DowntimePolicy = "allow"

    # -- apply ---------------------------------------------------------------------------
    def apply(self, stack: Stack, *, dry_run: bool = False, sweep: bool = True) -> Outcome:
        """One pass toward the stack; `dry_run` reads only (plan).

        `sweep=False` skips the search for owned resources the stack no longer wants: they
        appear when a spec changes, so a steady-state resync can do without it.
        """
        out = Outcome()
        held: set[str] = set()  # keys whose dependents must wait
        with ThreadPoolExecutor(self.workers) as pool:
            for level in stack.levels():
                waiting = frozenset(held)  # this level sees the holds of the levels before it
                changes = list(
                    pool.map(lambda r, w=waiting: self._apply_one(stack, r, out, w, dry_run), level)
                )
                out.changes += changes
                held |= {c.key for c in changes if c.holds_dependents}
        if sweep:
            self._sweep(stack, out, dry_run=dry_run)
        return out

    def _desired(
        self, stack: Stack, res: Resource, outputs: Mapping[str, Mapping[str, Any]]
    ) -> Desired:
        return Desired(
            resource=res,
            props=resolve(res.props, outputs),
            tags=ownership.owner_tags(stack.owner, res.component, stack.tags),
            owner=stack.owner,
        )

    def _identity_known(self, handler: Handler, want: Desired) -> bool:
        names = handler.identity
        if names is None:
            names = tuple(
                k for k, v in want.resource.props.items() if any(True for _ in refs_in(v))
            )
        return not any(contains_unknown(want.props.get(n)) for n in names)

    def _apply_one(
        self, stack: Stack, res: Resource, out: Outcome, held: frozenset[str], dry_run: bool
    ) -> Change:
        handler = self.handlers[res.kind]
        change = Change(res.key, res.kind, res.component, Action.NOOP)
        if res.deps & held:
            change.action = Action.BLOCKED
            change.message = f"waiting for {', '.join(sorted(res.deps & held))}"
            return change
        want = self._desired(stack, res, out.outputs)
        try:
            have = handler.observe(want) if self._identity_known(handler, want) else None
            if have is not None and not have.owned_by(stack.owner):
                if handler.created_recently(res.key, have.id) and ownership.OWNER not in have.tags:
                    # made by us moments ago: AWS reads can lag, tags included (issue 11, item 8)
                    change.action, change.id = Action.WAIT, have.id
                    change.message = "created moments ago; its tags are not visible yet"
                    out.wait(2.0)
                    return change
                if handler.shared:
                    out.outputs[res.key] = have.outputs
                    change.id, change.message = have.id, "exists, not ours: used as it is"
                    return change
                change.action, change.id = Action.CONFLICT, have.id
                change.message = (
                    f"{have.id} exists at our name without owner tag "
                    f"{ownership.OWNER}={stack.owner}; not touched"
                )
                return change
            change = self._converge(handler, want, have, change, out, dry_run)
        except (PermanentError, TemporaryError, ServiceError) as exc:
            delay = _delay_for(exc)
            change.action = Action.WAIT if delay is not None else Action.FAILED
            change.message = str(exc)
            handler.refresh()
            if delay is not None:
                out.wait(delay)
            log.warning(
                "resource failed",
                key=res.key,
                kind=res.kind,
                error=str(exc),
                temporary=delay is not None,
            )
        return change

    def _converge(
        self,
        handler: Handler,
        want: Desired,
        have: Observed | None,
        change: Change,
        out: Outcome,
        dry_run: bool,
    ) -> Change:
        res = want.resource
        if have is None:
            change.action, change.props = Action.CREATE, want.props
            if not dry_run:
                have = handler.create(want)
                handler.remember_created(res.key, have.id)
        else:
            change.id = have.id
            deltas = [d for d in handler.diff(want, have) if not self._ignored(res, d)]
            change.deltas = deltas
            if deltas:
                replace = handler.requires_replacement(deltas)
                change.action = Action.REPLACE if replace else Action.UPDATE
                change.downtime = handler.downtime(deltas, have)
                if change.downtime and hold(change, self.downtime_policy, replace=replace):
                    if change.held_back:
                        self._record(handler, have, change, out)  # it serves as it is
                    return change
                if not dry_run:
                    if replace:
                        if self._replace_loop(change):
                            return change
                        handler.remove(have)
                        have = handler.create(want)
                        handler.remember_created(res.key, have.id)
                    else:
                        have = handler.update(want, have, deltas)
                elif replace or handler.update_changes_outputs:
                    return change  # dependents see "(known after apply)"
        if have is None:
            return change  # dry-run create: outputs unknown
        self._record(handler, have, change, out)
        return change

    def _record(self, handler: Handler, have: Observed, change: Change, out: Outcome) -> None:
        """What a pass learnt of one resource: its outputs, and whether to come back."""
        change.id = have.id
        change.foreign = list(have.foreign)
        out.outputs[change.key] = have.outputs
        if have.pending:
            handler.refresh()  # the next pass must see it progress, not a stored read
            change.message, change.pending = have.pending, True
            if change.action is Action.NOOP:
                change.action = Action.WAIT
            out.wait(5.0)
        elif have.settling:
            handler.refresh()
            change.message = have.settling
            out.wait(5.0)

    def _replace_loop(self, change: Change) -> bool:
        """Record a replacement; refuse it (FAILED, `replace_loop`) when the same resource was
        already replaced within REPLACE_GUARD_SECONDS by this engine."""
        now = self.clock()
        last = self.replaced.get(change.key)
        if last is not None and now - last < REPLACE_GUARD_SECONDS:
            fields = ", ".join(
                f"{d.path} (wrote {d.desired!r}, reads back {d.actual!r})" for d in change.deltas
            )
            change.action, change.replace_loop = Action.FAILED, True
            change.message = (
                f"not replacing {change.id} again: replaced {now - last:.0f} s ago and {fields} "
                "still differs, so it does not read back as written (a fidelity problem or a "
                "concurrent writer); fix that, or change the spec to try once more"
            )
            log.error("replacement loop stopped", key=change.key, fields=fields)
            return True
        self.replaced[change.key] = now
        return False

    def _ignored(self, res: Resource, delta: Delta) -> bool:
        if (res.key, delta.path) in self.ignored_props:
            return True
        spec = spec_path(res, delta.path)
        return spec is not None and any(
            spec == f or spec.startswith(f + ".") for f in self.ignore_fields
        )

    def _sweep(
        self,
        stack: Stack,
        out: Outcome,
        *,
        dry_run: bool,
        keep: Mapping[str, str | None] | None = None,
    ) -> None:
        """Delete owned resources the stack no longer wants, in reverse kind order.

        `keep` maps the stack keys to keep to the id in use (None: unknown). A second owned
        resource at a kept key of a `single_instance` handler (a create whose answer was lost,
        resent by an older version) is reported and deleted; the one in use stays.
        """
        if keep is None:
            keep = dict.fromkeys(stack.resources)
            keep.update(
                {
                    c.key: c.id
                    for c in out.changes
                    if c.id and c.key in stack.resources and c not in out.errors
                }
            )
        for handler in reversed(list(self.handlers.values())):
            for have in handler.list_owned(stack.owner):
                if not have.owned_by(stack.owner):
                    continue
                if have.key in keep:
                    in_use = keep[have.key]
                    if not handler.single_instance or in_use is None or have.id == in_use:
                        continue
                    log.warning("second instance", key=have.key, id=have.id, in_use=in_use)
                    change = self._delete_one(handler, have, out, dry_run)
                    change.message = change.message or (
                        f"second owned instance of {have.key} ({in_use} is in use)"
                    )
                    out.changes.append(change)
                    continue
                held = held_sweep(handler.kind, have, self.downtime_policy)
                if held is not None:
                    out.changes.append(held)
                    continue
                out.changes.append(self._delete_one(handler, have, out, dry_run))
                out.changes[-1].downtime = sweep_downtime(handler.kind)

    # -- delete --------------------------------------------------------------------------
    def delete(self, stack: Stack, *, dry_run: bool = False, retain: bool = False) -> Outcome:
        """Remove every owned resource of the stack in reverse order (or keep them: Retain).

        Everything is observed first (dependents need their producers' outputs to be found),
        then deleted consumers-first. A resource that cannot be observed is reported and left
        to the sweep, which finds owned resources by tag.
        """
        out = Outcome()
        observed: dict[str, Observed] = {}
        for level in stack.levels():
            for res in level:
                handler = self.handlers[res.kind]
                want = self._desired(stack, res, out.outputs)
                if not self._identity_known(handler, want):
                    continue
                try:
                    have = handler.observe(want)
                except (PermanentError, TemporaryError, ServiceError) as exc:
                    # e.g. a FAILED VPC link: the sweep below deletes it by its owner tag
                    handler.refresh()
                    out.changes.append(
                        Change(res.key, res.kind, res.component, Action.WAIT, message=str(exc))
                    )
                    out.wait(_delay_for(exc) or 5.0)
                    continue
                if have is not None:
                    out.outputs[res.key] = have.outputs
                    if have.owned_by(stack.owner) and not handler.virtual:
                        observed[res.key] = have
        kept: set[str] = set()  # kept in use by someone else: what they need is kept too
        for res in (r for level in reversed(stack.levels()) for r in level):
            have = observed.get(res.key)
            if have is None:
                continue
            users = sorted(k for k in kept if res.key in stack.resources[k].deps)
            if retain or users:
                why = f"kept: {', '.join(users)} (kept) uses it" if users else None
                change = Change(res.key, res.kind, res.component, Action.RETAIN, id=have.id)
                change.message = why
            else:
                change = self._delete_one(self.handlers[res.kind], have, out, dry_run)
            if change.action is Action.RETAIN:
                kept.add(res.key)
            out.changes.append(change)
        if not retain:
            self._sweep(stack, out, dry_run=dry_run, keep={k: h.id for k, h in observed.items()})
        return out

    def _delete_one(self, handler: Handler, have: Observed, out: Outcome, dry_run: bool) -> Change:
        change = Change(
            have.key,
            handler.kind,
            have.tags.get(ownership.COMPONENT, ""),
            Action.DELETE,
            id=have.id,
        )
        if dry_run:
            return change
        try:
            handler.remove(have)
        except InUseError as exc:  # kept on purpose, said why
            change.action, change.message = Action.RETAIN, str(exc)
        except (TemporaryError, ServiceError, PermanentError) as exc:
            handler.refresh()
            delay = _delay_for(exc)
            change.action = Action.WAIT if delay is not None else Action.FAILED
            change.message = str(exc)
            out.wait(delay if delay is not None else 30.0)
        return change


__all__ = ["UNKNOWN", "Action", "Change", "Engine", "Outcome", "Ref"]
