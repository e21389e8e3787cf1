"""Leader election with a DynamoDB lease: several `psctl run` replicas, one of them writing.

The table (created by deploy/ecs, never by the controller) has one partition key, `pk` (S), and
holds one item per lease:

    pk        (S)  the lease's name, "privateservice-controller" by default
    holder    (S)  the replica holding it: hostname, pid and a uuid
    expiresAt (N)  Unix time (seconds, float) at which the lease lapses: the holder's clock at
                   the moment it sent its last acquire or renew, plus `duration`

- acquire: PutItem if `attribute_not_exists(pk) OR expiresAt < :now OR holder = :me`;
- renew: UpdateItem of `expiresAt` if `holder = :me AND expiresAt > :now`; a failed condition
  means another replica took the lease: leadership ends at once;
- release (clean stop): DeleteItem if `holder = :me`, so a standby takes over at its next try.

Why a replica stops *before* another can take over. A standby takes the lease once its wall clock
passes the stored `expiresAt`, i.e. at real time >= t_sent + duration - skew, where t_sent is when
the holder sent its last successful write and skew is how far the standby's clock runs ahead of
the holder's. The holder, independently of DynamoDB (a renew can hang or fail), counts on its own
monotonic clock from *before* it sent that write and considers itself leader only until
t_sent + duration - margin. Network delay only makes that earlier. So the two never overlap as
long as skew < margin; the default margin is 2 * renew_every (6 s with the defaults; ECS tasks
are synchronised by the Amazon Time Sync Service to well under a second). With duration 10 s and
renew_every 3 s, a leader that cannot renew stops leading 4 s after its last good write; the lease
can be taken 10 s after it; a crashed leader is replaced within duration + renew_every.

What "stops leading" covers: no new reconcile pass starts (see `Controller`), and the AWS context
refuses every mutating call of a pass still in flight before sending it (`FencedError`). A call
already on the wire when the lease goes may still land; the margin (4-6 s) is there for it.

`LeaseBase` holds what every backend shares (the local deadline, the events);
`controller.kube.lease` is the Kubernetes backend. Neighbours: `controller.runtime.controller`
(the only user), `controller.runtime.main`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from typing import Any, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError

log = structlog.get_logger(__name__)

LEASE_NAME = "privateservice-controller"


class ClientFactory(Protocol):
    """Anything with boto3 clients: `AwsContext`, or a test's sandbox access."""

    def client(self, service: str) -> Any:
        """A boto3 client."""


