"""ELBv2 fields moto drops: NLB PrivateLink security-group enforcement, NLB health-check Matcher.

Restores (ELBv2 API reference):
- SetSecurityGroups "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: Indicates whether to
  evaluate inbound security group rules for traffic sent to a Network Load Balancer through AWS
  PrivateLink. The default is on." and LoadBalancer.EnforceSecurityGroupInboundRulesOnPrivate-
  LinkTraffic in DescribeLoadBalancers/CreateLoadBalancer for an NLB with security groups;
  moto accepts the parameter, stores nothing and returns nothing.
- Matcher "The HTTP or gRPC codes to use when checking for a successful response from a target.
  For target groups with a protocol of TCP, TCP_UDP, UDP or TLS the range is 200-599 ... The
  default value is 200-399" (when the health check is HTTP/HTTPS); moto's ModifyTargetGroup ignores
  Matcher unless the target group's own protocol is HTTP/HTTPS, and its default is 200.
Neighbours: `patching`, `elbv2_arns`, `elbv2_idempotency`.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.elbv2 import models as elbv2_models
from moto.elbv2 import responses as elbv2_responses

from controller.sandbox.fidelity.patching import add, wrap

_HTTP = ("HTTP", "HTTPS")
NLB_DEFAULT_HTTP_CODES = "200-399"


def apply() -> None:
    """Install the enforcement field and the NLB matcher handling."""
    add(
        elbv2_models.FakeLoadBalancer,
        "enforce_security_group_inbound_rules_on_private_link_traffic",
        property(_enforce),
    )
    wrap(elbv2_responses.ELBV2Response, "set_security_groups")(_set_security_groups)
    wrap(elbv2_models.ELBv2Backend, "create_target_group")(_create_target_group)
    wrap(elbv2_models.ELBv2Backend, "modify_target_group")(_modify_target_group)


def _enforce(self: Any) -> str | None:
    if self.type != "network" or not self.security_groups:
        return None
    return str(getattr(self, "psctl_enforce_private_link", "on"))


def _set_security_groups(original: Any, self: Any) -> ActionResult:
    original(self)
    balancer = self.elbv2_backend.load_balancers[self._get_param("LoadBalancerArn")]
    value = self._get_param("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
    if value is not None and balancer.type == "network":
        balancer.psctl_enforce_private_link = value
    return ActionResult(
        {
            "SecurityGroupIds": list(balancer.security_groups),
            "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic": _enforce(balancer),
        }
    )


def _create_target_group(original: Any, self: Any, name: str, **kwargs: Any) -> Any:
    target_group = original(self, name, **kwargs)
    if _nlb_with_http_check(target_group) and not kwargs.get("matcher"):
        target_group.matcher = {"HttpCode": NLB_DEFAULT_HTTP_CODES}
    return target_group


def _modify_target_group(
    original: Any,
    self: Any,
    arn: str,
    health_check_proto: str | None = None,
    health_check_port: str | None = None,
    health_check_path: str | None = None,
    health_check_interval: int | None = None,
    health_check_timeout: int | None = None,
    healthy_threshold_count: str | None = None,
    unhealthy_threshold_count: str | None = None,
    http_codes: str | None = None,
    health_check_enabled: bool | None = None,
) -> Any:
    target_group = original(
        self,
        arn,
        health_check_proto,
        health_check_port,
        health_check_path,
        health_check_interval,
        health_check_timeout,
        healthy_threshold_count,
        unhealthy_threshold_count,
        http_codes,
        health_check_enabled=health_check_enabled,
    )
    if _nlb_with_http_check(target_group):
        current = getattr(target_group, "matcher", None) or {}
        if http_codes is not None:
            target_group.matcher = {**current, "HttpCode": http_codes}
        elif not current:
            target_group.matcher = {"HttpCode": NLB_DEFAULT_HTTP_CODES}
    return target_group


def _nlb_with_http_check(target_group: Any) -> bool:
    """A TCP/TLS/UDP target group (an NLB's) whose health check speaks HTTP(S)."""
    return bool(target_group.protocol not in _HTTP and target_group.health_check_protocol in _HTTP)
