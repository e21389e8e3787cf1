"""The ECS cluster: used as it is when it exists, created (and then owned) when it does not.

A cluster is often shared by several services, so one that is not ours is a dependency, not a
conflict; one that is ours is deleted only once no ACTIVE service runs in it, whoever owns that
service: until then it stays, and passes to the spec of a remaining service (its owner tag
rewritten) or, when none is a spec's, is given up (our tags removed), with a warning.
Neighbours: `controller.handlers.base`, `controller.handlers.ecs_service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code, props_as
from controller.model import kinds
from controller.model.props import Cluster

if TYPE_CHECKING:
    from types_boto3_ecs import ECSClient

log = structlog.get_logger(__name__)


class ClusterHandler(Handler):
    """ECS cluster (shared: an existing cluster we do not own is used, never changed)."""

    kind = kinds.ECS_CLUSTER
    client: ECSClient
    service = "ecs"
    shared = True

    def props_of(self, want: Desired) -> Cluster:
        """The desired props as `Cluster` (`controller.model.props`)."""
        return props_as(want, Cluster)

    def observe(self, want: Desired) -> Observed | None:
        """An ACTIVE cluster of that name, with its tags."""
        clusters = self.client.describe_clusters(
            clusters=[self.props_of(want)["name"]], include=["TAGS"]
        )
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
        self.log_call("creating", want, name=self.props_of(want)["name"])
        c = self.client.create_cluster(
            clusterName=self.props_of(want)["name"], tags=ownership.to_list(want.tags, lower=True)
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

    def _active_services(self, cluster: str) -> list[dict[str, object]]:
        """The ACTIVE services of the cluster, with their tags (DRAINING ones are leaving)."""
        arns: list[str] = []
        for page in self.client.get_paginator("list_services").paginate(cluster=cluster):
            arns += page["serviceArns"]
        found: list[dict[str, object]] = []
        for i in range(0, len(arns), 10):  # DescribeServices takes at most 10
            described = self.client.describe_services(
                cluster=cluster, services=arns[i : i + 10], include=["TAGS"]
            )["services"]
            found += [dict(s) for s in described if s.get("status") == "ACTIVE"]
        return found

    def _hand_over(self, have: Observed, users: list[dict[str, object]]) -> None:
        """The cluster stays for the services still in it: its ownership passes to the spec of
        one of them (the first by name), or is given up when none is a spec's."""
        owner = have.tags.get(ownership.OWNER)
        heirs = sorted(
            {
                tag
                for s in users
                if (tag := ownership.from_list(s.get("tags")).get(ownership.OWNER))  # type: ignore[arg-type]
                and tag != owner
            }
        )
        if heirs:
            self.client.tag_resource(
                resourceArn=have.id,
                tags=[{"key": ownership.OWNER, "value": heirs[0]}],
            )
            log.warning("cluster kept and handed over", id=have.id, owner=heirs[0], was=owner)
        else:
            self.client.untag_resource(
                resourceArn=have.id, tagKeys=[ownership.OWNER, ownership.COMPONENT]
            )
            log.warning(
                "cluster kept, ownership given up: services not ours still use it",
                id=have.id,
                services=len(users),
                was=owner,
            )

    def delete(self, have: Observed) -> None:
        """Delete once no ACTIVE service uses it, whoever owns that service; else keep it and
        hand its ownership over (`_hand_over`). AWS refuses to delete a cluster with ACTIVE
        services (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html);
        the check here makes that true wherever the API does not enforce it."""
        try:
            users = self._active_services(have.id)
        except ClientError as exc:
            if error_code(exc) == "ClusterNotFoundException":
                return
            raise
        if users:
            self._hand_over(have, users)
            return
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
