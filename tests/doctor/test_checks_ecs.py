"""Unit tests of the `ecs` doctor checks on hand-written boto3 shapes (`elb_ecs_shapes`): failing
tasks (stopped tasks' reasons, service events), dynamic host ports, and the one-line facts of the
`service` and `tasks` hops; each check stays silent on a healthy chain and on what it could not
read or is absent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from elb_ecs_shapes import (
    NLB,
    SERVICE,
    TASK_DEF,
    TG,
    event,
    healthy_chain,
    stopped_task,
    target_group,
    task_definition,
)

from controller.doctor.checks import ecs, run_checks
from controller.doctor.checks.ecs import dynamic_host_port, hop_summaries, tasks_failing
from controller.doctor.checks.ecs_stops import classify_task
from controller.doctor.facts import Facts
from controller.doctor.model import HopRef, Unknown

Change = Callable[[Facts], None]

PULL = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve"
    " ref 123456789012.dkr.ecr.eu-west-2.amazonaws.com/orders:1.4.2: dial tcp 52.94.48.1:443:"
    " i/o timeout"
)
INIT = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource"
    " retrieval failed: unable to retrieve secret from asm: service call has been retried 5"
    " time(s): RequestCanceled"
)
UNHEALTHY = (
    "(service orders) (task 3f2a) (port 8080) is unhealthy in (target-group"
    " arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/orders-tg/6d0e) due to"
    " (reason Request timed out)."
)
STEADY = "(service orders) has reached a steady state."


def test_healthy_chain_has_no_ecs_finding() -> None:
    """The healthy chain gives no finding from any ecs check (no false alarm)."""
    assert run_checks(healthy_chain(), ecs.CHECKS) == []


# --- tasks-failing ---------------------------------------------------------------------------


def _stopped(*tasks: dict[str, object]) -> Change:
    def change(facts: Facts) -> None:
        facts.stopped_tasks[SERVICE] = list(tasks)
        facts.services[SERVICE]["runningCount"] = 0

    return change


def _events(*events: dict[str, object]) -> Change:
    def change(facts: Facts) -> None:
        facts.services[SERVICE]["events"] = list(events)

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _stopped(
                stopped_task("a1", "Task failed to start", container_reason=PULL),
                stopped_task("b2", "Task failed to start", container_reason=PULL),
            ),
            [PULL, "2 tasks, e.g. a1", "desired 2, running 0"],
            id="cannot-pull-image",
        ),
        pytest.param(
            _stopped(stopped_task("c3", INIT)), [INIT, "1 task, e.g. c3"], id="resource-init"
        ),
        pytest.param(
            _stopped(
                stopped_task(
                    "d4",
                    "Essential container in task exited",
                    stop_code="EssentialContainerExited",
                    exit_code=137,
                )
            ),
            ["Essential container in task exited (app exit code 137)"],
            id="essential-container-exited",
        ),
        pytest.param(
            _stopped(
                stopped_task(
                    "e5",
                    "Task failed ELB health checks in (target-group arn:...:targetgroup/orders-tg)",
                    stop_code="ServiceSchedulerInitiated",
                )
            ),
            ["Task failed ELB health checks"],
            id="failed-elb-health-checks",
        ),
        pytest.param(_events(event(UNHEALTHY, 7), event(STEADY, 1)), [UNHEALTHY], id="event"),
        # Tasks a deployment or a scale-in stopped on purpose are not failures.
        pytest.param(
            _stopped(
                stopped_task(
                    "f6",
                    "Scaling activity initiated by (deployment ecs-svc/1)",
                    stop_code="ServiceSchedulerInitiated",
                ),
                stopped_task("g7", "Task stopped by user", stop_code="UserInitiated"),
            ),
            None,
            id="stopped-on-purpose",
        ),
        # Failures before the primary deployment (e.g. one rolled back since) are history.
        pytest.param(
            _stopped(stopped_task("h8", PULL, minutes_after_deploy=-30)),
            None,
            id="before-primary-deployment",
        ),
        # Events older than the last steady state are history too.
        pytest.param(_events(event(STEADY, 9), event(UNHEALTHY, 7)), None, id="healed-since"),
        pytest.param(
            lambda f: (
                _stopped(stopped_task("a1", PULL))(f),
                f.unknown.append(
                    Unknown("tasks", SERVICE, "ecs:DescribeTasks", "ecs:DescribeTasks")
                ),
            ),
            None,
            id="service-unknown",
        ),
        pytest.param(lambda f: f.stopped_tasks.clear(), None, id="stopped-tasks-absent"),
    ],
)
def test_tasks_failing(change: Change, expected: list[str] | None) -> None:
    """Stopped tasks that failed (pull, initialisation, exit, health checks) since the primary
    deployment, or unhealthy events since the last steady state, make one error on the `tasks`
    hop (its task definition) quoting AWS's reason; tasks stopped on purpose and old history
    give nothing."""
    facts = healthy_chain()
    change(facts)
    found = tasks_failing(facts)
    if expected is None:
        assert found == []
        return
    (only,) = found
    assert (only.code, only.severity, only.hop, only.resource) == (
        "tasks-failing",
        "error",
        "tasks",
        TASK_DEF,
    )
    for text in expected:
        assert text in only.message


def test_tasks_failing_puts_the_image_pull_first_and_fixes_it() -> None:
    """With an image pull failure among health-check events, the pull explains the finding (it
    comes first: a task that cannot pull never gets checked) and the fix checks the ECR image
    and redeploys."""
    facts = healthy_chain()
    _events(event(UNHEALTHY, 8))(facts)
    _stopped(stopped_task("a1", "Task failed to start", container_reason=PULL))(facts)
    (found,) = tasks_failing(facts)
    assert found.message.index(PULL) < found.message.index(UNHEALTHY)
    assert found.why.startswith("The task cannot fetch its image")
    assert found.fix_cli.splitlines() == [
        "aws ecr describe-images --repository-name orders --image-ids imageTag=1.4.2"
        " --region eu-west-2",
        "aws ecs update-service --cluster shop --service orders --force-new-deployment"
        " --region eu-west-2",
    ]
    assert "no-route-to-ecr" in found.fix_spec


def test_tasks_failing_exit_fix_tails_the_logs() -> None:
    """A container that exits is fixed from its logs: the fix tails the awslogs group."""
    facts = healthy_chain()
    _stopped(
        stopped_task(
            "d4", "Essential container in task exited", "EssentialContainerExited", None, 1
        )
    )(facts)
    (found,) = tasks_failing(facts)
    assert found.fix_cli.splitlines()[0] == (
        "aws logs tail /privateservice/shop/orders --since 1h --region eu-west-2"
    )


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        pytest.param(
            stopped_task("a", "Task failed to start", container_reason=PULL),
            "pull",
            id="pull-in-container-reason",
        ),
        pytest.param(
            stopped_task("a", "CannotStartContainerError: Error response from daemon"),
            "start",
            id="cannot-start",
        ),
        pytest.param(
            stopped_task(
                "a",
                "Essential container in task exited",
                "EssentialContainerExited",
                "OutOfMemoryError: Container killed due to memory usage",
            ),
            "exit",
            id="oom",
        ),
        pytest.param(
            stopped_task(
                "a",
                "Timeout waiting for network interface provisioning to complete.",
                stop_code="TaskFailedToStart",
            ),
            "start",
            id="failed-to-start",
        ),
        pytest.param(
            stopped_task(
                "a",
                "ECS is performing maintenance on the underlying infrastructure hosting the task",
                stop_code="ServiceSchedulerInitiated",
            ),
            None,
            id="maintenance",
        ),
    ],
)
def test_classify_task(task: dict[str, object], kind: str | None) -> None:
    """A stopped task is sorted by its container reasons, stoppedReason and stopCode; a task
    ECS stopped for maintenance is no failure."""
    classified = classify_task(task)
    assert (classified[0] if classified else None) == kind


# --- dynamic-host-port -----------------------------------------------------------------------


def _ec2(
    mapping: dict[str, int] | None, mode: str | None = "bridge", tg_type: str = "instance"
) -> Change:
    def change(facts: Facts) -> None:
        facts.target_groups[TG] = target_group(target_type=tg_type, port=10000)
        facts.task_definitions[TASK_DEF] = task_definition(
            mode=mode, port_mapping=mapping, image="billing:2.0.1"
        )
        service = facts.services[SERVICE]
        service["launchType"] = "EC2"
        del service["networkConfiguration"]

    return change


@pytest.mark.parametrize(
    ("change", "found_it"),
    [
        pytest.param(_ec2({"containerPort": 8080, "hostPort": 0}), True, id="host-port-0"),
        pytest.param(_ec2({"containerPort": 8080}), True, id="host-port-omitted"),
        # A task definition without networkMode on EC2 is bridge.
        pytest.param(
            _ec2({"containerPort": 8080, "hostPort": 0}, mode=None), True, id="default-bridge"
        ),
        pytest.param(_ec2({"containerPort": 8080, "hostPort": 10000}), False, id="fixed-host-port"),
        pytest.param(
            _ec2({"containerPort": 8080}, mode="awsvpc", tg_type="ip"), False, id="awsvpc"
        ),
        pytest.param(_ec2({"containerPort": 9090, "hostPort": 0}), False, id="other-port-mapped"),
        pytest.param(
            lambda f: (_ec2({"containerPort": 8080, "hostPort": 0})(f), f.task_definitions.clear()),
            False,
            id="task-definition-absent",
        ),
        pytest.param(
            lambda f: (
                _ec2({"containerPort": 8080, "hostPort": 0})(f),
                f.unknown.append(
                    Unknown("nlb-target-group", TG, "elbv2:DescribeTargetGroups", "x")
                ),
            ),
            False,
            id="target-group-unknown",
        ),
    ],
)
def test_dynamic_host_port(change: Change, found_it: bool) -> None:
    """ECS on EC2 in bridge mode whose container port maps to host port 0 (or none) behind an
    instance group on a fixed port is an error on the tasks hop naming the task definition."""
    facts = healthy_chain()
    change(facts)
    found = dynamic_host_port(facts)
    if not found_it:
        assert found == []
        return
    (only,) = found
    assert (only.code, only.severity, only.hop, only.resource) == (
        "dynamic-host-port",
        "error",
        "tasks",
        TASK_DEF,
    )
    assert "fixed port 10000" in only.message


def test_dynamic_host_port_fix_registers_a_revision_with_the_fixed_port() -> None:
    """The fixes set the host port to the target group's port: spec.container.hostPort, or a
    new task definition revision deployed to the service."""
    facts = healthy_chain()
    _ec2({"containerPort": 8080, "hostPort": 0})(facts)
    facts.target_groups[TG]["HealthCheckPort"] = "10000"
    (found,) = dynamic_host_port(facts)
    assert found.fix_spec.startswith("spec.container.hostPort: 10000")
    lines = found.fix_cli.splitlines()
    assert lines[0].startswith(f"aws ecs describe-task-definition --task-definition {TASK_DEF}")
    assert "| select(.containerPort==8080) | .hostPort) = 10000" in lines[0]
    assert lines[1] == (
        "aws ecs register-task-definition --cli-input-json file://taskdef.json --region eu-west-2"
    )
    assert lines[2] == (
        "aws ecs update-service --cluster shop --service orders --task-definition shop-orders"
        " --region eu-west-2"
    )
    assert "fixed port 10000, where nothing listens" in found.why


# --- hop facts -------------------------------------------------------------------------------


def test_hop_summaries_give_the_service_and_tasks_lines() -> None:
    """The `service` hop shows counts, task definition and rollout; the `tasks` hop the network
    mode, subnets, groups, public IP and recent stops."""
    facts = healthy_chain()
    _stopped(stopped_task("a1", PULL))(facts)
    lines = hop_summaries(facts)
    assert lines[HopRef("service", SERVICE)] == (
        "ACTIVE FARGATE, desired 2 running 0 pending 0, task definition shop-orders:3,"
        " rollout COMPLETED"
    )
    assert lines[HopRef("tasks", TASK_DEF)] == (
        "awsvpc, subnets subnet-0a, subnet-0b, groups sg-0task, public IP DISABLED,"
        " 1 stopped recently"
    )
    assert HopRef("nlb", NLB) not in lines


def test_hop_summaries_skip_a_service_not_read() -> None:
    """A service hop whose service was not read gets no line (the hop is unknown, not ok)."""
    facts = healthy_chain()
    facts.services.clear()
    assert hop_summaries(facts) == {}
