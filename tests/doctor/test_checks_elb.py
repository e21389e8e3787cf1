"""Unit tests of the `elb` doctor checks on hand-written boto3 shapes (`elb_ecs_shapes`): each
check finds its trap, stays silent on a healthy chain, and says nothing about what could not be
read (`facts.unknown`) or is absent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from elb_ecs_shapes import (
    ALB,
    ALB_TG,
    LISTENER,
    NLB,
    SERVICE,
    SUBNETS,
    TASK_DEF,
    TASK_SG,
    TG,
    alb,
    fargate_service,
    healthy_chain,
    nlb,
    target,
    target_group,
    task_definition,
)

from controller.doctor.checks import all_checks, elb, run_checks
from controller.doctor.checks.elb import (
    deregistration_delay_long,
    static_ip_missing,
    target_type_mismatch,
)
from controller.doctor.checks.elb_health import no_healthy_targets
from controller.doctor.facts import Facts
from controller.doctor.model import CODES, Unknown

Change = Callable[[Facts], None]


def _unknown(resource: str, call: str) -> Change:
    def change(facts: Facts) -> None:
        facts.unknown.append(
            Unknown("nlb-target-group", resource, f"elbv2:{call}", f"elasticloadbalancing:{call}")
        )

    return change


def test_healthy_chain_has_no_elb_finding() -> None:
    """The healthy chain gives no finding from any elb check (no false alarm)."""
    assert run_checks(healthy_chain(), elb.CHECKS) == []


def test_every_elb_check_is_registered_and_its_code_is_the_contracts() -> None:
    """Each elb check runs in `all_checks` and builds only codes of the contract's table."""
    facts = healthy_chain()
    facts.target_groups[TG]["TargetType"] = "instance"
    facts.target_health[TG] = []
    facts.tg_attributes[TG]["deregistration_delay.timeout_seconds"] = "300"
    codes = {f.code for f in run_checks(facts, all_checks())}
    assert {"target-type-mismatch", "no-healthy-targets", "deregistration-delay-long"} <= codes
    assert codes <= set(CODES)


# --- target-type-mismatch --------------------------------------------------------------------


def _instance_tg(facts: Facts) -> None:
    facts.target_groups[TG]["TargetType"] = "instance"


def _instance_tg_no_task_def(facts: Facts) -> None:
    _instance_tg(facts)
    facts.task_definitions.clear()


def _bridge_service(facts: Facts) -> None:
    _instance_tg(facts)
    facts.task_definitions[TASK_DEF] = task_definition(mode="bridge")
    facts.services[SERVICE]["launchType"] = "EC2"
    del facts.services[SERVICE]["networkConfiguration"]


def _tg_absent(facts: Facts) -> None:
    _instance_tg(facts)
    facts.target_groups.clear()


def _alb_tier(tg_type: str) -> Change:
    def change(facts: Facts) -> None:
        facts.load_balancers[ALB] = alb()
        facts.target_groups[TG]["TargetType"] = tg_type
        facts.target_groups[ALB_TG] = target_group(ALB_TG, lbs=(ALB,), protocol="HTTP")
        facts.services[SERVICE]["loadBalancers"][0]["targetGroupArn"] = ALB_TG

    return change


@pytest.mark.parametrize(
    ("change", "resource", "hop"),
    [
        pytest.param(_instance_tg, TG, "nlb-target-group", id="fargate-behind-instance-group"),
        # Without the task definition, the service's awsvpcConfiguration still says awsvpc.
        pytest.param(_instance_tg_no_task_def, TG, "nlb-target-group", id="awsvpc-from-service"),
        # ECS on EC2 in bridge mode belongs behind an instance group: no finding.
        pytest.param(_bridge_service, None, None, id="bridge-behind-instance-is-right"),
        pytest.param(_tg_absent, None, None, id="target-group-absent"),
        pytest.param(
            lambda f: (_instance_tg(f), _unknown(TG, "DescribeTargetGroups")(f)),
            None,
            None,
            id="target-group-unknown",
        ),
        pytest.param(_alb_tier("ip"), TG, "nlb-target-group", id="nlb-to-alb-through-ip-group"),
        pytest.param(_alb_tier("alb"), None, None, id="nlb-to-alb-through-alb-group"),
    ],
)
def test_target_type_mismatch(change: Change, resource: str | None, hop: str | None) -> None:
    """Fargate (awsvpc) behind an instance group, or an NLB reaching an ALB through a group of
    another type than `alb`, is named on the target group; the right types and unread groups
    give nothing."""
    facts = healthy_chain()
    change(facts)
    found = target_type_mismatch(facts)
    if resource is None:
        assert found == []
        return
    assert [(f.code, f.severity, f.hop, f.resource) for f in found] == [
        ("target-type-mismatch", "error", hop, resource)
    ]


