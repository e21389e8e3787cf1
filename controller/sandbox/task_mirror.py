"""Show the ECS agent's tasks to the ECS API: moto Tasks that ListTasks/DescribeTasks return.

- `running_awsvpc` / `running_bridge`: a RUNNING task (group "service:NAME", started by the
  service's primary deployment) whose ENI holds the agent's address (awsvpc), or on its container
  instance (bridge/host). moto would walk a task to STOPPED when described; these stay RUNNING.
- `stopped`: a task that failed to start, as DescribeTasks shows one on AWS: lastStatus and
  desiredStatus STOPPED, `stopCode` "TaskFailedToStart" ("TaskFailedToStart: the task failed to
  start", ECS API reference, Task), `stoppedReason` and each container's `reason` set to the
  failure; its network interface is gone (AWS deletes a stopped task's ENI; the attachment stays,
  DELETED). ListTasks(desiredStatus=STOPPED) lists it ("This can be useful for debugging tasks
  that aren't starting properly", ListTasks).
- `service_event`: a message at the head of DescribeServices' `events` (newest first; AWS
  keeps the 100 most recent and omits a duplicate of the latest).
Neighbours: `ecs_agent` (decides what runs), `fidelity.ecs` (ListTasks' filters).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.utils import generate_dns_from_ip
from moto.ecs import models as ecs_models

MAX_EVENTS = 100
STOP_CODE = "TaskFailedToStart"


def running_awsvpc(
    ecs: Any, service: Any, account_id: str, region: str, subnet_id: str, ip: str
) -> tuple[str, str | None] | None:
    """A RUNNING awsvpc task of `service` in `subnet_id` at `ip`: (task ARN, ENI id)."""
    moto_task = _task(ecs, service, subnet_id=subnet_id)
    if moto_task is None:
        return None
    eni_id = _eni_of(moto_task)
    dns_name = generate_dns_from_ip(ip)
    for attachment in moto_task.attachments:
        for detail in attachment["details"]:
            if detail["name"] == "privateIPv4Address":
                detail["value"] = ip
            elif detail["name"] == "privateDnsName":
                detail["value"] = dns_name
    if eni_id is not None:
        eni = ec2_backends[account_id][region].enis[eni_id]
        eni.private_ip_address = ip
        eni.private_dns_name = dns_name
        eni.private_ip_addresses = [
            {"Primary": True, "PrivateIpAddress": ip, "PrivateDnsName": dns_name}
        ]
    return moto_task.task_arn, eni_id


def running_bridge(ecs: Any, service: Any, container_instance_arn: str) -> str | None:
    """A RUNNING bridge/host task of `service` on its container instance: the task ARN."""
    moto_task = _task(ecs, service, container_instance_arn=container_instance_arn)
    return None if moto_task is None else str(moto_task.task_arn)


def stopped(
    ecs: Any,
    service: Any,
    account_id: str,
    region: str,
    reason: str,
    *,
    subnet_id: str = "",
    container_instance_arn: str | None = None,
) -> str | None:
    """A task of `service` that failed to start for `reason`: the task ARN."""
    moto_task = _task(
        ecs, service, subnet_id=subnet_id, container_instance_arn=container_instance_arn
    )
    if moto_task is None:
        return None
    now = datetime.now(UTC)
    moto_task.last_status = "STOPPED"
    moto_task.desired_status = "STOPPED"
    moto_task.stopped_reason = reason
    moto_task.stop_code = STOP_CODE
    moto_task.stopping_at = moto_task.stopped_at = now
    for container in moto_task.containers:
        container.last_status = "STOPPED"
        container.reason = reason
    eni_id = _eni_of(moto_task)
    if eni_id is not None:
        ec2_backends[account_id][region].enis.pop(eni_id, None)
    for attachment in moto_task.attachments:
        attachment["status"] = "DELETED"
    return str(moto_task.task_arn)


def forget(ecs: Any, task_arn: str | None) -> None:
    """Remove a mirrored task from ListTasks/DescribeTasks."""
    for cluster_tasks in ecs.tasks.values():
        cluster_tasks.pop(task_arn, None)


def service_event(service: Any, message: str) -> None:
    """Put `message` at the head of the service's events, unless it is the latest already."""
    events: list[dict[str, Any]] = service.events
    if events and events[0].get("message") == message:
        return
    events.insert(0, {"id": str(uuid.uuid4()), "createdAt": datetime.now(UTC), "message": message})
    del events[MAX_EVENTS:]


def _task(
    ecs: Any, service: Any, *, subnet_id: str = "", container_instance_arn: str | None = None
) -> Any | None:
    cluster = ecs.clusters.get(service.cluster_name)
    if cluster is None:
        return None
    config = (service.network_configuration or {}).get("awsvpcConfiguration")
    network = None
    if config and subnet_id:
        network = {"awsvpcConfiguration": {**config, "subnets": [subnet_id]}}
    default_launch = "FARGATE" if network else "EC2"
    moto_task = ecs_models.Task(
        cluster,
        ecs.describe_task_definition(service.task_definition),
        container_instance_arn,
        None,
        ecs,
        group=f"service:{service.name}",
        launch_type=service.launch_type or default_launch,
        started_by=service.deployments[0]["id"] if service.deployments else "",
        networking_configuration=network,
        platform_version=service.platform_version if network else None,
    )
    moto_task._transitions = []  # stays as set when described (moto would walk it to STOPPED)
    for container in moto_task.containers:
        container.last_status = "RUNNING"
    ecs.tasks.setdefault(cluster.name, {})[moto_task.task_arn] = moto_task
    return moto_task


def _eni_of(moto_task: Any) -> str | None:
    for attachment in moto_task.attachments:
        for detail in attachment["details"]:
            if detail["name"] == "networkInterfaceId":
                return str(detail["value"])
    return None
