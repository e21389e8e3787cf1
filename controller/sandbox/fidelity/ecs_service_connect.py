"""ECS Service Connect: CreateService and UpdateService keep serviceConnectConfiguration.

Restores (ECS API reference, Deployment): "serviceConnectConfiguration: The details of the
Service Connect configuration that's used by this deployment. Compare the configuration between
multiple deployments when troubleshooting issues with new deployments." DescribeServices reports
it on the service's deployments (the Service shape itself has no such member); moto drops it on
CreateService and, on UpdateService, stores it on the service where nothing serialises it. Here
both calls put the configuration given (namespace as given: name or ARN) on the PRIMARY
deployment, and `{"enabled": false}` removes it.
Neighbours: `patching`, `fidelity.ecs` (the other CreateService fields).
"""

from __future__ import annotations

import copy
from typing import Any

from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses

from controller.sandbox.fidelity.patching import wrap


def apply() -> None:
    """Install the Service Connect behaviour of CreateService and UpdateService."""
    wrap(ecs_responses.EC2ContainerServiceResponse, "create_service")(_create_service)
    wrap(ecs_models.EC2ContainerServiceBackend, "update_service")(_update_service)


def _store(service: Any, config: dict[str, Any] | None) -> None:
    """Put `config` on the service's PRIMARY deployment (disabled or absent: none)."""
    for deployment in service.deployments:
        if deployment.get("status", "PRIMARY") != "PRIMARY":
            continue
        if config and config.get("enabled"):
            deployment["serviceConnectConfiguration"] = copy.deepcopy(config)
        else:
            deployment.pop("serviceConnectConfiguration", None)


def _create_service(original: Any, self: Any) -> Any:
    result = original(self)
    config = self._get_param("serviceConnectConfiguration")
    if config is not None:
        cluster = self._get_param("cluster", "default").split("/")[-1]
        service = self.ecs_backend.services.get(f"{cluster}:{self._get_param('serviceName')}")
        if service is not None:
            _store(service, config)
    return result


def _update_service(original: Any, self: Any, service_properties: dict[str, Any]) -> Any:
    config = service_properties.pop("service_connect_configuration", None)
    service = original(self, service_properties)
    if config is not None:
        _store(service, config)
    return service
