"""ELBv2 DescribeTargetHealth: a target whose security groups do not admit the health check is
unhealthy, as on AWS (field report 000's first trap).

Restores (moto reports every registered target `healthy`):
- Health checks come from the load balancer's nodes, one per load balancer subnet, on the health
  check port ("traffic-port": the port the target is registered on). Targets' groups "must allow
  traffic from the load balancer using the health check port and health check protocol"
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-troubleshooting.html);
  a load balancer with security groups is admitted by a rule referencing one of them ("Referencing
  the security group associated with your Network Load Balancer in the security groups associated
  with your targets ensures that your targets accept traffic from your Network Load Balancer",
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html),
  and any load balancer by CIDR rules covering its nodes' subnets (for an NLB without groups,
  the only way: "the security groups for your targets must use IP addresses to allow traffic
  from the load balancer", the recommended source being the VPC CIDR, NLB guide, "Target
  security groups"). The load balancer's own groups must let the check out: "You must ensure
  that your load balancer can communicate with registered targets on both the listener port and
  the health check port" (ALB guide, "Security groups for your Application Load Balancer").
- The reason is the load balancer type's: an ALB reports `Target.Timeout` ("Request timed out",
  ALB guide, "Health check reason codes"); an NLB's only unhealthy reason is
  `Target.FailedHealthChecks` ("Health checks failed", NLB guide, "Target health status").
The target's groups: an `ip` target's network interface (found by its private address), an
`instance` target's instance, an `alb` target's load balancer. A target the sandbox cannot place
(an address no interface holds, a Lambda) keeps moto's answer, and so does a target group no load
balancer uses (AWS: `unused`, `Target.NotInUse`; not restored). Network ACLs are not modelled.
Neighbours: `patching`, `controller.sandbox.reachability` (the rule model), `ecs_agent`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from moto.elbv2 import models as elbv2_models

from controller.sandbox import reachability
from controller.sandbox.fidelity.patching import wrap

REASONS = {
    "application": ("Target.Timeout", "Request timed out"),
    "network": ("Target.FailedHealthChecks", "Health checks failed"),
}


def apply() -> None:
    """Install the health check verdict."""
    wrap(elbv2_models.FakeTargetGroup, "health_for")(_health_for)


def _health_for(original: Any, self: Any, target: dict[str, Any], ec2: Any) -> Any:
    status = original(self, target, ec2)
    if status.status != "healthy":
        return status
    elbv2 = elbv2_models.elbv2_backends[ec2.account_id][ec2.region_name]
    registered = self.targets.get(target["Id"]) or target
    port = _health_check_port(self, registered)
    placed = _target(ec2, elbv2, self.target_type, str(registered["Id"]))
    if placed is None or port is None:
        return status
    groups, networks = placed
    for arn in dict.fromkeys(self.load_balancer_arns):
        balancer = elbv2.load_balancers.get(arn)
        if balancer is None or _checks_pass(ec2, balancer, groups, networks, port):
            continue
        reason, description = REASONS.get(balancer.type, REASONS["application"])
        return elbv2_models.FakeHealthStatus(
            status.instance_id,
            status.port,
            status.health_check_port,
            "unhealthy",
            reason,
            description,
        )
    return status


def _health_check_port(group: Any, target: dict[str, Any]) -> int | None:
    configured = str(group.health_check_port or "traffic-port")
    try:
        return (
            int(target.get("Port") or group.port)
            if configured == "traffic-port"
            else int(configured)
        )
    except (TypeError, ValueError):
        return None


def _target(
    ec2: Any, elbv2: Any, target_type: str, target_id: str
) -> tuple[list[str], list[reachability.Network]] | None:
    """The target's security groups and its addresses (as /32 networks, or the subnets of an
    ALB's nodes); None when the sandbox cannot tell."""
    if target_type == "alb":
        alb = elbv2.load_balancers.get(target_id)
        if alb is None or not alb.security_groups:
            return None
        return list(alb.security_groups), _node_networks(ec2, alb)
    groups: list[Any] | None = None
    if target_type == "ip":
        groups = next((e.group_set for e in list(ec2.enis.values()) if _holds(e, target_id)), None)
    elif target_type == "instance":
        instance = ec2.get_instance_by_id(target_id)
        if instance is not None and instance.private_ip:
            groups, target_id = instance.security_groups, instance.private_ip
    if groups is None:
        return None
    return [g.id for g in groups], [ipaddress.IPv4Network(f"{target_id}/32")]


def _holds(eni: Any, address: str) -> bool:
    """Whether a network interface holds `address` (primary or secondary)."""
    if eni.private_ip_address == address:
        return True
    return any(a.get("PrivateIpAddress") == address for a in eni.private_ip_addresses or [])


def _checks_pass(
    ec2: Any, balancer: Any, groups: list[str], networks: list[reachability.Network], port: int
) -> bool:
    """Whether `balancer`'s nodes can reach the target's `port` (both groups' say)."""
    lb_groups = list(balancer.security_groups or [])
    nodes = _node_networks(ec2, balancer)
    if not reachability.admits(ec2, groups, port, from_groups=lb_groups, from_networks=nodes):
        return False
    if not lb_groups:
        return True  # no group, no egress rules: "all traffic can leave the Network Load Balancer"
    return reachability.admits(
        ec2, lb_groups, port, from_groups=groups, from_networks=networks, egress=True
    )


def _node_networks(ec2: Any, balancer: Any) -> list[reachability.Network]:
    """Where a load balancer's nodes live: the CIDR of each of its subnets."""
    found = []
    for subnet in balancer.subnets:
        subnet_id = subnet if isinstance(subnet, str) else subnet.id
        network = reachability.subnet_network(ec2, subnet_id)
        if network is not None:
            found.append(network)
    return found
