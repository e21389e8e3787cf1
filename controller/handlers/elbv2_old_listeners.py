"""Listeners left on an old port: a listener port change without a moment where the path is shut.

A change of `loadBalancer.listener.port` (80 -> 8080) is create-before-delete: the listener
handler adds a listener on the new port beside the old one (both ours, both forwarding to the
same target group; `ListenerHandler.update` with `newPortBeside`), the REST integration moves to
the new port and the API is redeployed, and only then does this pseudo-resource (`old-listeners`,
which the model makes depend on the API's stage) delete our listeners on any other port. The NLB's
security group keeps admitting a port while one of our listeners still listens on it
(`listened_ports`, read by `ec2_security_group`), and revokes it on the pass after.

Why the wait matters on AWS: a REST API's stage runs a deployment, "a snapshot of the API,
including methods, integrations" (https://docs.aws.amazon.com/apigateway/latest/developerguide/
set-up-deployments.html), and an integration update "requires redeploying the API"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/updating-api.html); CreateDeployment
is limited to one request every 5 s per account (API Gateway quotas). Until the stage runs the new
deployment, clients reach the NLB on the old port, so the old listener and its security group rule
must stay. An NLB may hold several listeners, one per port ("A listener with the specified port
already exists": DuplicateListener, https://docs.aws.amazon.com/elasticloadbalancing/latest/
APIReference/API_CreateListener.html), each forwarding to the same target group; an NLB's
security group must admit the listener port from the clients ("protocol, client IP address range,
listener port": https://docs.aws.amazon.com/elasticloadbalancing/latest/network/
load-balancer-security-groups.html).

An old listener also stays `drainSeconds` (the target group's deregistration delay) after the
stage moved: see `_drained`.

Props: `loadBalancerArn`, `component` (the component tag of the listeners to retire), `port`
(the one to keep), `drainSeconds` and `oldPorts` (always `[]`: observe reports the ports of our
other listeners there, so that a diff is what is left to delete). Nothing is created; delete
leaves the listeners to their load balancer. Neighbours: `elbv2_listener` (adds the new
listener), `ec2_security_group` (`listened_ports`), `controller.model.load_balancer`
(`add_old_listeners`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    error_code,
    props_as,
    tolerating,
)
from controller.handlers.elbv2_reads import (
    ListenerMemo,
    listener_memo,
    listeners_with_tags,
    load_balancers,
)
from controller.model import kinds
from controller.model.props import Known, OldListeners
from controller.model.stack import contains_unknown

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client

GONE = ("LoadBalancerNotFound", "ListenerNotFound")


def our_listeners(
    client: ElasticLoadBalancingv2Client,
    lb_arn: str,
    owner: str,
    memo: ListenerMemo | None = None,
) -> list[dict[str, Any]]:
    """The listeners of `lb_arn` carrying `owner`'s tag, each with its `Tags` as a dict (read
    as the listener handler reads them: `elbv2_reads.listeners_with_tags`, shared chunks)."""
    listeners, tags = listeners_with_tags(client, memo, lb_arn)
    return [
        {**li, "Tags": tags.get(li["ListenerArn"], {})}
        for li in listeners
        if ownership.is_owned(tags.get(li["ListenerArn"], {}), owner)
    ]


def listened_ports(
    client: ElasticLoadBalancingv2Client,
    lb_name: Any,
    owner: str,
    memo: ListenerMemo | None = None,
) -> set[int]:
    """Ports on which a listener of ours on the load balancer named `lb_name` listens (none when
    there is no such load balancer): a security group keeps admitting those while a listener
    port change is on its way (the old listener serves until the API is redeployed)."""
    if not isinstance(lb_name, str) or not lb_name:
        return set()
    arn = next(
        (
            lb["LoadBalancerArn"]
            for lb in load_balancers(client)
            if lb["LoadBalancerName"] == lb_name
        ),
        None,
    )
    if arn is None:
        return set()
    try:
        return {int(li["Port"]) for li in our_listeners(client, arn, owner, memo)}
    except ClientError as exc:
        if error_code(exc) in GONE:
            return set()
        raise


class OldListenersHandler(Handler):
    """`elbv2.old_listeners`: deletes our listeners on ports other than `port` once the stack's
    dependents of the new one (the API's stage) are in place."""

    kind = kinds.ELBV2_OLD_LISTENERS
    service = "elbv2"
    # observed even before the load balancer exists (a plan of a new spec): nothing to retire
    # then, so a plan shows no change here instead of creating a resource AWS never holds
    identity = ()
    virtual = True  # nothing of its own in AWS: a delete of the stack leaves it out
    clock: Callable[[], float] = staticmethod(time.monotonic)
    client: ElasticLoadBalancingv2Client

    def props_of(self, want: Desired) -> OldListeners[Known]:
        """The desired props as `OldListeners` (`controller.model.props`)."""
        return props_as(want, OldListeners[Known])

    @property
    def _memo(self) -> ListenerMemo | None:
        """The listener ARNs every spec of this context learned (`elbv2_reads`)."""
        return listener_memo(self.aws.memo(self.service))

    def _old(self, want: Desired) -> tuple[list[dict[str, Any]], bool] | None:
        """(our listeners of `component` on other ports, whether one is on `port`); None when
        the load balancer is gone."""
        p = self.props_of(want)
        if contains_unknown(p["loadBalancerArn"]):
            return [], True  # a load balancer still to be made has no old listener
        try:
            ours = our_listeners(self.client, p["loadBalancerArn"], want.owner, self._memo)
        except ClientError as exc:
            if error_code(exc) in GONE:
                return None
            raise
        mine = [li for li in ours if li["Tags"].get(ownership.COMPONENT) == p["component"]]
        old = [li for li in mine if li["Port"] != p["port"]]
        return old, len(old) < len(mine)

    def observe(self, want: Desired) -> Observed | None:
        """The ports of our other listeners as `oldPorts`; None when the load balancer is gone."""
        found = self._old(want)
        if found is None:
            return None
        old, _ = found
        return self._observed(want, sorted({int(li["Port"]) for li in old}))

    @staticmethod
    def _observed(want: Desired, old_ports: list[int]) -> Observed:
        p = props_as(want, OldListeners[Known])
        return Observed(
            key=want.key,
            id=f"{p['loadBalancerArn']}#{p['component']}",
            props={**p, "oldPorts": old_ports},
            tags=dict(want.tags),  # nothing of its own in AWS: ours by construction
            outputs={"oldPorts": old_ports},
        )

    def create(self, want: Desired) -> Observed:
        """Nothing to make; the load balancer is not there (yet)."""
        msg = f"{want.key}: load balancer {self.props_of(want)['loadBalancerArn']} not found"
        raise TemporaryError(msg, 2.0)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Delete our listeners on other ports, but only while one of ours is on `port` (never
        the last way in)."""
        del have, deltas
        found = self._old(want)
        if found is None:
            return self.create(want)
        old, current = found
        if old and not current:
            port = self.props_of(want)["port"]
            msg = f"{want.key}: no listener of ours on port {port} yet; the old ones stay"
            raise TemporaryError(msg, 2.0)
        self._drained(want, old)
        for li in old:
            self.log_call("deleting", want, id=li["ListenerArn"], port=li["Port"])
            with tolerating(*GONE):
                self.client.delete_listener(ListenerArn=li["ListenerArn"])
        memo = self._memo
        if old and memo is not None:  # read the load balancer's listeners in full next time
            memo.drop(self.props_of(want)["loadBalancerArn"])
        return self._observed(want, [])

    def _drained(self, want: Desired, old: list[dict[str, Any]]) -> None:
        """Wait `drainSeconds` from the first pass that could delete an old listener (what it
        waits for, the API's stage, in place): API Gateway's nodes may still send requests of
        the previous deployment for a moment (AWS documents no time for a stage switch), and
        deleting an NLB listener ends its open connections, like a target's deregistration
        without delay. The model gives it the target group's deregistration delay; a restart
        waits again (the times live in memory)."""
        now, drain = self.clock(), float(self.props_of(want).get("drainSeconds") or 0)
        seen = self.__dict__.setdefault("_seen_old", {})
        left = (
            max(drain - (now - seen.setdefault(li["ListenerArn"], now)) for li in old) if old else 0
        )
        if left > 0:
            ports = ", ".join(sorted({str(li["Port"]) for li in old}))
            msg = f"{want.key}: listener on port {ports} drains {left:.0f} s more before it goes"
            raise TemporaryError(msg, min(left, 5.0))

    def delete(self, have: Observed) -> None:
        """Nothing of its own: the listeners go with their load balancer."""
        del have
