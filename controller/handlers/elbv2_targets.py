"""Targets registered by the controller: the ALB in the NLB's `alb` target group (rule 1).

Props `{targetGroupArn, targets: [{id, port}]}`. Owned through the target group (its tags);
the target group is ours, so any other target in it is deregistered and missing ones are
registered. Tasks are not registered here: ECS does that for `ip` groups.
Neighbours: `controller.handlers.base`, `controller.handlers.elbv2_target_group`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    error_code,
    props_as,
    tolerating,
)
from controller.model import kinds
from controller.model.props import Known, Targets

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_elbv2.type_defs import TargetDescriptionTypeDef

GONE = ("draining", "unused")


def _key(target: Mapping[str, Any]) -> tuple[str, int]:
    return (str(target["id"]), int(target["port"]))


def _wire(targets: Sequence[Mapping[str, Any]]) -> list[TargetDescriptionTypeDef]:
    return [{"Id": t["id"], "Port": t["port"]} for t in targets]


class TargetsHandler(Handler):
    """ELBv2 target registrations of one target group."""

    kind = kinds.ELBV2_TARGETS
    client: ElasticLoadBalancingv2Client
    service = "elbv2"
    identity = ("targetGroupArn",)

    def props_of(self, want: Desired) -> Targets[Known]:
        """The desired props as `Targets` (`controller.model.props`)."""
        return props_as(want, Targets[Known])

    def observe(self, want: Desired) -> Observed | None:
        """The registered targets (draining ones are leaving: not counted) and the group's tags."""
        arn = self.props_of(want)["targetGroupArn"]
        try:
            health = self.client.describe_target_health(TargetGroupArn=arn)
        except ClientError as exc:
            if error_code(exc) == "TargetGroupNotFound":
                return None
            raise
        tags = self.client.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        targets = sorted(
            (
                {"id": d["Target"]["Id"], "port": d["Target"].get("Port")}
                for d in health["TargetHealthDescriptions"]
                if d.get("TargetHealth", {}).get("State") not in GONE
            ),
            key=_key,
        )
        return Observed(
            key=want.key,
            id=f"{arn} targets",
            props={"targetGroupArn": arn, "targets": targets},
            tags=ownership.from_list(tags),
            outputs={"id": arn},
        )

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """The target set, order aside."""
        desired = sorted((dict(t) for t in self.props_of(want)["targets"]), key=_key)
        if desired == have.props["targets"]:
            return []
        return [Delta("targets", desired, have.props["targets"])]

    def create(self, want: Desired) -> Observed:
        """Register the targets."""
        self._sync(want, [])
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Deregister extra targets, register missing ones."""
        del deltas
        self._sync(want, have.props["targets"])
        return self.reobserve(want)

    def _sync(self, want: Desired, held: list[dict[str, Any]]) -> None:
        arn = self.props_of(want)["targetGroupArn"]
        desired = {_key(t): t for t in self.props_of(want)["targets"]}
        have = {_key(t): t for t in held}
        extra = [t for k, t in have.items() if k not in desired]
        missing = [t for k, t in desired.items() if k not in have]
        if extra:
            self.log_call("deregistering targets", want, targets=extra)
            self.client.deregister_targets(TargetGroupArn=arn, Targets=_wire(extra))
        if missing:
            self.log_call("registering targets", want, targets=missing)
            self.client.register_targets(TargetGroupArn=arn, Targets=_wire(missing))

    def delete(self, have: Observed) -> None:
        """Deregister what we registered; a missing group or target is success."""
        if not have.props["targets"]:
            return
        self.log_call("deregistering targets", have, targets=have.props["targets"])
        with tolerating("TargetGroupNotFound", "InvalidTarget"):
            self.client.deregister_targets(
                TargetGroupArn=have.props["targetGroupArn"], Targets=_wire(have.props["targets"])
            )