def test_target_type_mismatch_fix_replaces_the_group_and_repoints_listener_and_service() -> None:
    """The CLI fix creates an ip group like the old one, moves the NLB's listener to it and points
    the service at it; the spec fix names the launch type's rule."""
    facts = healthy_chain()
    _instance_tg(facts)
    (found,) = target_type_mismatch(facts)
    lines = found.fix_cli.splitlines()
    assert lines[0].startswith("TG=$(aws elbv2 create-target-group --name orders-tg-ip")
    assert "--target-type ip --protocol TCP --port 8080 --vpc-id vpc-0a1" in lines[0]
    assert lines[1] == (
        f"aws elbv2 modify-listener --listener-arn {LISTENER}"
        " --default-actions Type=forward,TargetGroupArn=$TG --region eu-west-2"
    )
    assert lines[2] == (
        "aws ecs update-service --cluster shop --service orders --load-balancers"
        " targetGroupArn=$TG,containerName=app,containerPort=8080 --region eu-west-2"
    )
    assert found.fix_spec.startswith("spec.service.launchType: FARGATE")


def test_nlb_to_alb_fix_registers_the_alb_in_an_alb_group() -> None:
    """The fix for an NLB reaching an ALB through an ip group registers the ALB itself in a new
    `alb` group on the ALB's listener port."""
    facts = healthy_chain()
    _alb_tier("ip")(facts)
    facts.listeners[ALB] = [{"ListenerArn": "alb-listener", "Port": 8081, "DefaultActions": []}]
    (found,) = target_type_mismatch(facts)
    assert "--target-type alb --protocol TCP --port 8081" in found.fix_cli
    assert f"register-targets --target-group-arn $TG --targets Id={ALB},Port=8081" in found.fix_cli
    assert "ip" in found.message
    assert "orders-alb" in found.message


# --- no-healthy-targets ----------------------------------------------------------------------


def _health(*targets: dict[str, object]) -> Change:
    def change(facts: Facts) -> None:
        facts.target_health[TG] = list(targets)

    return change


def _empty(desired: int, running: int) -> Change:
    def change(facts: Facts) -> None:
        facts.target_health[TG] = []
        facts.services[SERVICE].update(desiredCount=desired, runningCount=running)

    return change


TIMEOUT = target("10.0.1.10", 8080, "unhealthy", "Target.Timeout")
FAILED = target("10.0.2.11", 8080, "unhealthy", "Target.FailedHealthChecks")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _health(TIMEOUT, FAILED),
            ["Target.Timeout", "Target.FailedHealthChecks", "desired 2, running 2"],
            id="all-unhealthy",
        ),
        pytest.param(
            _empty(2, 0),
            ["no registered target", "desired 2, running 0", "tasks-failing"],
            id="empty-tasks-not-starting",
        ),
        pytest.param(_empty(0, 0), ["scaled to zero"], id="empty-scaled-to-zero"),
        pytest.param(
            _health(target("10.0.1.10", 8080, "draining", "Target.DeregistrationInProgress")),
            ["draining"],
            id="all-draining",
        ),
        # One healthy target serves: no finding.
        pytest.param(
            _health(TIMEOUT, target("10.0.2.11", 8080, "healthy")), None, id="one-healthy"
        ),
        # Health checks disabled: the target takes traffic (state unavailable).
        pytest.param(
            _health(target("10.0.1.10", 8080, "unavailable", "Target.HealthCheckDisabled")),
            None,
            id="checks-disabled",
        ),
        # Registration in progress is not a failure yet.
        pytest.param(
            _health(TIMEOUT, target("10.0.2.11", 8080, "initial", "Elb.RegistrationInProgress")),
            None,
            id="registration-in-progress",
        ),
        pytest.param(
            _health(target("10.0.2.11", 8080, "initial", "Elb.InitialHealthChecking")),
            None,
            id="initial-health-checking",
        ),
        pytest.param(lambda f: f.target_health.clear(), None, id="health-absent"),
        pytest.param(
            lambda f: (_health(TIMEOUT)(f), _unknown(TG, "DescribeTargetHealth")(f)),
            None,
            id="health-unknown",
        ),
    ],
)
def test_no_healthy_targets(change: Change, expected: list[str] | None) -> None:
    """A target group with no healthy (or health-check-disabled) target and none still being
    registered is an error listing each target's state and reason and the service's counts."""
    facts = healthy_chain()
    change(facts)
    found = no_healthy_targets(facts)
    if expected is None:
        assert found == []
        return
    (only,) = found
    assert (only.code, only.severity, only.hop, only.resource) == (
        "no-healthy-targets",
        "error",
        "nlb-target-group",
        TG,
    )
    for text in expected:
        assert text in only.message + only.why


