"""Doctor check `no-healthy-targets` (family `elb`, listed in `checks.elb.CHECKS`): a target group
of the chain with no healthy target, each target's state and AWS reason code, the counts of the
services behind it, and the fix that the reasons point to.
Neighbours: `checks.elb`, `checks.links`, `controller.doctor.facts`, `controller.doctor.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.doctor.checks.links import (
    cluster_of,
    health_check_port,
    region_flag,
    security_groups_of,
    services_of,
    short,
    tg_hop,
    unknown,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, finding

SERVING = frozenset({"healthy", "unavailable"})
"""States that take traffic: `unavailable` is a target whose health checks are disabled."""

CAUSES: dict[str, str] = {
    "Target.Timeout": "the health check got no answer in time: the targets' security group or a"
    " network ACL drops it, or nothing listens on the health-check port",
    "Target.FailedHealthChecks": "the health check could not connect or got a malformed answer:"
    " the targets' security group or a network ACL drops it (an NLB reports a blocked check"
    " this way), nothing listens on the health-check port, or the check's protocol is wrong",
    "Target.ResponseCodeMismatch": "the health-check path answers a code outside the matcher",
    "Target.NotRegistered": "the target is not registered",
    "Target.NotInUse": "no listener uses the target group, or the target's Availability Zone is"
    " not enabled on the load balancer",
    "Target.DeregistrationInProgress": "the target is draining",
    "Target.InvalidState": "the instance is stopped or terminated",
    "Target.IpUnusable": "the address is in use by a load balancer",
    "Elb.InternalError": "the health checks failed inside ELB",
}
"""What each reason code means (ELB API reference, TargetHealth `Reason`)."""


@dataclass(frozen=True)
class _Service:
    service: Shape
    desired: int
    running: int
    pending: int


def no_healthy_targets(facts: Facts) -> list[Finding]:
    """`no-healthy-targets`: no target of the group is healthy, and none is still `initial`.

    AWS: a target in state `initial` with `Elb.RegistrationInProgress` or
    `Elb.InitialHealthChecking` is not judged yet; `unhealthy` comes with `Target.Timeout`,
    `Target.FailedHealthChecks`, `Target.ResponseCodeMismatch` or `Elb.InternalError`; `unused`
    with `Target.NotRegistered`, `Target.NotInUse`, `Target.InvalidState`, `Target.IpUnusable`
    (ELB API reference, TargetHealth). "Each load balancer node routes requests only to the
    healthy targets ... If all targets fail health checks at the same time in all enabled
    Availability Zones, the load balancer fails open" (ELB, "Health checks for Network Load
    Balancer target groups"). The service's desired/running counts tell a group emptied by
    tasks that never start from one whose tasks fail their checks.
    """
    out: list[Finding] = []
    for tg_arn, tg in facts.target_groups.items():
        descriptions = facts.target_health.get(tg_arn)
        if descriptions is None or unknown(facts, tg_arn, "DescribeTargetHealth"):
            continue
        states = [d.get("TargetHealth", {}).get("State", "") for d in descriptions]
        if any(s in SERVING or s == "initial" for s in states):
            continue
        services = [
            _Service(
                s,
                int(s.get("desiredCount", 0)),
                int(s.get("runningCount", 0)),
                int(s.get("pendingCount", 0)),
            )
            for s, _ in services_of(facts, tg_arn)
        ]
        out.append(_finding(facts, tg, descriptions, services))
    return out


def _finding(
    facts: Facts, tg: Shape, descriptions: list[Shape], services: list[_Service]
) -> Finding:
    tg_arn = tg["TargetGroupArn"]
    reasons = [d.get("TargetHealth", {}).get("Reason", "") for d in descriptions]
    targets = "; ".join(_describe(d) for d in descriptions) or "no registered target"
    counts = "; ".join(
        f"service {s.service.get('serviceName')}: desired {s.desired}, running {s.running},"
        f" pending {s.pending}"
        for s in services
    )
    causes = sorted({CAUSES[r] for r in reasons if r in CAUSES})
    if not descriptions:
        causes = [_empty_cause(services)]
    why = (
        "The load balancer sends requests only to healthy targets; when all fail it fails open to"
        " targets that do not answer, and with none registered it has nowhere to send them: the"
        " API answers 5xx. " + "; ".join(c[0].upper() + c[1:] for c in causes) + "."
    )
    fix_spec, fix_cli = _fixes(facts, tg, descriptions, reasons, services)
    return finding(
        "no-healthy-targets",
        tg_hop(facts, tg_arn),
        tg_arn,
        f"target group {short(tg_arn)} has no healthy target: {targets}"
        + (f" ({counts})" if counts else ""),
        why=why,
        fix_spec=fix_spec,
        fix_cli=fix_cli,
    )


def _describe(description: Shape) -> str:
    target = description.get("Target", {})
    health = description.get("TargetHealth", {})
    where = f"{target.get('Id')}:{target.get('Port')}" if target.get("Port") else target.get("Id")
    reason = health.get("Reason")
    return f"{where} {health.get('State', '?')}" + (f" ({reason})" if reason else "")


def _empty_cause(services: list[_Service]) -> str:
    if not services:
        return "no ECS service registers targets in this group"
    if all(s.desired == 0 for s in services):
        return "the service is scaled to zero tasks"
    if any(s.running < s.desired for s in services):
        return "the service's tasks do not start or keep stopping (see tasks-failing)"
    return "the service's running tasks are not registered in this group"


def _fixes(
    facts: Facts,
    tg: Shape,
    descriptions: list[Shape],
    reasons: list[str],
    services: list[_Service],
) -> tuple[str, str]:
    """(fix_spec, fix_cli) for the most telling reason."""
    tg_arn = tg["TargetGroupArn"]
    flag = region_flag(facts)
    if not descriptions:
        return _empty_fixes(facts, tg_arn, services)
    if "Target.ResponseCodeMismatch" in reasons:
        return (
            "spec.loadBalancer.targetGroup.healthCheck.path and .matcher: a path the container"
            " answers with a code the matcher accepts",
            f"aws elbv2 modify-target-group --target-group-arn {tg_arn}"
            f" --health-check-path {tg.get('HealthCheckPath') or '/'}"
            f" --matcher HttpCode=200-399{flag}",
        )
    if "Target.NotInUse" in reasons or "Target.NotRegistered" in reasons:
        return _not_in_use(facts, tg, services)
    port = _checked_port(tg, descriptions)
    groups = [g for s in services for g in security_groups_of(facts, s.service)]
    blocked = {"Target.Timeout", "Target.FailedHealthChecks"} & set(reasons)
    if blocked and groups and port is not None:
        return (
            "spec.container.port and spec.loadBalancer.targetGroup.healthCheck: psctl's task"
            " group admits the health-check port from the load balancer (contract rule 2);"
            " `psctl apply` restores a rule removed behind its back",
            _admit(facts, tg, groups[0], port),
        )
    return (
        "spec.container.port and spec.loadBalancer.targetGroup.healthCheck (port, protocol,"
        " path): the health check must reach a port the container listens on",
        f"aws elbv2 modify-target-group --target-group-arn {tg_arn}"
        f" --health-check-port traffic-port{flag}",
    )


def _checked_port(tg: Shape, descriptions: list[Shape]) -> int | None:
    """The port the health checks went to: a fixed `HealthCheckPort`, else (traffic-port) the
    port the first target is registered on (ECS on EC2 registers its host port there)."""
    if str(tg.get("HealthCheckPort") or "traffic-port") == "traffic-port":
        ports = [d.get("Target", {}).get("Port") for d in descriptions]
        registered = next((int(p) for p in ports if p), None)
        if registered is not None:
            return registered
    return health_check_port(tg)


def _empty_fixes(facts: Facts, tg_arn: str, services: list[_Service]) -> tuple[str, str]:
    """(fix_spec, fix_cli) for a target group with no registered target."""
    flag = region_flag(facts)
    if services and all(s.desired == 0 for s in services):
        s = services[0].service
        return (
            "spec.service.desiredCount: 1 or more",
            f"aws ecs update-service --cluster {cluster_of(s)} --service {s['serviceName']}"
            f" --desired-count 1{flag}",
        )
    if services:
        s = services[0].service
        return (
            "spec.container (image, command, port): the tasks must start and stay up; see the"
            " tasks-failing finding for their stop reason",
            f"aws ecs describe-tasks --cluster {cluster_of(s)} --tasks $(aws ecs list-tasks"
            f" --cluster {cluster_of(s)} --service-name {s['serviceName']} --desired-status"
            f" STOPPED --query taskArns --output text{flag}) --query"
            f" 'tasks[].[stoppedReason,containers[].reason]'{flag}",
        )
    return (
        "spec.service: psctl registers the service's tasks in its target group",
        f"aws ecs update-service --cluster CLUSTER --service SERVICE --load-balancers"
        f" targetGroupArn={tg_arn},containerName=NAME,containerPort=PORT{flag}",
    )


def _not_in_use(facts: Facts, tg: Shape, services: list[_Service]) -> tuple[str, str]:
    """No listener forwards to the group, or the targets' zones are not enabled on its load
    balancer: a listener to create, or the tasks' subnets to add to the load balancer."""
    flag = region_flag(facts)
    lbs = tg.get("LoadBalancerArns") or []
    if not lbs:
        return (
            "spec.loadBalancer.listener: psctl's listener forwards to its target group",
            f"aws elbv2 create-listener --load-balancer-arn <the NLB's ARN> --protocol"
            f" {tg.get('Protocol', 'TCP')} --port {tg.get('Port')} --default-actions"
            f" Type=forward,TargetGroupArn={tg['TargetGroupArn']}{flag}",
        )
    lb = facts.load_balancers.get(lbs[0], {})
    subnets = [str(z.get("SubnetId")) for z in lb.get("AvailabilityZones", [])]
    for s in services:
        awsvpc = s.service.get("networkConfiguration", {}).get("awsvpcConfiguration") or {}
        subnets.extend(x for x in awsvpc.get("subnets", []) if x not in subnets)
    return (
        "spec.network.subnetIds: the load balancer is enabled in every subnet the tasks run in",
        f"aws elbv2 set-subnets --load-balancer-arn {lbs[0]} --subnets {' '.join(subnets)}{flag}",
    )


def _admit(facts: Facts, tg: Shape, group: str, port: int) -> str:
    """Admit the health-check port on `group` from the load balancer: from its security group,
    or from the VPC's CIDR when it has none (an NLB without groups checks from its nodes)."""
    flag = region_flag(facts)
    sources: list[str] = []
    for lb_arn in tg.get("LoadBalancerArns", []):
        sources.extend(facts.load_balancers.get(lb_arn, {}).get("SecurityGroups") or [])
    base = (
        f"aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port {port}"
    )
    if sources:
        return f"{base} --source-group {sources[0]}{flag}"
    cidrs = facts.vpc_cidrs(str(tg.get("VpcId", "")))
    return f"{base} --cidr {cidrs[0] if cidrs else '<the VPC CIDR>'}{flag}"
