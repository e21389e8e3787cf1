"""One service's reconcile: discover its network, build its stack, run engine passes until done.

`plan` is one dry pass; `apply` and `delete` run passes until converged, honouring requeue
delays (the only place that sleeps, and only between passes), and report progress per resource.
Neighbours: `controller.reconcile.engine`, `controller.model.build`, `controller.handlers.network`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from controller.aws.session import AwsContext
from controller.errors import DiscoveryError, SpecError
from controller.handlers.network import discover
from controller.handlers.registry import make_handlers
from controller.model.build import build_stack
from controller.model.network import Network
from controller.model.stack import Stack
from controller.model.support import unsupported
from controller.reconcile.engine import Action, Change, Engine, Outcome
from controller.spec.models import PrivateService

log = structlog.get_logger(__name__)

Progress = Callable[[PrivateService, Change], None]
NETWORK_TTL = 300.0  # seconds a discovered VPC and subnets are reused by one Reconciler


@dataclass
class Result:
    """How a multi-pass apply or delete ended."""

    outcome: Outcome
    passes: int
    converged: bool
    reason: str | None = None
    done: list[Change] = field(default_factory=list)
    """Every change made over all passes (creates, updates, deletes; what Retain kept): the
    last pass's `outcome` of a finished delete has nothing left to show."""


class Reconciler:
    """Plans, applies and deletes one PrivateService against one AWS context."""

    def __init__(
        self, ps: PrivateService, aws: AwsContext, *, max_requeue: float | None = None
    ) -> None:
        """`max_requeue` caps the wait between passes (tests and the sandbox poll faster)."""
        problems = unsupported(ps)
        if problems:
            raise SpecError(f"{ps.owner}: " + "; ".join(problems))
        self.ps = ps
        self.max_requeue = max_requeue
        self.last_stack: Stack | None = None
        self._network: tuple[Network, float] | None = None
        self.aws = aws.for_region(ps.spec.region)
        self.engine = Engine(make_handlers(self.aws), ignore_fields=ps.spec.drift.ignore_fields)

    def stack(self, *, tolerate_missing_network: bool = False) -> Stack:
        """The desired stack, for the network discovered in the last NETWORK_TTL seconds.

        VPCs and subnets rarely change, and a changed spec gets a new Reconciler, so the
        discovery (two EC2 reads) is not repeated on every resync.
        """
        now = time.monotonic()
        if self._network is None or now - self._network[1] > NETWORK_TTL:
            try:
                self._network = (discover(self.aws, self.ps.spec.network), now)
            except DiscoveryError:
                if not tolerate_missing_network:
                    raise
                self._network = None
        net = self._network[0] if self._network else Network.placeholder()
        self.last_stack = build_stack(self.ps, net)
        return self.last_stack

    def plan(self) -> Outcome:
        """One dry pass: every read, no write."""
        return self.engine.apply(self.stack(), dry_run=True)

    def apply(self, timeout: float, progress: Progress | None = None) -> Result:
        """Passes until one changes nothing, waits on nothing and fails nothing."""
        return self._loop(self.engine.apply, timeout, progress, tolerate=False)

    def delete(self, timeout: float, progress: Progress | None = None) -> Result:
        """Passes until nothing owned is left; with deletionPolicy Retain, `retain`."""
        if self.ps.spec.deletion_policy == "Retain":
            return self.retain(progress)

        def one(stack: Stack) -> Outcome:
            return self.engine.delete(stack)

        return self._loop(one, timeout, progress, tolerate=True, deleting=True)

    def retain(self, progress: Progress | None = None) -> Result:
        """deletionPolicy Retain: nothing to delete, so one read-only pass naming what is kept
        and no waiting. A resource that cannot be read (its authorizer function gone, a VPC
        link FAILED) is kept all the same: it is reported, never waited on."""
        outcome = self.engine.delete(
            self.stack(tolerate_missing_network=True), dry_run=True, retain=True
        )
        outcome.requeue_after = None
        for change in outcome.changes:
            if change.action is Action.WAIT:
                change.action = Action.RETAIN
                change.message = f"kept (not readable: {change.message})"
            if progress:
                progress(self.ps, change)
        return Result(outcome, 1, True, done=list(outcome.changes))

    def _loop(
        self,
        one_pass: Callable[[Stack], Outcome],
        timeout: float,
        progress: Progress | None,
        *,
        tolerate: bool,
        deleting: bool = False,
    ) -> Result:
        deadline = time.monotonic() + timeout
        passes, done_changes, kept = 0, list[Change](), dict[str, Change]()
        stack = self.stack(tolerate_missing_network=tolerate)
        while True:
            passes += 1
            outcome = one_pass(stack)
            for change in outcome.changes:
                if progress and change.action is not Action.NOOP:
                    progress(self.ps, change)
            done_changes += [c for c in outcome.changes if c.action.mutates]
            kept |= {c.key: c for c in outcome.changes if c.action is Action.RETAIN}  # in use
            if outcome.errors:
                failed = outcome.errors[0]
                why = f"{failed.key}: {failed.message}"
                return Result(outcome, passes, False, why, done_changes)
            done = (
                (
                    not any(c.action is Action.WAIT for c in outcome.changes)
                    and outcome.requeue_after is None
                )
                if deleting
                else outcome.converged
            )
            if deleting and not outcome.mutated and done:
                return Result(outcome, passes, True, done=done_changes + list(kept.values()))
            if not deleting and done:
                return Result(outcome, passes, True, done=done_changes)
            delay = (
                0.0
                if outcome.mutated and outcome.requeue_after is None
                else (outcome.requeue_after or 0.0)
            )
            if time.monotonic() + delay > deadline:
                waiting = [c for c in outcome.changes if c.action in (Action.WAIT, Action.BLOCKED)]
                why = "; ".join(f"{c.key}: {c.message}" for c in waiting[:3]) or "still changing"
                return Result(outcome, passes, False, f"timed out: {why}", done_changes)
            if self.max_requeue is not None:
                delay = min(delay, self.max_requeue)
            if delay:
                log.info("requeue", owner=self.ps.owner, after=delay)
                time.sleep(delay)
            if not deleting and outcome.mutated:
                stack = self.stack(tolerate_missing_network=tolerate)
