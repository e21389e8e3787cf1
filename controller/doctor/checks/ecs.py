"""Doctor checks, family `ecs` (see `controller.doctor.checks`): failing tasks and host ports, plus
the one-line facts the picture shows on the `service` and `tasks` hops. Each check is a pure
function of `Facts` that returns the findings of one code, and nothing for what it cannot read.
Neighbours: `checks.ecs_stops` (what a stopped task or a service event says), `checks.links`,
`controller.doctor.facts`, `controller.doctor.model`.
"""

from __future__ import annotations

from controller.doctor.checks import Check
from controller.doctor.checks.ecs_stops import Failure, recent_failures
from controller.doctor.checks.links import (
    cluster_of,
    container,
    network_mode,
    region_flag,
    short,
    task_definition,
    unknown,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, HopRef, finding


def tasks_failing(facts: Facts) -> list[Finding]:
    """`tasks-failing`: the service's recent stopped tasks or its events since its last steady
    state say why tasks do not run (one finding per service, its reasons grouped).

    AWS: a stopped task's `stopCode`, `stoppedReason` and `containers[].reason` (e.g.
    "CannotPullContainerError", "ResourceInitializationError", "Essential container in task
    exited", "Task failed ELB health checks") are the documented place to look ("Viewing Amazon
    ECS stopped task errors"; "Amazon ECS stopped task error messages"; tasks stay visible for at
    least an hour); service events such as "(service S) is unhealthy in (target-group T) due to
    (reason ...)" and "is unable to consistently start tasks successfully" ("Amazon ECS service
    event messages"). For image pulls: "your Amazon VPC networking configurations must allow ECS
    to access the repository where the image is stored" (Knowledge Center,
    ecs-fargate-pull-container-error). Only tasks stopped since the primary deployment count,
    so a rollout that was rolled back and healed is not reported. Seed 001.
    """
    out: list[Finding] = []
    for arn, service in facts.services.items():
        if unknown(facts, arn):
            continue
        failures = recent_failures(service, facts.stopped_tasks.get(arn, []))
        if failures:
            out.append(_failing(facts, arn, service, failures))
    return out


def _failing(facts: Facts, arn: str, service: Shape, failures: list[Failure]) -> Finding:
    first = failures[0]
    name = service.get("serviceName", short(arn))
    listed = "; ".join(
        f"{f.text}" + (f" ({_tasks(f.count)}, e.g. {f.example})" if f.example else " (event)")
        for f in failures[:4]
    )
    flag = region_flag(facts)
    redeploy = (
        f"aws ecs update-service --cluster {cluster_of(service)} --service {name}"
        f" --force-new-deployment{flag}"
    )
    fix_spec, first_step = _fix_for(facts, service, first.kind)
    return finding(
        "tasks-failing",
        "tasks",
        str(service.get("taskDefinition") or arn),
        f"service {name} (desired {service.get('desiredCount', '?')}, running"
        f" {service.get('runningCount', '?')}): {listed}",
        why=first.why,
        fix_spec=fix_spec,
        fix_cli="\n".join([*first_step, redeploy]),
    )


def _tasks(count: int) -> str:
    return f"{count} task" if count == 1 else f"{count} tasks"


def _fix_for(facts: Facts, service: Shape, kind: str) -> tuple[str, list[str]]:
    """(fix_spec, the CLI commands to run before redeploying) for a kind of failure."""
    flag = region_flag(facts)
    td = task_definition(facts, service) or {}
    containers = td.get("containerDefinitions", [])
    if kind == "pull":
        image = str(containers[0].get("image", "")) if containers else ""
        steps = []
        if ".dkr.ecr." in image and "/" in image:
            repo, _, tag = image.split("/", 1)[1].partition(":")
            steps.append(
                f"aws ecr describe-images --repository-name {repo}"
                f" --image-ids imageTag={tag or 'latest'}{flag}"
            )
        return (
            "spec.container.image (an image and tag that exist), and a route to the registry from"
            " spec.network subnets: a NAT gateway, or the ecr.api, ecr.dkr and s3 endpoints (see"
            " no-route-to-ecr)",
            steps,
        )
    if kind == "init":
        return (
            "spec.container.secrets (ARNs that exist and spec.service.executionRoleArn may read)"
            " and a route from spec.network subnets to Secrets Manager/SSM and CloudWatch Logs",
            [],
        )
    if kind == "health":
        return (
            "spec.loadBalancer.targetGroup.healthCheck and spec.service."
            "healthCheckGracePeriodSeconds: the task must pass the load balancer's check in time"
            " (see no-healthy-targets)",
            [],
        )
    if kind == "placement":
        return (
            "spec.service (launchType, cpu, memory, hostPort): a container instance must have room"
            " and the host port free",
            [
                f"aws ecs list-container-instances --cluster {cluster_of(service)}"
                f" --status ACTIVE{flag}"
            ],
        )
    group = next(
        (
            c.get("logConfiguration", {}).get("options", {}).get("awslogs-group")
            for c in containers
            if c.get("logConfiguration", {}).get("options", {}).get("awslogs-group")
        ),
        None,
    )
    return (
        "spec.container (image, command, environment, memory): the container must keep running"
        " and answer on spec.container.port",
        [f"aws logs tail {group} --since 1h{flag}"] if group else [],
    )


def dynamic_host_port(facts: Facts) -> list[Finding]:
    """`dynamic-host-port`: ECS on EC2 in bridge mode, behind an instance target group on a fixed
    port, while the task definition maps the container port to host port 0 (or none).

    AWS: in bridge mode "you can omit the hostPort (or set it to 0) while specifying a
    containerPort and your container automatically receives a port in the ephemeral port range"
    (ECS API reference, PortMapping.hostPort); the task "is registered ... as an instance ID and
    port combination" (ECS, "Use a Network Load Balancer for Amazon ECS"), so the fixed port the
    container instances' groups admit (seed 004) is not the port the NLB reaches. Seed 004.
    """
    out: list[Finding] = []
    for service in facts.services.values():
        td = task_definition(facts, service)
        if td is None or network_mode(facts, service) != "bridge":
            continue
        for lb in service.get("loadBalancers", []):
            tg_arn = str(lb.get("targetGroupArn", ""))
            tg = facts.target_groups.get(tg_arn)
            if tg is None or tg.get("TargetType") != "instance" or unknown(facts, tg_arn):
                continue
            spec = container(td, str(lb.get("containerName", "")))
            mapping = next(
                (
                    m
                    for m in (spec or {}).get("portMappings", [])
                    if m.get("containerPort") == lb.get("containerPort")
                ),
                None,
            )
            if spec is None or mapping is None or mapping.get("hostPort"):
                continue
            out.append(_dynamic(facts, service, td, lb, tg))
    return out


def _dynamic(facts: Facts, service: Shape, td: Shape, lb: Shape, tg: Shape) -> Finding:
    flag = region_flag(facts)
    port = tg.get("Port")
    name = lb.get("containerName")
    td_arn = str(td.get("taskDefinitionArn") or service.get("taskDefinition"))
    edit = (
        f'(.containerDefinitions[] | select(.name=="{name}") | .portMappings[]'
        f" | select(.containerPort=={lb.get('containerPort')}) | .hostPort) = {port}"
        " | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,"
        " .registeredAt, .registeredBy, .deregisteredAt)"
    )
    check = tg.get("HealthCheckPort") or "traffic-port"
    checked = (
        f"; its health checks go to the fixed port {check}, where nothing listens"
        if check != "traffic-port"
        else ""
    )
    return finding(
        "dynamic-host-port",
        "tasks",
        td_arn,
        f"task definition {short(td_arn)} maps container {name} port {lb.get('containerPort')}"
        f" to host port 0 (dynamic) in bridge mode, behind target group"
        f" {short(tg['TargetGroupArn'])} on the fixed port {port}",
        why="ECS registers each task on the ephemeral host port Docker picked (32768 and up), not"
        f" on {port}: the container instances' groups admit only the fixed port from the NLB, so"
        f" health checks and requests through the VPC Link time out{checked} (004).",
        fix_spec=f"spec.container.hostPort: {port} (ECS on EC2 behind an NLB takes a fixed host"
        " port)",
        fix_cli="\n".join(
            [
                f"aws ecs describe-task-definition --task-definition {td_arn}"
                f" --query taskDefinition{flag} | jq '{edit}' > taskdef.json",
                f"aws ecs register-task-definition --cli-input-json file://taskdef.json{flag}",
                f"aws ecs update-service --cluster {cluster_of(service)} --service"
                f" {service.get('serviceName')} --task-definition {td.get('family')}{flag}",
            ]
        ),
    )


def hop_summaries(facts: Facts) -> dict[HopRef, str]:
    """One line of facts for each `service` and `tasks` hop of the chain, for the picture.

    `service`: status, launch type, desired/running/pending, task definition, rollout state.
    `tasks`: network mode, subnets, groups, public IP, and how many tasks stopped recently.
    A hop whose service was not read gets no line.
    """
    out: dict[HopRef, str] = {}
    for ref in facts.hops:
        if ref.hop not in ("service", "tasks"):
            continue
        service = _service_for(facts, ref.resource)
        if service is None:
            continue
        out[ref] = _service_line(service) if ref.hop == "service" else _tasks_line(facts, service)
    return out


def _service_for(facts: Facts, resource: str) -> Shape | None:
    if resource in facts.services:
        return facts.services[resource]
    matches = [
        s
        for s in facts.services.values()
        if resource in (s.get("taskDefinition"), s.get("serviceName"))
    ]
    if not matches and len(facts.services) == 1:
        return next(iter(facts.services.values()))
    return matches[0] if matches else None


def _service_line(service: Shape) -> str:
    launch = service.get("launchType") or ",".join(
        p.get("capacityProvider", "?") for p in service.get("capacityProviderStrategy", [])
    )
    primary: Shape = next(
        (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
    )
    rollout = primary.get("rolloutState")
    return (
        f"{service.get('status', '?')} {launch or '?'}, desired {service.get('desiredCount', '?')}"
        f" running {service.get('runningCount', '?')} pending {service.get('pendingCount', '?')},"
        f" task definition {short(str(service.get('taskDefinition', '?')))}"
        + (f", rollout {rollout}" if rollout else "")
    )


def _tasks_line(facts: Facts, service: Shape) -> str:
    mode = network_mode(facts, service) or "?"
    awsvpc = service.get("networkConfiguration", {}).get("awsvpcConfiguration") or {}
    parts = [mode]
    if awsvpc:
        parts.append(f"subnets {', '.join(awsvpc.get('subnets', []))}")
        parts.append(f"groups {', '.join(awsvpc.get('securityGroups', []))}")
        parts.append(f"public IP {awsvpc.get('assignPublicIp', 'DISABLED')}")
    stopped = facts.stopped_tasks.get(str(service.get("serviceArn", "")))
    if stopped is not None:
        parts.append(f"{len(stopped)} stopped recently")
    return ", ".join(parts)


CHECKS: tuple[Check, ...] = (tasks_failing, dynamic_host_port)
