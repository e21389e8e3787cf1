"""ECS CreateService keeps what it is given, refuses a live duplicate; ListTasks filters as AWS.

Restores (ECS API reference):
- CreateService's deploymentConfiguration ("Optional deployment parameters that control how many
  tasks run during the deployment and the ordering of stopping and starting tasks", with
  deploymentCircuitBreaker), healthCheckGracePeriodSeconds ("If your service has load balancers
  defined and you don't specify a health check grace period value, the default value of 0 is
  used") and enableExecuteCommand are returned by DescribeServices, with AWS's defaults
  (maximumPercent 200, minimumHealthyPercent 100, circuit breaker off); moto drops them.
- CreateService with the name of a service that is ACTIVE or DRAINING in the cluster fails with
  InvalidParameterException "Creation of service was not idempotent."; moto silently replaces it.
  An INACTIVE (deleted) name may be reused, as on AWS.
- UpdateService(desiredCount=N) does not make N tasks run at once ("runningCount: The number of
  tasks in the cluster that are in the RUNNING state"); moto sets runningCount to N. For awsvpc
  services (those the sandbox's ECS agent runs) runningCount stays until tasks really run, and
  the difference is pendingCount.
- ListTasks(serviceName=...): "The name of the service to use when filtering the ListTasks
  results. Specifying a serviceName limits the results to tasks that belong to that service";
  moto ignores the filter. Tasks started for a service carry `group` "service:NAME" as on AWS.
- ListTasks without desiredStatus: "The default status filter is RUNNING, which shows tasks that
  Amazon ECS has set the desired status to RUNNING"; moto lists every task, the stopped ones too.
Neighbours: `patching`, `controller.sandbox.ecs_agent` (which starts the tasks).
"""

from __future__ import annotations

from typing import Any

from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses
from moto.ecs.exceptions import (
    ClusterNotFoundException,
    InvalidParameterException,
    ServiceNotFoundException,
)

from controller.sandbox.fidelity.patching import wrap

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def apply() -> None:
    """Install the CreateService and ListTasks behaviour."""
    wrap(ecs_responses.EC2ContainerServiceResponse, "create_service")(_create_service)
    wrap(ecs_models.EC2ContainerServiceBackend, "update_service")(_update_service)
    wrap(ecs_models.EC2ContainerServiceBackend, "list_tasks")(_list_tasks)


def _create_service(original: Any, self: Any) -> Any:
    backend = self.ecs_backend
    name = self._get_param("serviceName")
    try:
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
    except ClusterNotFoundException:
        return original(self)  # moto raises the proper error
    key = f"{cluster.name}:{name}"
    existing = backend.services.get(key)
    if existing is not None and existing.status in ("ACTIVE", "DRAINING"):
        raise InvalidParameterException("Creation of service was not idempotent.")
    result = original(self)
    service = backend.services[key]
    given = self._get_param("deploymentConfiguration") or {}
    service.deployment_configuration = {**DEFAULT_DEPLOYMENT_CONFIGURATION, **given}
    grace = self._get_param("healthCheckGracePeriodSeconds")
    if grace is not None:
        service.health_check_grace_period_seconds = int(grace)
    elif service.load_balancers:
        service.health_check_grace_period_seconds = 0
    service.enable_execute_command = bool(self._get_param("enableExecuteCommand") or False)
    return result


def _update_service(original: Any, self: Any, service_properties: dict[str, Any]) -> Any:
    name = str(service_properties.get("service", "")).split("/")[-1]
    cluster = service_properties.get("cluster", "default")
    try:
        before = self._get_service(cluster, name).running_count
    except (ClusterNotFoundException, ServiceNotFoundException):
        before = None  # moto's own call below raises the error
    service = original(self, service_properties)
    awsvpc = (service.network_configuration or {}).get("awsvpcConfiguration")
    if before is not None and awsvpc and service.status == "ACTIVE":
        service.running_count = before
        service.pending_count = max(int(service.desired_count or 0) - before, 0)
    return service


def _list_tasks(
    original: Any,
    self: Any,
    cluster_str: str | None = None,
    container_instance: str | None = None,
    family: str | None = None,
    started_by: str | None = None,
    service_name: str | None = None,
    desiredStatus: str | None = None,  # noqa: N803 - moto's parameter name
) -> list[Any]:
    # The API call always names a cluster ("default" when not given); moto's own lookups of a
    # task by ARN (tagging) pass nothing and must still see stopped tasks.
    status = desiredStatus or ("RUNNING" if cluster_str else None)
    tasks: list[Any] = original(
        self, cluster_str, container_instance, family, started_by, service_name, status
    )
    if not service_name:
        return tasks
    group = f"service:{service_name.split('/')[-1]}"
    return [task for task in tasks if task.group == group]
