"""Doctor checks, family `elb` (see `controller.doctor.checks`): target types, target health,
static IPs and the deregistration delay. Each check is a pure function of `Facts` that returns
the findings of one code, and nothing for what it cannot read (absent, or in `facts.unknown`).
Neighbours: `checks.links` (how services, target groups and load balancers refer to each other),
`checks.elb_health` (no-healthy-targets), `controller.doctor.facts`, `controller.doctor.model`.
"""

from __future__ import annotations

from controller.doctor.checks import Check
from controller.doctor.checks.elb_health import no_healthy_targets
from controller.doctor.checks.links import (
    cluster_of,
    listeners_forwarding_to,
    network_mode,
    region_flag,
    rules_forwarding_to,
    short,
    stop_timeout,
    task_definition,
    tg_hop,
    unknown,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, finding


def target_type_mismatch(facts: Facts) -> list[Finding]:
    """`target-type-mismatch`: awsvpc tasks behind an `instance` target group, or an NLB in front
    of an ALB that reaches it through no target group of type `alb`.

    AWS: "If your service's task definition uses the awsvpc network mode (which is required for
    the Fargate launch type), you must choose ip as the target type, not instance ... tasks that
    use the awsvpc network mode are associated with an elastic network interface, not an Amazon
    EC2 instance" (ECS Developer Guide, "Use a Network Load Balancer for Amazon ECS"). And "You
    can create a target group with a single Application Load Balancer as the target" of target
    type `alb` (ELB, "Use an Application Load Balancer as a target of a Network Load Balancer"):
    an ALB's addresses change, so an `ip` group holding them goes stale. Seed 001.
    """
    out: list[Finding] = []
    for service in facts.services.values():
        if network_mode(facts, service) != "awsvpc":
            continue
        for lb in service.get("loadBalancers", []):
            tg_arn = str(lb.get("targetGroupArn", ""))
            tg = facts.target_groups.get(tg_arn)
            if tg is None or unknown(facts, tg_arn) or tg.get("TargetType") != "instance":
                continue
            out.append(_awsvpc_behind_instance(facts, service, lb, tg))
    out.extend(_nlb_without_alb_group(facts))
    return out


def _awsvpc_behind_instance(facts: Facts, service: Shape, lb: Shape, tg: Shape) -> Finding:
    tg_arn = tg["TargetGroupArn"]
    name = str(tg.get("TargetGroupName") or short(tg_arn))
    create = (
        f"TG=$(aws elbv2 create-target-group --name {name[:29]}-ip --target-type ip"
        f" --protocol {tg.get('Protocol', 'TCP')} --port {tg.get('Port')}"
        f" --vpc-id {tg.get('VpcId')}"
        f" --health-check-protocol {tg.get('HealthCheckProtocol', 'TCP')}"
        f" --health-check-port {tg.get('HealthCheckPort', 'traffic-port')}"
        + (f" --health-check-path {tg['HealthCheckPath']}" if tg.get("HealthCheckPath") else "")
        + f" --query 'TargetGroups[0].TargetGroupArn' --output text{region_flag(facts)})"
    )
    update = (
        f"aws ecs update-service --cluster {cluster_of(service)} --service {service['serviceName']}"
        f" --load-balancers targetGroupArn=$TG,containerName={lb.get('containerName')},"
        f"containerPort={lb.get('containerPort')}{region_flag(facts)}"
    )
    return finding(
        "target-type-mismatch",
        tg_hop(facts, tg_arn),
        tg_arn,
        f"target group {name} is of type instance, but the tasks of service"
        f" {service['serviceName']} use the awsvpc network mode (Fargate)",
        why="An awsvpc task has its own network interface and address, not an EC2 instance: it"
        " cannot be registered in an instance target group, so the load balancer has no target"
        " to send the request to (001).",
        fix_spec="spec.service.launchType: FARGATE takes an ip target group (contract rule 1):"
        " `psctl apply` replaces the target group changed behind its back",
        fix_cli="\n".join([create, *_repoint(facts, tg_arn), update]),
    )


def _repoint(facts: Facts, tg_arn: str) -> list[str]:
    """Commands that move the listeners and rules forwarding to `tg_arn` onto `$TG`."""
    flag = region_flag(facts)
    return [
        f"aws elbv2 modify-listener --listener-arn {arn}"
        f" --default-actions Type=forward,TargetGroupArn=$TG{flag}"
        for arn in listeners_forwarding_to(facts, tg_arn)
    ] + [
        f"aws elbv2 modify-rule --rule-arn {arn} --actions Type=forward,TargetGroupArn=$TG{flag}"
        for arn in rules_forwarding_to(facts, tg_arn)
    ]


def _nlb_without_alb_group(facts: Facts) -> list[Finding]:
    albs = [arn for arn, lb in facts.load_balancers.items() if lb.get("Type") == "application"]
    if not albs:
        return []
    out: list[Finding] = []
    for nlb_arn, nlb in facts.load_balancers.items():
        if nlb.get("Type") != "network" or unknown(facts, nlb_arn):
            continue
        groups = [
            tg for tg in facts.target_groups.values() if nlb_arn in tg.get("LoadBalancerArns", [])
        ]
        if not groups or any(tg.get("TargetType") == "alb" for tg in groups):
            continue
        tg = groups[0]
        alb_arn = albs[0]
        port = _alb_listener_port(facts, alb_arn)
        flag = region_flag(facts)
        types = ", ".join(f"{short(g['TargetGroupArn'])} ({g.get('TargetType')})" for g in groups)
        out.append(
            finding(
                "target-type-mismatch",
                "nlb-target-group",
                tg["TargetGroupArn"],
                f"NLB {short(nlb_arn)} is in front of ALB {short(alb_arn)} but forwards to no"
                f" target group of type alb: {types}",
                why="Only an `alb` target group follows the ALB's addresses and health; an ip or"
                " instance group holds addresses the ALB may no longer have, so the NLB sends"
                " requests nowhere and API Gateway answers 5xx (001, 003).",
                fix_spec="spec.loadBalancer.alb: {listenerPort: N}: psctl puts the ALB behind an"
                " alb target group (contract rule 1); `psctl apply` restores it",
                fix_cli="\n".join(
                    [
                        f"TG=$(aws elbv2 create-target-group --name {short(alb_arn)[:28]}-alb"
                        f" --target-type alb --protocol TCP --port {port}"
                        f" --vpc-id {tg.get('VpcId')}"
                        f" --query 'TargetGroups[0].TargetGroupArn' --output text{flag})",
                        f"aws elbv2 register-targets --target-group-arn $TG"
                        f" --targets Id={alb_arn},Port={port}{flag}",
                        *_repoint(facts, tg["TargetGroupArn"]),
                    ]
                ),
            )
        )
    return out


def _alb_listener_port(facts: Facts, alb_arn: str) -> int:
    ports = sorted(int(li["Port"]) for li in facts.listeners.get(alb_arn, []) if li.get("Port"))
    return ports[0] if ports else 80


def static_ip_missing(facts: Facts) -> list[Finding]:
    """`static-ip-missing`: an internet-facing NLB with an Elastic IP in some subnets (so meant for
    allow-lists) and none of its own in another.

    AWS: "When you create an internet-facing load balancer, you can optionally specify one
    Elastic IP address per subnet. If you do not choose one of your own Elastic IP addresses,
    Elastic Load Balancing provides one Elastic IP address per subnet for you ... You can't
    change these Elastic IP addresses after you create the load balancer" (ELB, "Network Load
    Balancers"); DescribeLoadBalancers reports them as `LoadBalancerAddresses` with their
    `AllocationId` (API reference, AvailabilityZone). A zone enabled later by SetSubnets without
    an `AllocationId` is the usual way in: "You can enable or disable the Availability Zones for
    your Network Load Balancer at any time" (ELB, "Update the Availability Zones for your Network
    Load Balancer"), so the CLI fix disables the zones lacking one and enables them again with
    a new Elastic IP, the others keeping theirs. Seed 003.
    """
    out: list[Finding] = []
    for arn, lb in facts.load_balancers.items():
        if lb.get("Type") != "network" or lb.get("Scheme") != "internet-facing":
            continue
        if unknown(facts, arn):
            continue
        zones = lb.get("AvailabilityZones", [])
        allocation = {z.get("SubnetId"): _allocation(z) for z in zones}
        if not any(allocation.values()):
            continue
        missing = [z for z in zones if not allocation[z.get("SubnetId")]]
        if not missing:
            continue
        flag = region_flag(facts)
        held = ", ".join(f"{s} ({a})" for s, a in allocation.items() if a)
        lacking = ", ".join(f"{z.get('SubnetId')} ({z.get('ZoneName', '?')})" for z in missing)
        allocate = [
            f"EIP{i}=$(aws ec2 allocate-address --domain vpc"
            f" --query AllocationId --output text{flag})"
            for i, _ in enumerate(missing, 1)
        ]
        numbered = {z.get("SubnetId"): f"$EIP{i}" for i, z in enumerate(missing, 1)}
        kept = " ".join(f"SubnetId={s},AllocationId={a}" for s, a in allocation.items() if a)
        every = " ".join(
            f"SubnetId={s},AllocationId={allocation[s] or numbered[s]}" for s in allocation
        )
        set_subnets = f"aws elbv2 set-subnets --load-balancer-arn {arn} --subnet-mappings"
        out.append(
            finding(
                "static-ip-missing",
                "nlb",
                arn,
                f"internet-facing NLB {short(arn)} has Elastic IPs in {held} but none of its own"
                f" in {lacking}",
                why="Partners allow-list the NLB's Elastic IPs; in that subnet the NLB answers on"
                " an address ELB picked, which is on no one's list (and changes if the NLB is"
                " recreated), so the connections that DNS sends to that zone are refused by"
                " their firewalls (003).",
                fix_spec="spec.loadBalancer.staticIps: true (one Elastic IP per subnet of"
                " spec.network.publicSubnetIds): `psctl apply` puts the NLB back in those subnets,"
                " each with its Elastic IP",
                fix_cli="\n".join(
                    [
                        *allocate,
                        f"{set_subnets} {kept}{flag}",
                        f"{set_subnets} {every}{flag}",
                    ]
                ),
            )
        )
    return out


def _allocation(zone: Shape) -> str | None:
    for address in zone.get("LoadBalancerAddresses") or []:
        if address.get("AllocationId"):
            return str(address["AllocationId"])
    return None


def deregistration_delay_long(facts: Facts) -> list[Finding]:
    """`deregistration-delay-long`: a service's target group drains longer than its tasks take to
    stop (`stopTimeout`, 30 s unset) + 30 s.

    AWS: ECS "waits for the load balancer to report that the keep alive connection is closed (the
    target is in an UNUSED state). The amount of time that the load balancer waits ... is the
    deregistration delay ... deregistration_delay.timeout_seconds: 300 (default)" (ECS Developer
    Guide, "Optimize load balancer connection draining parameters"); `stopTimeout` defaults to 30 s
    on Fargate and to the agent's ECS_CONTAINER_STOP_TIMEOUT (30 s) on EC2 (task definition
    parameters). Contract rule 7; seed 001.
    """
    out: list[Finding] = []
    seen: set[str] = set()
    for service in facts.services.values():
        td = task_definition(facts, service)
        if td is None:
            continue
        stop = stop_timeout(td)
        for lb in service.get("loadBalancers", []):
            tg_arn = str(lb.get("targetGroupArn", ""))
            attributes = facts.tg_attributes.get(tg_arn)
            if (
                tg_arn in seen
                or attributes is None
                or unknown(facts, tg_arn, "DescribeTargetGroupAttributes")
            ):
                continue
            raw = attributes.get("deregistration_delay.timeout_seconds")
            if raw is None or int(raw) <= stop + 30:
                continue
            seen.add(tg_arn)
            delay = int(raw)
            suggested = max(30, stop)
            out.append(
                finding(
                    "deregistration-delay-long",
                    tg_hop(facts, tg_arn),
                    tg_arn,
                    f"target group {short(tg_arn)} drains deregistered targets for {delay} s"
                    f" (deregistration_delay.timeout_seconds), more than the stop timeout of"
                    f" service {service['serviceName']} ({stop} s) + 30 s",
                    why=f"ECS waits for the target to drain before it stops a task: every deploy"
                    f" and scale-in waits {delay} s per task for connections the task closes"
                    f" within {stop} s anyway (001).",
                    fix_spec=f"spec.loadBalancer.targetGroup.deregistrationDelaySeconds:"
                    f" {suggested} (at most spec.container.stopTimeoutSeconds + 30)",
                    fix_cli=f"aws elbv2 modify-target-group-attributes --target-group-arn {tg_arn}"
                    f" --attributes Key=deregistration_delay.timeout_seconds,Value={suggested}"
                    f"{region_flag(facts)}",
                )
            )
    return out


CHECKS: tuple[Check, ...] = (
    target_type_mismatch,
    no_healthy_targets,
    static_ip_missing,
    deregistration_delay_long,
)
