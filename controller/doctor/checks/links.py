"""How the ELB and ECS facts of one chain refer to each other, for the `elb` and `ecs` checks.

Pure helpers over `Facts`: which services name a target group (their `loadBalancers`), a
service's task definition and network mode, the hop a target group sits on, whether something
could not be read, short names out of ARNs, and the bits every AWS CLI fix repeats (cluster,
region). Neighbours: `checks.elb`, `checks.ecs` (their only users), `controller.doctor.facts`.
"""

from __future__ import annotations

from typing import Any

from controller.doctor.facts import Facts, Shape

DEFAULT_STOP_TIMEOUT = 30
"""Seconds ECS waits after SIGTERM before SIGKILL when a container sets no `stopTimeout`: the
Fargate default, and the ECS agent's ECS_CONTAINER_STOP_TIMEOUT default on EC2 (ECS API
reference, ContainerDefinition.stopTimeout)."""


def unknown(facts: Facts, resource: str, operation: str = "") -> bool:
    """Whether doctor could not read `resource` (an `Unknown` names it), or only its
    `operation` when given (e.g. "DescribeTargetHealth": the call is "elbv2:Operation")."""
    return any(
        u.resource == resource and (not operation or u.call.endswith(f":{operation}"))
        for u in facts.unknown
    )


def short(arn: str) -> str:
    """A readable name out of an ARN: the target group's or load balancer's name, the service's
    name, the task definition's family:revision; anything else unchanged."""
    if ":targetgroup/" in arn or ":loadbalancer/" in arn:
        parts = arn.split(":", 5)[-1].split("/")
        return parts[-2] if len(parts) >= 3 else parts[-1]
    if ":task-definition/" in arn or ":service/" in arn or ":task/" in arn:
        return arn.rsplit("/", 1)[-1]
    return arn


def cluster_of(service: Shape) -> str:
    """The service's cluster name (from `clusterArn`)."""
    return str(service.get("clusterArn", "")).rsplit("/", 1)[-1]


def region_flag(facts: Facts) -> str:
    """` --region R` for a CLI fix when the region is known, else ""."""
    return f" --region {facts.region}" if facts.region else ""


def task_definition(facts: Facts, service: Shape) -> Shape | None:
    """The service's task definition as DescribeTaskDefinition gave it, or None."""
    return facts.task_definitions.get(str(service.get("taskDefinition", "")))


def network_mode(facts: Facts, service: Shape) -> str | None:
    """`awsvpc`, `bridge`, `host` or `none`; None when it cannot be told.

    From the task definition (an EC2 task definition without `networkMode` uses `bridge`: ECS
    task definition parameters, "Network mode"); without it, a service with an
    `awsvpcConfiguration` or on FARGATE runs awsvpc tasks (Fargate supports only awsvpc).
    """
    td = task_definition(facts, service)
    if td is not None:
        return str(td.get("networkMode") or "bridge")
    if service.get("networkConfiguration", {}).get("awsvpcConfiguration"):
        return "awsvpc"
    if service.get("launchType") == "FARGATE":
        return "awsvpc"
    return None


def services_of(facts: Facts, tg_arn: str) -> list[tuple[Shape, Shape]]:
    """(service, its `loadBalancers` entry) for every service that names the target group."""
    return [
        (service, lb)
        for service in facts.services.values()
        for lb in service.get("loadBalancers", [])
        if lb.get("targetGroupArn") == tg_arn
    ]


def tg_hop(facts: Facts, tg_arn: str) -> str:
    """`alb-target-group` for a target group behind an ALB, else `nlb-target-group`."""
    for ref in facts.hops:
        if ref.resource == tg_arn and ref.hop in ("nlb-target-group", "alb-target-group"):
            return ref.hop
    tg = facts.target_groups.get(tg_arn, {})
    for lb_arn in tg.get("LoadBalancerArns", []):
        if facts.load_balancers.get(lb_arn, {}).get("Type") == "application":
            return "alb-target-group"
    return "nlb-target-group"


def health_check_port(tg: Shape) -> int | None:
    """The port health checks go to: `HealthCheckPort`, or the target group's port for
    `traffic-port` (None for a target group of type lambda, which has no port)."""
    port = tg.get("HealthCheckPort") or "traffic-port"
    if port == "traffic-port":
        value = tg.get("Port")
        return int(value) if value is not None else None
    return int(port)


def stop_timeout(td: Shape) -> int:
    """The longest `stopTimeout` of the task's containers (ECS waits for each), 30 s unset."""
    timeouts = [
        int(c.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
        for c in td.get("containerDefinitions", [])
    ]
    return max(timeouts, default=DEFAULT_STOP_TIMEOUT)


def container(td: Shape, name: str) -> Shape | None:
    """The container definition called `name`, or None."""
    return next((c for c in td.get("containerDefinitions", []) if c.get("name") == name), None)


def listeners_forwarding_to(facts: Facts, tg_arn: str) -> list[str]:
    """ARNs of the listeners whose default action forwards to the target group."""
    return [
        listener["ListenerArn"]
        for listeners in facts.listeners.values()
        for listener in listeners
        if any(_forwards(action, tg_arn) for action in listener.get("DefaultActions", []))
    ]


def rules_forwarding_to(facts: Facts, tg_arn: str) -> list[str]:
    """ARNs of the (non-default) listener rules that forward to the target group."""
    return [
        rule["RuleArn"]
        for rules in facts.rules.values()
        for rule in rules
        if not rule.get("IsDefault") and any(_forwards(a, tg_arn) for a in rule.get("Actions", []))
    ]


def _forwards(action: dict[str, Any], tg_arn: str) -> bool:
    if action.get("TargetGroupArn") == tg_arn:
        return True
    groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
    return any(g.get("TargetGroupArn") == tg_arn for g in groups)


def security_groups_of(facts: Facts, service: Shape) -> list[str]:
    """The groups on the service's tasks: awsvpc `securityGroups`, else (bridge/host) the groups of
    the cluster's container instances' EC2 instances, as read."""
    awsvpc = service.get("networkConfiguration", {}).get("awsvpcConfiguration") or {}
    if awsvpc.get("securityGroups"):
        return [str(g) for g in awsvpc["securityGroups"]]
    groups: list[str] = []
    for ci in facts.container_instances.get(str(service.get("clusterArn", "")), []):
        instance = facts.instances.get(str(ci.get("ec2InstanceId", "")), {})
        for group in instance.get("SecurityGroups", []):
            if group.get("GroupId") and group["GroupId"] not in groups:
                groups.append(group["GroupId"])
    return groups
