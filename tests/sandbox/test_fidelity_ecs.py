"""ECS over HTTP: CreateService keeps settings, refuses live duplicates; ListTasks by service."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _describe(build, name: str = "svc") -> dict:
    return build.ecs.describe_services(cluster="cluster", services=[name])["services"][0]


def test_create_service_keeps_deployment_settings(build):
    """AWS: DescribeServices returns the deploymentConfiguration (with deploymentCircuitBreaker),
    healthCheckGracePeriodSeconds and enableExecuteCommand given to CreateService."""
    tg_arn = build.target_group()["TargetGroupArn"]
    config = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 150,
        "minimumHealthyPercent": 50,
    }
    created = build.fargate_service(
        tg_arn,
        deploymentConfiguration=config,
        healthCheckGracePeriodSeconds=45,
        enableExecuteCommand=True,
    )
    for service in (created, _describe(build)):
        assert service["deploymentConfiguration"] == config
        assert service["healthCheckGracePeriodSeconds"] == 45
        assert service["enableExecuteCommand"] is True


def test_create_service_fills_aws_defaults(build):
    """AWS defaults: maximumPercent 200, minimumHealthyPercent 100, circuit breaker disabled,
    enableExecuteCommand false, and "If your service has load balancers defined and you don't
    specify a health check grace period value, the default value of 0 is used"."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(
        tg_arn,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
    )
    service = _describe(build)
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    assert service["healthCheckGracePeriodSeconds"] == 0
    assert service["enableExecuteCommand"] is False


def test_create_service_with_name_of_active_service_fails(build):
    """AWS: CreateService with the name of an ACTIVE service raises InvalidParameterException
    "Creation of service was not idempotent." and leaves the existing service unchanged."""
    build.fargate_service(None, desired=2)
    with pytest.raises(ClientError) as caught:
        build.ecs.create_service(
            cluster="cluster", serviceName="svc", taskDefinition="app", desiredCount=5
        )
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        "Creation of service was not idempotent.",
    )
    assert _describe(build)["desiredCount"] == 2


def test_create_service_may_reuse_name_of_deleted_service(build):
    """AWS: once a service is deleted (INACTIVE) its name may be used by a new service."""
    build.fargate_service(None, desired=0)
    build.ecs.delete_service(cluster="cluster", service="svc")
    created = build.ecs.create_service(
        cluster="cluster", serviceName="svc", taskDefinition="app", desiredCount=0
    )["service"]
    assert created["status"] == "ACTIVE"


def test_list_tasks_filters_by_service_name(build, sandbox):
    """AWS ListTasks: "Specifying a serviceName limits the results to tasks that belong to that
    service"."""
    build.fargate_service(None, desired=2, name="one")
    build.fargate_service(None, desired=1, name="two")
    sandbox.agent.tick()
    one = build.ecs.list_tasks(cluster="cluster", serviceName="one")["taskArns"]
    two = build.ecs.list_tasks(cluster="cluster", serviceName="two")["taskArns"]
    everything = build.ecs.list_tasks(cluster="cluster")["taskArns"]
    assert (len(one), len(two)) == (2, 1)
    assert sorted(everything) == sorted(one + two)


def test_update_service_does_not_make_tasks_run_at_once(build, sandbox):
    """AWS: runningCount is "The number of tasks in the cluster that are in the RUNNING state";
    right after UpdateService(desiredCount=3) the new tasks are pending, not running."""
    with sandbox.agent.paused():
        build.fargate_service(None, desired=1)
        sandbox.agent.tick()
        updated = build.ecs.update_service(cluster="cluster", service="svc", desiredCount=3)
        described = _describe(build)
    for service in (updated["service"], described):
        assert (service["runningCount"], service["pendingCount"]) == (1, 2)
    sandbox.agent.tick()
    assert (_describe(build)["runningCount"], _describe(build)["pendingCount"]) == (3, 0)


def test_list_tasks_lists_running_tasks_unless_told_otherwise(build, sandbox):
    """AWS ListTasks: "The default status filter is RUNNING, which shows tasks that Amazon ECS
    has set the desired status to RUNNING"; desiredStatus=STOPPED lists the stopped ones."""
    build.fargate_service(None, desired=1)
    sandbox.agent.tick()
    (running,) = build.ecs.list_tasks(cluster="cluster")["taskArns"]
    build.ecs.stop_task(cluster="cluster", task=running, reason="test")
    assert build.ecs.list_tasks(cluster="cluster")["taskArns"] == []
    stopped = build.ecs.list_tasks(cluster="cluster", desiredStatus="STOPPED")["taskArns"]
    assert stopped == [running]
