"""ECS over HTTP: Service Connect configuration is reported on the service's PRIMARY deployment."""

from __future__ import annotations

from typing import Any

CONFIG: dict[str, Any] = {
    "enabled": True,
    "namespace": "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abc",
    "services": [
        {
            "portName": "app",
            "discoveryName": "orders",
            "clientAliases": [{"port": 8080, "dnsName": "orders"}],
        }
    ],
}


def _primary(build) -> dict[str, Any]:
    service = build.ecs.describe_services(cluster="cluster", services=["svc"])["services"][0]
    assert "serviceConnectConfiguration" not in service  # the Service shape has no such member
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def test_create_service_keeps_service_connect_configuration(build):
    """AWS Deployment.serviceConnectConfiguration: "The details of the Service Connect
    configuration that's used by this deployment"; moto drops it on CreateService."""
    build.fargate_service(None, desired=0, serviceConnectConfiguration=CONFIG)
    assert _primary(build)["serviceConnectConfiguration"] == CONFIG


def test_update_service_changes_and_disables_it(build):
    """UpdateService replaces the configuration; `enabled: false` removes it."""
    build.fargate_service(None, desired=0, serviceConnectConfiguration=CONFIG)
    changed = {**CONFIG, "services": [{**CONFIG["services"][0], "clientAliases": [{"port": 81}]}]}
    build.ecs.update_service(cluster="cluster", service="svc", serviceConnectConfiguration=changed)
    assert _primary(build)["serviceConnectConfiguration"]["services"][0]["clientAliases"] == [
        {"port": 81}
    ]
    build.ecs.update_service(
        cluster="cluster", service="svc", serviceConnectConfiguration={"enabled": False}
    )
    assert "serviceConnectConfiguration" not in _primary(build)


def test_a_service_without_it_reports_none(build):
    """No Service Connect asked: the deployment carries no configuration."""
    build.fargate_service(None, desired=0)
    assert "serviceConnectConfiguration" not in _primary(build)