@pytest.mark.parametrize(
    ("change", "fix_cli"),
    [
        # An NLB without groups: the health check comes from its nodes in the VPC.
        pytest.param(
            _health(TIMEOUT),
            f"aws ec2 authorize-security-group-ingress --group-id"
            f" {TASK_SG} --protocol tcp --port 8080 --cidr 10.0.0.0/16 --region eu-west-2",
            id="timeout-nlb-without-groups",
        ),
        pytest.param(
            lambda f: (
                _health(TIMEOUT)(f),
                f.load_balancers[NLB].update(SecurityGroups=["sg-0nlb"]),
            ),
            "aws ec2 authorize-security-group-ingress"
            f" --group-id {TASK_SG} --protocol tcp --port 8080 --source-group sg-0nlb"
            " --region eu-west-2",
            id="timeout-nlb-with-group",
        ),
        # An NLB reports a blocked health check as Target.FailedHealthChecks; the target is
        # registered on 8081 here, so that is the port to admit.
        pytest.param(
            _health(target("10.0.2.11", 8081, "unhealthy", "Target.FailedHealthChecks")),
            f"aws ec2 authorize-security-group-ingress --group-id {TASK_SG} --protocol tcp"
            " --port 8081 --cidr 10.0.0.0/16 --region eu-west-2",
            id="failed-checks-registered-port",
        ),
        pytest.param(
            _health(target("10.0.1.10", 8080, "unhealthy", "Target.ResponseCodeMismatch")),
            f"aws elbv2 modify-target-group --target-group-arn {TG} --health-check-path"
            " /healthz --matcher HttpCode=200-399 --region eu-west-2",
            id="response-code",
        ),
        pytest.param(
            _empty(0, 0),
            "aws ecs update-service --cluster shop --service orders"
            " --desired-count 1 --region eu-west-2",
            id="scaled-to-zero",
        ),
        pytest.param(
            _health(target("10.0.3.12", 8080, "unused", "Target.NotInUse")),
            f"aws elbv2 set-subnets --load-balancer-arn {NLB} --subnets"
            f" {' '.join(SUBNETS)} --region eu-west-2",
            id="zone-not-enabled",
        ),
    ],
)
def test_no_healthy_targets_fix_follows_the_reason(change: Change, fix_cli: str) -> None:
    """The CLI fix is the one the reason codes point to, with the ids filled in."""
    facts = healthy_chain()
    change(facts)
    (found,) = no_healthy_targets(facts)
    assert found.fix_cli == fix_cli


def test_no_healthy_targets_on_an_alb_group_is_on_the_alb_target_group_hop() -> None:
    """A target group behind an ALB is reported on the `alb-target-group` hop."""
    facts = healthy_chain()
    _alb_tier("alb")(facts)
    facts.target_health[ALB_TG] = [TIMEOUT]
    (found,) = no_healthy_targets(facts)
    assert (found.hop, found.resource) == ("alb-target-group", ALB_TG)
    assert "--source-group sg-0alb" in found.fix_cli


# --- static-ip-missing -----------------------------------------------------------------------


def _public_nlb(allocations: list[str | None], scheme: str = "internet-facing") -> Change:
    def change(facts: Facts) -> None:
        facts.load_balancers[NLB] = nlb(scheme=scheme, allocations=allocations)

    return change


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        pytest.param(
            _public_nlb(["eipalloc-1", "eipalloc-2", None]),
            ["subnet-0c"],
            id="one-subnet-without-eip",
        ),
        pytest.param(
            _public_nlb(["eipalloc-1", None, None]),
            ["subnet-0b", "subnet-0c"],
            id="two-subnets-without-eip",
        ),
        pytest.param(
            _public_nlb(["eipalloc-1", "eipalloc-2", "eipalloc-3"]), None, id="every-subnet-has-one"
        ),
        # No Elastic IP of its own anywhere: not meant for allow-lists.
        pytest.param(_public_nlb([None, None, None]), None, id="no-eip-at-all"),
        pytest.param(
            _public_nlb(["eipalloc-1", None, None], scheme="internal"), None, id="internal-nlb"
        ),
        pytest.param(
            lambda f: (
                _public_nlb(["eipalloc-1", None, None])(f),
                f.unknown.append(Unknown("nlb", NLB, "DescribeLoadBalancers", "x")),
            ),
            None,
            id="nlb-unknown",
        ),
        pytest.param(lambda f: f.load_balancers.clear(), None, id="nlb-absent"),
    ],
)
def test_static_ip_missing(change: Change, missing: list[str] | None) -> None:
    """An internet-facing NLB with Elastic IPs in some subnets and none in others names the
    subnets without one; all, none, or an internal NLB give nothing."""
    facts = healthy_chain()
    change(facts)
    found = static_ip_missing(facts)
    if missing is None:
        assert found == []
        return
    (only,) = found
    assert (only.code, only.hop, only.resource) == ("static-ip-missing", "nlb", NLB)
    for subnet in missing:
        assert subnet in only.message.split("none of its own in", 1)[1]