def default_holder() -> str:
    """A unique name for this replica: hostname, pid and a uuid."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


class LeaseBase:
    """A lease kept by `run()`; `leading` is set while it is held. Backends write it.

    A backend implements `_try_acquire`, `_try_renew` (each True when the write succeeded; a
    renew that finds the lease taken calls `_lose("taken")`) and `_release`. The local deadline
    is the same for every backend: leader until `sent + duration - margin` on this replica's
    monotonic clock, `sent` being when the last successful write was sent.
    """

    backend = "lease"

    def __init__(
        self,
        holder: str | None,
        duration: float,
        renew_every: float,
        margin: float | None,
    ) -> None:
        self.holder = holder or default_holder()
        self.duration, self.renew_every = duration, renew_every
        self.margin = 2 * renew_every if margin is None else margin
        if self.duration - self.margin <= self.renew_every:
            msg = "lease: duration - margin must exceed renew_every (one renew per term, at least)"
            raise ValueError(msg)
        self.leading = asyncio.Event()
        """Set while this replica holds the lease (by its own, conservative, clock)."""
        self.standby = asyncio.Event()
        """The opposite of `leading`, to wait on."""
        self.standby.set()
        self.acquired_at: float | None = None
        """time.monotonic() of the last transition to leader (tests measure handovers)."""
        self.lost_at: float | None = None
        """time.monotonic() of the last transition away from leader."""
        self._deadline: asyncio.TimerHandle | None = None
        self._closing = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        """True while the lease is held."""
        return self.leading.is_set()

    # -- the loop ----------------------------------------------------------------------
    async def run(self) -> None:
        """Acquire, then renew every `renew_every` seconds, until `stop()` (or cancellation)."""
        while not self._closing.is_set():
            sent = time.monotonic()
            ok = await (self._try_renew() if self.is_leader else self._try_acquire())
            if ok:
                self._hold(sent)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.renew_every)

    async def stop(self, *, release: bool = True) -> None:
        """End the loop (the caller awaits `run()`); give the lease back if held."""
        self._closing.set()
        held = self.is_leader
        self._lose("stopped")
        if release and held:
            await self._release()

    # -- what a backend writes -----------------------------------------------------------
    async def _try_acquire(self) -> bool:
        raise NotImplementedError

    async def _try_renew(self) -> bool:
        raise NotImplementedError

    async def _release(self) -> None:
        raise NotImplementedError

    # -- local state -------------------------------------------------------------------
    def _hold(self, sent: float) -> None:
        """A write sent at monotonic `sent` succeeded: lead until sent + duration - margin."""
        if self._closing.is_set():
            return
        until = sent + self.duration - self.margin
        remaining = until - time.monotonic()
        if remaining <= 0:  # the answer came too late to count
            self._lose("late")
            return
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = asyncio.get_running_loop().call_later(
            remaining, self._lose, "not renewed in time"
        )
        if not self.is_leader:
            self.acquired_at = time.monotonic()
            self.leading.set()
            self.standby.clear()
            log.info("lease acquired: leading", holder=self.holder, backend=self.backend)

    def _lose(self, why: str) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self.is_leader:
            self.lost_at = time.monotonic()
            self.leading.clear()
            self.standby.set()
            log.warning("lease released: standing by", holder=self.holder, reason=why)


class DynamoLease(LeaseBase):
    """One lease in a DynamoDB table (see the module docstring)."""

    backend = "dynamodb"

    def __init__(
        self,
        aws: ClientFactory,
        table: str,
        name: str = LEASE_NAME,
        holder: str | None = None,
        duration: float = 10.0,
        renew_every: float = 3.0,
        margin: float | None = None,
    ) -> None:
        super().__init__(holder, duration, renew_every, margin)
        self.aws, self.table, self.name = aws, table, name

    async def _try_acquire(self) -> bool:
        return await self._call("acquire", self._put)

    async def _try_renew(self) -> bool:
        return await self._call("renew", self._update)

    async def _release(self) -> None:
        await self._call("release", self._delete)

    async def _call(self, what: str, fn: Any) -> bool:
        try:
            await asyncio.to_thread(fn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                if what == "renew":
                    log.warning("lease lost: another replica holds it", holder=self.holder)
                    self._lose("taken")
                return False
            log.warning("lease call failed", call=what, error=str(exc))
            return False
        except BotoCoreError as exc:  # the local deadline decides when leadership ends
            log.warning("lease call failed", call=what, error=str(exc))
            return False
        return True

    def _put(self) -> None:
        now = time.time()
        self.aws.client("dynamodb").put_item(
            TableName=self.table,
            Item={
                "pk": {"S": self.name},
                "holder": {"S": self.holder},
                "expiresAt": {"N": repr(now + self.duration)},
            },
            ConditionExpression="attribute_not_exists(pk) OR expiresAt < :now OR holder = :me",
            ExpressionAttributeValues={":now": {"N": repr(now)}, ":me": {"S": self.holder}},
        )

    def _update(self) -> None:
        now = time.time()
        self.aws.client("dynamodb").update_item(
            TableName=self.table,
            Key={"pk": {"S": self.name}},
            UpdateExpression="SET expiresAt = :exp",
            ConditionExpression="holder = :me AND expiresAt > :now",
            ExpressionAttributeValues={
                ":exp": {"N": repr(now + self.duration)},
                ":now": {"N": repr(now)},
                ":me": {"S": self.holder},
            },
        )

    def _delete(self) -> None:
        self.aws.client("dynamodb").delete_item(
            TableName=self.table,
            Key={"pk": {"S": self.name}},
            ConditionExpression="holder = :me",
            ExpressionAttributeValues={":me": {"S": self.holder}},
        )
