"""Leader election with a DynamoDB lease: several `psctl run` replicas, one of them writing.

The table (created by deploy/ecs, never by the controller) has one partition key, `pk` (S), and
holds one item per lease:

    pk        (S)  the lease's name, "privateservice-controller" by default
    holder    (S)  the replica holding it: hostname, pid and a uuid
    expiresAt (N)  Unix time (seconds, float) at which the lease lapses: the holder's clock at
                   the moment it sent its last acquire or renew, plus `duration`

- acquire: PutItem if `expiresAt < :now OR holder = :me` (see below for a missing item);
- renew: UpdateItem of `expiresAt` if `holder = :me AND expiresAt > :now`; a failed condition
  means another replica took the lease: leadership ends at once;
- release (clean stop): UpdateItem `expiresAt = 0` if `holder = :me`, so a standby takes over
  at its next try;
- a missing item (deleted by hand, or a fresh table) is taken only once this replica has seen
  it missing for a whole term (`attribute_not_exists(pk)` is in the acquire's condition only
  then): whoever led may still be writing by its own deadline.

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

`controller.ports.lease.LeaseBase` holds what every backend shares (the local deadline, the
events); `controller.kube.lease` is the Kubernetes backend; `controller.aws.dynamo_lease` makes
the DynamoDB calls. Neighbours: `controller.runtime.controller`
(the only user), `controller.cli_wiring` (builds it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from controller.aws.dynamo_lease import (
    ClientFactory,
    LeaseCallError,
    LeaseMissingError,
    LeaseTable,
    LeaseTakenError,
)
from controller.ports.lease import LEASE_NAME, LeaseBase, default_holder

log = structlog.get_logger(__name__)

__all__ = ["LEASE_NAME", "ClientFactory", "DynamoLease", "LeaseBase", "default_holder"]


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

    @property
    def _items(self) -> LeaseTable:
        """The lease's item, through `self.aws` as it is now (a test may swap it)."""
        return LeaseTable(self.aws, self.table, self.name)

    async def _try_acquire(self) -> bool:
        allow = self._missing_since is not None and self._missing_for_a_term()
        return await self._call(
            "acquire", lambda: self._items.put(self.holder, self.duration, allow_missing=allow)
        )

    async def _try_renew(self) -> bool:
        return await self._call("renew", lambda: self._items.update(self.holder, self.duration))

    async def _release(self) -> None:
        await self._call("release", lambda: self._items.release(self.holder))

    async def _call(self, what: str, write: Callable[[], None]) -> bool:
        try:
            await asyncio.to_thread(write)
        except LeaseMissingError:  # an unknown holder's, for a term (`_missing_for_a_term`)
            self._missing_for_a_term()
            if what == "renew":
                log.warning("lease lost: its item is gone", holder=self.holder)
                self._lose("missing")
            return False
        except LeaseTakenError:
            self._lease_seen()
            if what == "renew":
                log.warning("lease lost: another replica holds it", holder=self.holder)
                self._lose("taken")
            return False
        except LeaseCallError as exc:  # the local deadline decides when leadership ends
            log.warning("lease call failed", call=what, error=str(exc))
            return False
        self._lease_seen()
        return True
