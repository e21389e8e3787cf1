"""Listeners (the NLB's, the ALB's), found among their load balancer's listeners by our owner
and component tags. The default action forwards to `targetGroupArn`, or is a `defaultAction`
fixed response (the ALB's: its rules forward, unmatched paths get a 404).

Finding it by tag (not by port) lets a port change be a ModifyListener, not a new listener; with
`newPortBeside` (the NLB's listener, which an API reaches by port) it is create-before-delete
instead: a new listener beside the old one, which `elbv2_old_listeners` deletes once the API no
longer uses its port. An untagged listener on our port belongs to someone else and is reported,
never touched; so is any other listener someone adds to our NLB (reported as drift, see
`Observed.foreign`). Neighbours: `controller.handlers.base`, `elbv2_load_balancer`.
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
    changed,
    error_code,
    props_as,
    tolerating,
)
from controller.handlers.elbv2_reads import (
    GONE,
    ListenerMemo,
    listener_memo,
    listeners_with_tags,
)
from controller.model import kinds
from controller.model.props import Known, Listener

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client


def default_action(actions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The props of a listener's default action: forward target, or fixed response."""
    forward = next((a for a in actions if a["Type"] == "forward"), None)
    if forward is not None:
        return {"targetGroupArn": forward.get("TargetGroupArn")}
    fixed = next((a for a in actions if a["Type"] == "fixed-response"), None)
    if fixed is not None:
        config = fixed.get("FixedResponseConfig", {})
        return {"defaultAction": {"type": "fixed-response", "statusCode": config.get("StatusCode")}}
    return {"targetGroupArn": None}


BESIDE = "newPortBeside"
"""A listener prop: a port change adds a listener on the new port beside the old one
(create-before-delete), instead of moving this one with ModifyListener."""


class ListenerHandler(Handler):
    """ELBv2 listener forwarding to our target group (or answering with a fixed response)."""

    kind = kinds.ELBV2_LISTENER
    client: ElasticLoadBalancingv2Client
    service = "elbv2"
    replace_on = ("loadBalancerArn",)

    def props_of(self, want: Desired) -> Listener[Known]:
        """The desired props as `Listener` (`controller.model.props`)."""
        return props_as(want, Listener[Known])

    @property
    def _memo(self) -> ListenerMemo | None:
        """The listener ARNs every spec of this context learned (read by ARN in shared chunks)."""
        return listener_memo(self.aws.memo(self.service))

    def observe(self, want: Desired) -> Observed | None:
        """Ours by tag among the NLB's listeners, else whoever holds our port (read through
        `elbv2_reads.listeners_with_tags`: in full, or by remembered ARN)."""
        try:
            listeners, tags = listeners_with_tags(
                self.client, self._memo, self.props_of(want)["loadBalancerArn"]
            )
        except ClientError as exc:
            if error_code(exc) in GONE:
                return None
            raise
        if not listeners:
            return None
        ours = [
            li
            for li in listeners
            if ownership.is_owned(tags.get(li["ListenerArn"], {}), want.owner)
            and tags[li["ListenerArn"]].get(ownership.COMPONENT) == want.resource.component
        ]
        # during a port change two are ours (see `update`): the one on the wanted port first
        ours.sort(key=lambda li: li["Port"] != self.props_of(want)["port"])
        on_port = [li for li in listeners if li["Port"] == self.props_of(want)["port"]]
        if not (ours or on_port):
            return None
        found = (ours or on_port)[0]
        have = self._observed(want.key, found, tags.get(found["ListenerArn"], {}))
        if ours:  # listeners someone else added to our NLB: reported, never removed (not ours)
            have.foreign = [
                ("(extra listener)", f"{li['Protocol']} {li['Port']} {li['ListenerArn']}")
                for li in listeners
                if not ownership.is_owned(tags.get(li["ListenerArn"], {}), want.owner)
            ]
        return have

    @staticmethod
    def _observed(key: str, li: Mapping[str, Any], tags: dict[str, str]) -> Observed:
        props: dict[str, Any] = {
            "loadBalancerArn": li["LoadBalancerArn"],
            "port": li["Port"],
            "protocol": li["Protocol"],
            **default_action(li.get("DefaultActions", [])),
        }
        certs = li.get("Certificates") or []
        if certs:
            props["certificateArn"] = certs[0]["CertificateArn"]
        return Observed(
            key=key,
            id=li["ListenerArn"],
            props=props,
            tags=tags,
            outputs={"id": li["ListenerArn"], "arn": li["ListenerArn"]},
        )

    def _args(self, want: Desired) -> dict[str, Any]:
        p = self.props_of(want)
        action: dict[str, Any] = {"Type": "forward", "TargetGroupArn": p.get("targetGroupArn")}
        if p.get("defaultAction"):
            fixed = p["defaultAction"]
            action = {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": fixed["statusCode"]},
            }
        args: dict[str, Any] = {
            "Port": p["port"],
            "Protocol": p["protocol"],
            "DefaultActions": [action],
        }
        if p.get("certificateArn"):
            args["Certificates"] = [{"CertificateArn": p["certificateArn"]}]
        return args

    def create(self, want: Desired) -> Observed:
        """Create the listener with our tags."""
        self.log_call("creating", want, port=self.props_of(want)["port"])
        li = self.client.create_listener(
            LoadBalancerArn=self.props_of(want)["loadBalancerArn"],
            Tags=ownership.to_list(want.tags),
            **self._args(want),
        )["Listeners"][0]
        self.log_call("created", want, id=li["ListenerArn"])
        return self._observed(want.key, li, dict(want.tags))

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """The props' deltas; `newPortBeside` says how a port change is made, AWS holds no such
        field."""
        return [d for d in super().diff(want, have) if d.path != BESIDE]

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Port, protocol, certificate and forward target in one ModifyListener; with
        `newPortBeside`, a port change is a new listener beside this one (`_add_beside`)."""
        if self.props_of(want).get(BESIDE) and changed(deltas, "port"):
            return self._add_beside(want, have)
        self.log_call("modifying", want, id=have.id, fields=[d.path for d in deltas])
        li = self.client.modify_listener(ListenerArn=have.id, **self._args(want))["Listeners"][0]
        return self._observed(want.key, li, have.tags)

    def _add_beside(self, want: Desired, have: Observed) -> Observed:
        """Create-before-delete of a port change: a listener on the new port (tagged as ours,
        with every desired setting) beside the old one, which keeps serving clients that still
        use the old port (a REST stage's deployment) until `elbv2_old_listeners` deletes it. An
        NLB holds one listener per port, so both can stand (CreateListener fails with
        DuplicateListener only for a port already taken, and is idempotent for the same
        settings: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/
        API_CreateListener.html)."""
        self.log_call("adding beside", want, old=have.id, port=self.props_of(want)["port"])
        made = self.create(want)
        self.refresh()  # the next read must see both listeners
        return made

    def delete(self, have: Observed) -> None:
        """Delete; NotFound is success."""
        self.log_call("deleting", have, id=have.id)
        with tolerating("ListenerNotFound"):
            self.client.delete_listener(ListenerArn=have.id)
        memo = self._memo
        if memo is not None:
            memo.drop(have.props["loadBalancerArn"])
