"""ELBv2 create calls that are idempotent, and DescribeLoadBalancers that reports missing names.

Restores (ELBv2 API reference):
- CreateLoadBalancer, CreateTargetGroup, CreateListener: "This operation is idempotent, which
  means that it completes at most one time. If you attempt to create multiple ... with the same
  settings, each call succeeds." The same name (port, for a listener) with different settings is
  DuplicateLoadBalancerName / DuplicateTargetGroupName / DuplicateListener. moto creates duplicate
  load balancers and listeners, and rejects an identical target group.
- DescribeLoadBalancers(Names=[...]): "LoadBalancerNotFound: The specified load balancer does not
  exist." when any name is unknown; moto returns the known ones only.
Neighbours: `patching`, `elbv2_arns`, `elbv2_fields` (whose CreateTargetGroup defaults the
settings comparison goes through, so `apply_all` installs it first).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from moto.elbv2 import models as elbv2_models
from moto.elbv2.exceptions import (
    DuplicateListenerError,
    DuplicateLoadBalancerName,
    DuplicateTargetGroupName,
    LoadBalancerNotFoundError,
)

from controller.sandbox.fidelity.patching import wrap

_TARGET_GROUP_SETTINGS = (
    "protocol",
    "protocol_version",
    "port",
    "vpc_id",
    "target_type",
    "ip_address_type",
    "health_check_protocol",
    "health_check_port",
    "health_check_path",
    "health_check_interval_seconds",
    "health_check_timeout_seconds",
    "health_check_enabled",
    "healthy_threshold_count",
    "unhealthy_threshold_count",
    "matcher",
)


def apply() -> None:
    """Install the idempotent creates and the strict name lookup."""
    backend = elbv2_models.ELBv2Backend
    wrap(backend, "describe_load_balancers")(_describe_load_balancers)
    wrap(backend, "create_load_balancer")(_create_load_balancer)
    wrap(backend, "create_target_group")(_create_target_group)
    wrap(backend, "create_listener")(_create_listener)


def _describe_load_balancers(
    original: Any, self: Any, arns: list[str] | None, names: list[str] | None
) -> list[Any]:
    found: list[Any] = original(self, arns, names)
    known = {balancer.name for balancer in self.load_balancers.values()}
    if any(name not in known for name in names or []):
        raise LoadBalancerNotFoundError()
    return found


def _create_load_balancer(
    original: Any,
    self: Any,
    name: str,
    security_groups: list[str] | None,
    subnet_ids: list[str] | None,
    subnet_mappings: list[dict[str, str]] | None = None,
    scheme: str | None = "internet-facing",
    loadbalancer_type: str | None = None,
    ip_address_type: str | None = "ipv4",
    tags: list[dict[str, str]] | None = None,
) -> Any:
    existing = next((lb for lb in self.load_balancers.values() if lb.name == name), None)
    if existing is None:
        return original(
            self,
            name,
            security_groups,
            subnet_ids,
            subnet_mappings=subnet_mappings,
            scheme=scheme,
            loadbalancer_type=loadbalancer_type,
            ip_address_type=ip_address_type,
            tags=tags,
        )
    subnets = set(subnet_ids or []) | {m["SubnetId"] for m in subnet_mappings or []}
    same = (
        (existing.type or "application") == (loadbalancer_type or "application")
        and (existing.scheme or "internet-facing") == (scheme or "internet-facing")
        and {subnet.id for subnet in existing.subnets} == subnets
        and set(existing.security_groups or []) == set(security_groups or [])
        and (existing.ip_address_type or "ipv4") == (ip_address_type or "ipv4")
    )
    if not same:
        raise DuplicateLoadBalancerName()
    return existing


class _DryRunBackend:
    """Just enough of an ELBv2 backend for moto's CreateTargetGroup to compute settings."""

    def __init__(self, real: Any) -> None:
        self.target_groups: dict[str, Any] = OrderedDict()
        self.account_id = real.account_id
        self.region_name = real.region_name
        self.ec2_backend = real.ec2_backend

    def add_tags(self, resource_arns: list[str], tags: list[dict[str, str]]) -> None:
        """Tags do not decide whether two target groups are the same."""


def _create_target_group(original: Any, self: Any, name: str, **kwargs: Any) -> Any:
    existing = next((tg for tg in self.target_groups.values() if tg.name == name), None)
    if existing is None:
        return original(self, name, **kwargs)
    requested = original(_DryRunBackend(self), name, **kwargs)
    if _settings(requested) != _settings(existing):
        raise DuplicateTargetGroupName()
    return existing


def _settings(target_group: Any) -> tuple[str, ...]:
    return tuple(str(getattr(target_group, field, None)) for field in _TARGET_GROUP_SETTINGS)


def _create_listener(
    original: Any,
    self: Any,
    load_balancer_arn: str,
    protocol: str,
    port: str,
    ssl_policy: str,
    certificate: str | None,
    actions: list[dict[str, Any]],
    alpn_policy: list[str] | None = None,
    tags: list[dict[str, str]] | None = None,
) -> Any:
    balancer = self.load_balancers.get(load_balancer_arn)
    for listener in balancer.listeners.values() if balancer else ():
        if str(listener.port) != str(port):
            continue
        same = (
            listener.protocol == (protocol or "").upper()
            and listener.certificate == certificate
            and listener.ssl_policy == ssl_policy
            and list(listener.alpn_policy or []) == list(alpn_policy or [])
            and _actions([a.data for a in listener.default_actions]) == _actions(actions)
        )
        if not same:
            raise DuplicateListenerError()
        return listener
    return original(
        self,
        load_balancer_arn,
        protocol,
        port,
        ssl_policy,
        certificate,
        actions,
        alpn_policy=alpn_policy,
        tags=tags,
    )


def _actions(actions: list[dict[str, Any]]) -> list[str]:
    return sorted(
        repr(sorted((k, repr(v)) for k, v in action.items() if k != "Order")) for action in actions
    )
