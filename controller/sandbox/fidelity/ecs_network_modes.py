"""ECS CreateService checks the task definition's network mode against what it is given.

Restores (ECS API reference, CreateService and the Amazon ECS developer guide):
- networkConfiguration "is required for task definitions that use the awsvpc network mode to
  receive their own elastic network interface, and it isn't supported for other network modes":
  a bridge or host task definition with a networkConfiguration fails with
  InvalidParameterException "Network Configuration is not valid for the given networkMode of
  this task definition.". (AWS also refuses an awsvpc service without one; that check is left
  out because sandbox tests build bare awsvpc services.)
- "For services using the awsvpc network mode, you must choose ip as the target type"; bridge
  and host tasks are registered by instance: a target group of the other type fails with
  InvalidParameterException "The provided target group ... has target type ..., which is
  incompatible with the ... network mode specified in the task definition.".
moto accepts every combination, so a controller sending the wrong one would pass in the sandbox.
Neighbours: `patching`, `fidelity.ecs`, `controller.sandbox.ecs_agent` (runs bridge tasks).
"""

from __future__ import annotations

from typing import Any

from moto.ecs import responses as ecs_responses
from moto.ecs.exceptions import InvalidParameterException
from moto.elbv2.models import elbv2_backends

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the network mode checks of CreateService."""
    wrap(ecs_responses.EC2ContainerServiceResponse, "create_service")(_create_service)


def _create_service(original: Any, self: Any) -> Any:
    cluster = str(self._get_param("cluster", "default")).split("/")[-1]
    existing = self.ecs_backend.services.get(f"{cluster}:{self._get_param('serviceName')}")
    if existing is not None and existing.status in ("ACTIVE", "DRAINING"):
        return original(self)  # "not idempotent" comes first (fidelity.ecs)
    task_definition = self._get_param("taskDefinition")
    try:
        mode = self.ecs_backend.describe_task_definition(task_definition).network_mode
    except Exception:  # moto raises the proper error for an unknown task definition
        return original(self)
    mode = mode or "bridge"  # AWS's default network mode on EC2
    awsvpc = (self._get_param("networkConfiguration") or {}).get("awsvpcConfiguration")
    if mode != "awsvpc" and awsvpc:
        raise InvalidParameterException(
            "Network Configuration is not valid for the given networkMode of this task definition."
        )
    wanted = "ip" if mode == "awsvpc" else "instance"
    target_groups = elbv2_backends[self.current_account][self.region].target_groups
    for lb in self._get_param("loadBalancers") or []:
        target_group = target_groups.get(lb.get("targetGroupArn", ""))
        if target_group is not None and target_group.target_type != wanted:
            raise InvalidParameterException(
                f"The provided target group {target_group.arn} has target type "
                f"{target_group.target_type}, which is incompatible with the {mode} network "
                "mode specified in the task definition."
            )
    return original(self)