def test_static_ip_fix_keeps_the_held_allocations_and_allocates_the_missing_ones() -> None:
    """The CLI fix allocates one address per subnet lacking one, disables those zones (an
    enabled zone's address cannot change) and enables them again with it, the other subnets
    keeping their allocations."""
    facts = healthy_chain()
    _public_nlb(["eipalloc-1", None, "eipalloc-3"])(facts)
    (found,) = static_ip_missing(facts)
    lines = found.fix_cli.splitlines()
    assert lines[0].startswith("EIP1=$(aws ec2 allocate-address --domain vpc")
    assert lines[1:] == [
        f"aws elbv2 set-subnets --load-balancer-arn {NLB} --subnet-mappings"
        " SubnetId=subnet-0a,AllocationId=eipalloc-1 SubnetId=subnet-0c,AllocationId=eipalloc-3"
        " --region eu-west-2",
        f"aws elbv2 set-subnets --load-balancer-arn {NLB} --subnet-mappings"
        " SubnetId=subnet-0a,AllocationId=eipalloc-1 SubnetId=subnet-0b,AllocationId=$EIP1"
        " SubnetId=subnet-0c,AllocationId=eipalloc-3 --region eu-west-2",
    ]
    assert found.fix_spec.startswith("spec.loadBalancer.staticIps: true")


# --- deregistration-delay-long ---------------------------------------------------------------


def _delay(seconds: int, stop_timeout: int | None = None) -> Change:
    def change(facts: Facts) -> None:
        facts.tg_attributes[TG]["deregistration_delay.timeout_seconds"] = str(seconds)
        if stop_timeout is not None:
            facts.task_definitions[TASK_DEF] = task_definition(stopTimeout=stop_timeout)

    return change


@pytest.mark.parametrize(
    ("change", "suggested"),
    [
        pytest.param(_delay(300), 30, id="aws-default-300"),
        pytest.param(_delay(61), 30, id="one-past-the-default-limit"),
        pytest.param(_delay(60), None, id="default-stop-timeout-plus-30"),
        pytest.param(_delay(150, stop_timeout=120), None, id="long-stop-timeout"),
        pytest.param(_delay(151, stop_timeout=120), 120, id="past-long-stop-timeout"),
        pytest.param(
            lambda f: (_delay(300)(f), f.task_definitions.clear()),
            None,
            id="task-definition-absent",
        ),
        pytest.param(
            lambda f: (_delay(300)(f), f.tg_attributes.clear()), None, id="attributes-absent"
        ),
        pytest.param(
            lambda f: (_delay(300)(f), _unknown(TG, "DescribeTargetGroupAttributes")(f)),
            None,
            id="attributes-unknown",
        ),
    ],
)
def test_deregistration_delay_long(change: Change, suggested: int | None) -> None:
    """A delay above the task's stop timeout (30 s unset) + 30 s is a warning whose fixes set
    the delay back to max(30, stop timeout); what cannot be read gives nothing."""
    facts = healthy_chain()
    change(facts)
    found = deregistration_delay_long(facts)
    if suggested is None:
        assert found == []
        return
    (only,) = found
    assert (only.code, only.severity, only.resource) == ("deregistration-delay-long", "warning", TG)
    assert only.fix_cli == (
        f"aws elbv2 modify-target-group-attributes --target-group-arn {TG} --attributes"
        f" Key=deregistration_delay.timeout_seconds,Value={suggested} --region eu-west-2"
    )
    assert only.fix_spec.startswith(
        f"spec.loadBalancer.targetGroup.deregistrationDelaySeconds: {suggested}"
    )


def test_owned_and_unowned_chains_get_both_fixes() -> None:
    """Every finding carries a spec fix and a CLI fix (the report picks by ownership)."""
    facts = healthy_chain()
    facts.services[SERVICE] = fargate_service(desired=0, running=0)
    facts.target_health[TG] = []
    facts.tg_attributes[TG]["deregistration_delay.timeout_seconds"] = "300"
    facts.target_groups[TG]["TargetType"] = "instance"
    for found in run_checks(facts, elb.CHECKS):
        assert found.fix_spec.startswith("spec.")
        assert found.fix_cli.startswith(("aws ", "TG=$(", "EIP1=$("))
