"""The ECS cluster: used as it is when it exists, created (and then owned) when it does not.

A cluster is often shared by several services, so one that is not ours is a dependency, not a
conflict; one that is ours is deleted only once no service runs in it.
Neighbours: `controller.handlers.base`, `controller.handlers.ecs_service`.
"""

from __future__ import annotations

import structlog
from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code

log = structlog.get_logger(__name__)


class ClusterHandler(Handler):
    """ECS cluster (shared: an existing cluster we do not own is used, never changed)."""

    kind = "ecs.cluster"
    service = "ecs"
    shared = True

    def observe(self, want: Desired) -> Observed | None:
        """An ACTIVE cluster of that name, with its tags."""
        clusters = self.client.describe_clusters(clusters=[want.props["name"]], include=["TAGS"])
        active = [c for c in clusters["clusters"] if c["status"] == "ACTIVE"]
        if not active:
            return None
        c = active[0]
        return Observed(
            key=want.key,
            id=c["clusterArn"],
            props={"name": c["clusterName"]},
            tags=ownership.from_list(c.get("tags")),
            outputs={"id": c["clusterName"], "name": c["clusterName"], "arn": c["clusterArn"]},
        )

    def create(self, want: Desired) -> Observed:
        """Create the cluster with our tags."""
        self.log_call("creating", want, name=want.props["name"])
        c = self.client.create_cluster(
            clusterName=want.props["name"], tags=ownership.to_list(want.tags, lower=True)
        )["cluster"]
        return Observed(
            key=want.key,
            id=c["clusterArn"],
            props={"name": c["clusterName"]},
            tags=dict(want.tags),
            outputs={"id": c["clusterName"], "name": c["clusterName"], "arn": c["clusterArn"]},
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing about a cluster is ours to change beyond its name (a new cluster)."""
        del want, deltas
        return have

    def delete(self, have: Observed) -> None:
        """Delete once empty; a cluster other services still use stays."""
        try:
            self.client.delete_cluster(cluster=have.id)
            self.log_call("deleted", have, id=have.id)
        except ClientError as exc:
            code = error_code(exc)
            if code in (
                "ClusterContainsServicesException",
                "ClusterContainsTasksException",
                "ClusterContainsContainerInstancesException",
            ):
                log.info("cluster kept: still in use", key=have.key, id=have.id, reason=code)
                return
            if code != "ClusterNotFoundException":
                raise
