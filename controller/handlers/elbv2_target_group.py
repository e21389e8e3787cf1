"""Target groups: `ip` (Fargate), `alb` (an NLB in front of an ALB), `instance` (ECS on EC2).

Found by deterministic name. Health check and attributes are modified in place; name, protocol,
port, VPC and target type cannot change: replacement. Target registration is not here: ECS
registers tasks, `controller.handlers.elbv2_targets` registers an ALB.
Neighbours: `controller.handlers.base`, `controller.handlers.elbv2_load_balancer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    changed,
    error_code,
    props_as,
)
from controller.handlers.elbv2_load_balancer import attribute_changes
from controller.handlers.elbv2_reads import all_tags, chunk_tags, target_groups
from controller.model import kinds
from controller.model.props import TargetGroup

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client


def target_group_props(tg: dict[str, Any], attrs: dict[str, str]) -> dict[str, Any]:
    """A DescribeTargetGroups entry in the desired props' shape."""
    health: dict[str, Any] = {
        "protocol": tg["HealthCheckProtocol"],
        "port": tg["HealthCheckPort"],
        "intervalSeconds": tg["HealthCheckIntervalSeconds"],
        "timeoutSeconds": tg["HealthCheckTimeoutSeconds"],
        "healthyThreshold": tg["HealthyThresholdCount"],
        "unhealthyThreshold": tg["UnhealthyThresholdCount"],
    }
    if tg["HealthCheckProtocol"] != "TCP":
        health["path"] = tg.get("HealthCheckPath")
        health["matcher"] = tg.get("Matcher", {}).get("HttpCode")
    return {
        "name": tg["TargetGroupName"],
        "protocol": tg["Protocol"],
        "port": tg["Port"],
        "vpcId": tg["VpcId"],
        "targetType": tg["TargetType"],
        "healthCheck": health,
        "attributes": attrs,
    }


class TargetGroupHandler(Handler):
    """ELBv2 target group (type ip for Fargate: rule 1)."""

    kind = kinds.ELBV2_TARGET_GROUP
    client: ElasticLoadBalancingv2Client
    service = "elbv2"
    replace_on = ("name", "protocol", "port", "vpcId", "targetType")
    single_instance = True  # list_owned keys by component: one owned per stack key

    def props_of(self, want: Desired) -> TargetGroup:
        """The desired props as `TargetGroup` (`controller.model.props`)."""
        return props_as(want, TargetGroup)

    def observe(self, want: Desired) -> Observed | None:
        """By name in the account's list (shared by every spec), with tags and attributes."""
        everyone = target_groups(self.client)
        tg = next(
            (tg for tg in everyone if tg["TargetGroupName"] == self.props_of(want)["name"]), None
        )
        if tg is None:
            return None
        arn = tg["TargetGroupArn"]
        tags = chunk_tags(self.client, arn)
        attrs = self.client.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        return Observed(
            key=want.key,
            id=arn,
            props=target_group_props(tg, {a["Key"]: a["Value"] for a in attrs}),
            tags=tags,
            outputs={"id": arn, "arn": arn, "loadBalancerArns": tg.get("LoadBalancerArns", [])},
        )

    def downtime(self, deltas: list[Delta], have: Observed) -> str | None:
        """A replacement cuts clients off only while a listener or rule forwards to the group
        (`LoadBalancerArns` of DescribeTargetGroups): AWS refuses to delete it then, and its
        listener would have no targets between the delete and the create."""
        if not have.outputs.get("loadBalancerArns"):
            return None
        return super().downtime(deltas, have)

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """As usual, except the port of an `ip` or `instance` group: it is only the default
        for targets registered without one ("The port on which the targets receive traffic.
        This port is used unless you specify a port override when registering the target",
        ELBv2 API Reference, CreateTargetGroup), and ECS registers every task with the
        container (or host) port of the service's `loadBalancers`. So a container port change
        is a rolling deployment into the same group, never a replacement of a group the
        listener forwards to. An `alb` group's port must match the ALB's listener: replaced."""
        deltas = super().diff(want, have)
        if self.props_of(want).get("targetType") in ("ip", "instance"):
            deltas = [d for d in deltas if d.path != "port"]
        return deltas

    @staticmethod
    def _health_args(health: Mapping[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "HealthCheckProtocol": health["protocol"],
            "HealthCheckPort": health["port"],
            "HealthCheckIntervalSeconds": health["intervalSeconds"],
            "HealthCheckTimeoutSeconds": health["timeoutSeconds"],
            "HealthyThresholdCount": health["healthyThreshold"],
            "UnhealthyThresholdCount": health["unhealthyThreshold"],
        }
        if health["protocol"] != "TCP":
            args |= {"HealthCheckPath": health["path"], "Matcher": {"HttpCode": health["matcher"]}}
        return args

    def create(self, want: Desired) -> Observed:
        """Create the target group with its health check, then its attributes."""
        p = self.props_of(want)
        self.log_call("creating", want, name=p["name"])
        self.client.create_target_group(
            Name=p["name"],
            Protocol=p["protocol"],
            Port=p["port"],
            VpcId=p["vpcId"],
            TargetType=p["targetType"],
            HealthCheckEnabled=True,
            Tags=ownership.to_list(want.tags),
            **self._health_args(p["healthCheck"]),
        )
        have = self.reobserve(want)
        have = self.update(want, have, self.diff(want, have))
        self.log_call("created", want, id=have.id)
        return have

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One step per aspect: health check, attributes."""
        p = self.props_of(want)
        if changed(deltas, "healthCheck"):
            self.log_call("modifying health check", want, health=p["healthCheck"])
            self.client.modify_target_group(
                TargetGroupArn=have.id, **self._health_args(p["healthCheck"])
            )
        attrs = attribute_changes(p["attributes"], have.props["attributes"])
        if attrs:
            self.log_call("modifying attributes", want, attributes=attrs)
            self.client.modify_target_group_attributes(TargetGroupArn=have.id, Attributes=attrs)
        return self.reobserve(want)

    def list_owned(self, owner: str) -> list[Observed]:
        """Every target group carrying our owner tag, keyed by its component: the sweep deletes
        one the stack no longer wants (a renamed spec's), and, the key being single-instance, a
        second one at a key in use once nothing references it (ResourceInUse is a wait)."""
        tags = all_tags(self.client)
        return [
            Observed(
                key=tags[tg["TargetGroupArn"]].get(ownership.COMPONENT, tg["TargetGroupArn"]),
                id=tg["TargetGroupArn"],
                props={"name": tg["TargetGroupName"]},
                tags=tags[tg["TargetGroupArn"]],
            )
            for tg in target_groups(self.client)
            if ownership.is_owned(tags.get(tg["TargetGroupArn"], {}), owner)
        ]

    def delete(self, have: Observed) -> None:
        """Delete; a group still used by a listener or a service is a wait."""
        self.log_call("deleting", have, id=have.id)
        try:
            self.client.delete_target_group(TargetGroupArn=have.id)
        except ClientError as exc:
            code = error_code(exc)
            if code == "TargetGroupNotFound":
                return
            if code == "ResourceInUse":
                raise TemporaryError(f"target group {have.id} still in use", 10) from exc
            raise
