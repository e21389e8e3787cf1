"""Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does.

The Lease (in the controller's own namespace, `privateservice-controller` by default) holds
`holderIdentity`, `leaseDurationSeconds`, `acquireTime`, `renewTime` and `leaseTransitions`.
Every write is a replace carrying the `resourceVersion` just read, so two replicas racing for it
cannot both win: the API server answers the second with 409 Conflict.

- acquire: read; take the Lease (replace, or create once there has been none for a whole term:
  a deleted Lease may still have a leader writing by its own deadline) if it has no holder, or
  if its record (holder, renewTime) has not changed for `leaseDurationSeconds` *as measured on
  this replica's monotonic clock since it first saw that record*. Comparing `renewTime` with
  the local wall clock would trust two clocks; watching the record change trusts none (this is
  client-go's `observedTime`). A replica that has just started therefore waits one full term
  before taking a Lease someone else holds, even an old one.
- renew: read, check the holder is still us (else leadership ends at once), replace renewTime.
- release (clean stop): clear the holder and set `leaseDurationSeconds: 1`, so a standby takes
  over at its next try.

Why the holder stops before another starts: the holder leads until `sent + duration - margin`
(`LeaseBase`), `sent` being when it sent its last successful renew. A standby can only see that
renew after it was written, hence after `sent`, and then waits `duration` more. Network delays
only widen the gap; clock skew does not enter. With the defaults (10 s, renew every 2 s, margin
4 s), a crashed leader is replaced within about 10 s + one retry (2 s) of its last renew.
Neighbours: `controller.ports.lease` (the shared deadline logic), `client`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog
from httpx2 import HTTPError
from lightkube import ApiError, AsyncClient
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease

from controller.ports.lease import LEASE_NAME, LeaseBase

log = structlog.get_logger(__name__)


class KubeLease(LeaseBase):
    """One Lease object; `run()` keeps it, `leading` is set while it is held."""

    backend = "kubernetes"

    def __init__(
        self,
        client: AsyncClient,
        namespace: str,
        name: str = LEASE_NAME,
        holder: str | None = None,
        duration: float = 10.0,
        renew_every: float = 2.0,
        margin: float | None = None,
    ) -> None:
        super().__init__(holder, duration, renew_every, margin)
        self.client, self.namespace, self.name = client, namespace, name
        self._seen: tuple[str | None, object] | None = None
        self._seen_at = 0.0

    # -- the backend ---------------------------------------------------------------------
    async def _try_acquire(self) -> bool:
        try:
            lease = await self._read()
            if lease is None:  # an unknown holder's, for a term (`LeaseBase._missing_for_a_term`)
                if not self._missing_for_a_term():
                    return False
                await self.client.create(self._fresh(transitions=0))
                self._lease_seen()
                return True
            self._lease_seen()
            spec = lease.spec or LeaseSpec()
            if not self._expired(spec):
                return False
            taking_over = spec.holderIdentity != self.holder
            lease.spec = self._spec(
                acquired=None if not taking_over else _now(),
                previous=spec,
                transitions=(spec.leaseTransitions or 0) + (1 if taking_over else 0),
            )
            await self.client.replace(lease)
        except HTTPError as exc:  # ApiError too
            raced = isinstance(exc, ApiError) and exc.status.code in (409, 422)
            if raced:  # someone else wrote (or made) the Lease: it is not missing
                self._lease_seen()
            if not raced:  # a race is expected: another replica wrote first
                log.warning("lease call failed", call="acquire", error=str(exc))
            return False
        return True

    async def _try_renew(self) -> bool:
        try:
            lease = await self._read()
            spec = lease.spec if lease is not None else None
            if lease is None or spec is None or spec.holderIdentity != self.holder:
                log.warning("lease lost: another replica holds it", holder=self.holder)
                self._lose("taken")
                return False
            lease.spec = self._spec(acquired=spec.acquireTime, previous=spec)
            await self.client.replace(lease)
        except HTTPError as exc:  # a 409 or no answer: retry; the local deadline decides the end
            log.warning("lease call failed", call="renew", error=str(exc))
            return False
        return True

    async def _release(self) -> None:
        try:
            lease = await self._read()
            if lease is None or lease.spec is None or lease.spec.holderIdentity != self.holder:
                return
            lease.spec.holderIdentity = None
            lease.spec.leaseDurationSeconds = 1
            lease.spec.renewTime = _now()
            await self.client.replace(lease)
        except (ApiError, HTTPError) as exc:  # the Lease then expires on its own
            log.warning("lease call failed", call="release", error=str(exc))

    # -- helpers ---------------------------------------------------------------------------
    async def _read(self) -> Lease | None:
        try:
            return await self.client.get(Lease, self.name, namespace=self.namespace)
        except ApiError as exc:
            if exc.status.code == 404:
                return None
            raise

    def _expired(self, spec: LeaseSpec) -> bool:
        """No holder, or the record unchanged for a whole term by our own clock."""
        if not spec.holderIdentity or spec.holderIdentity == self.holder:
            return True
        record = (spec.holderIdentity, spec.renewTime)
        now = time.monotonic()
        if record != self._seen:
            self._seen, self._seen_at = record, now
            return False
        term = spec.leaseDurationSeconds or self.duration
        return now - self._seen_at >= term

    def _spec(
        self, *, acquired: datetime | None, previous: LeaseSpec, transitions: int | None = None
    ) -> LeaseSpec:
        return LeaseSpec(
            holderIdentity=self.holder,
            leaseDurationSeconds=round(self.duration),
            acquireTime=acquired or previous.acquireTime or _now(),
            renewTime=_now(),
            leaseTransitions=previous.leaseTransitions if transitions is None else transitions,
        )

    def _fresh(self, transitions: int) -> Lease:
        return Lease(
            metadata=ObjectMeta(name=self.name, namespace=self.namespace),
            spec=self._spec(acquired=_now(), previous=LeaseSpec(), transitions=transitions),
        )


def _now() -> datetime:
    return datetime.now(UTC)
