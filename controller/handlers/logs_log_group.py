"""The CloudWatch Logs group `/privateservice/<namespace>/<name>` and its retention.

Neighbours: `controller.handlers.base`; the task definition's awslogs driver writes here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller.handlers.base import Delta, Desired, Handler, Observed, props_as, tolerating
from controller.model import kinds
from controller.model.props import LogGroup

if TYPE_CHECKING:
    from types_boto3_logs import CloudWatchLogsClient


class LogGroupHandler(Handler):
    """CloudWatch Logs log group."""

    kind = kinds.LOGS_LOG_GROUP
    client: CloudWatchLogsClient
    service = "logs"
    replace_on = ("name",)

    def props_of(self, want: Desired) -> LogGroup:
        """The desired props as `LogGroup` (`controller.model.props`)."""
        return props_as(want, LogGroup)

    def observe(self, want: Desired) -> Observed | None:
        """By exact name among the groups under the name's first path segment (one paged list
        that every spec shares: `/privateservice/`), with tags."""
        name = self.props_of(want)["name"]
        prefix = name[: name.find("/", 1) + 1] if name.startswith("/") else name
        pages = self.client.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=prefix or name
        )
        group = next(
            (g for page in pages for g in page["logGroups"] if g["logGroupName"] == name), None
        )
        if group is None:
            return None
        arn = group["arn"].removesuffix(":*")
        tags = self.client.list_tags_for_resource(resourceArn=arn).get("tags", {})
        return Observed(
            key=want.key,
            id=name,
            props={"name": name, "retentionDays": group.get("retentionInDays")},
            tags=tags,
            outputs={"id": name, "name": name, "arn": arn},
        )

    def create(self, want: Desired) -> Observed:
        """Create the group with our tags and its retention."""
        name = self.props_of(want)["name"]
        self.log_call("creating", want, name=name)
        with tolerating("ResourceAlreadyExistsException"):
            self.client.create_log_group(logGroupName=name, tags=dict(want.tags))
        self.client.put_retention_policy(
            logGroupName=name, retentionInDays=self.props_of(want)["retentionDays"]
        )
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Retention is the only mutable field."""
        del deltas
        self.log_call("setting retention", want, days=self.props_of(want)["retentionDays"])
        self.client.put_retention_policy(
            logGroupName=have.id, retentionInDays=self.props_of(want)["retentionDays"]
        )
        have.props["retentionDays"] = self.props_of(want)["retentionDays"]
        return have

    def delete(self, have: Observed) -> None:
        """Delete; NotFound is success."""
        self.log_call("deleting", have, id=have.id)
        with tolerating("ResourceNotFoundException"):
            self.client.delete_log_group(logGroupName=have.id)
