"""Field report 001's Service Connect on the orders chain (Fargate), over HTTP on the sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from chain import OWNER, apply, delete, keep, mutating_since, orders, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler
from controller.sandbox.fidelity.servicediscovery_namespaces import TIMING

NAMESPACE = "shop.internal"
CONNECT = {"namespace": NAMESPACE, "discoveryName": "orders", "port": 8000}


def connected(**extra: Any) -> dict[str, Any]:
    """The orders example with Service Connect."""
    return orders(spec__service__serviceConnect=CONNECT | extra)


def _namespaces(aws: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.client("servicediscovery").list_namespaces()["Namespaces"]
    return [n for n in found if n["Name"] == NAMESPACE]


def _service(aws: Any) -> dict[str, Any]:
    out = aws.client("ecs").describe_services(cluster="shop", services=["ps-shop-orders"])
    return dict(out["services"][0])


def _primary_config(aws: Any) -> dict[str, Any]:
    deployments = _service(aws)["deployments"]
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    return dict(primary.get("serviceConnectConfiguration") or {})


def _planned(ctx: AwsContext, doc: dict[str, Any]) -> dict[str, list[str]]:
    outcome = Reconciler(spec(doc), ctx).plan()
    assert not outcome.errors, outcome.errors
    return {
        c.key: [d.path for d in c.deltas] or [str(c.action)]
        for c in outcome.changes
        if c.action is not Action.NOOP
    }


@pytest.fixture
def kept_chain(kept: Any) -> Iterator[Any]:
    """The orders chain with Service Connect applied, kept by the worker's sandbox across tests
    (`chain.keep`)."""
    yield from keep(kept, "functional: orders with Service Connect", lambda: spec(connected()))


@pytest.fixture
def applied(kept_chain: Any, ctx: AwsContext) -> AwsContext:
    """The chain applied and converged (`kept_chain`: `aws` and `ctx` are its sandbox)."""
    del kept_chain
    return ctx


def test_service_connect_converges_with_namespace_named_port_and_configuration(
    aws: Any, applied: AwsContext
):
    """The namespace (ours, tagged), the named port mapping with appProtocol, the service's
    configuration on its PRIMARY deployment; a second apply makes no mutating call."""
    (namespace,) = _namespaces(aws)
    sd = aws.client("servicediscovery")
    tags = ownership.from_list(sd.list_tags_for_resource(ResourceARN=namespace["Arn"])["Tags"])
    assert tags[ownership.OWNER] == OWNER
    assert namespace["Type"] == "HTTP"

    td = aws.client("ecs").describe_task_definition(taskDefinition="ps-shop-orders")
    assert td["taskDefinition"]["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 8000, "protocol": "tcp", "name": "app", "appProtocol": "http"}
    ]
    assert _primary_config(aws) == {
        "enabled": True,
        "namespace": namespace["Arn"],
        "services": [
            {
                "portName": "app",
                "discoveryName": "orders",
                "clientAliases": [{"port": 8000, "dnsName": "orders"}],
            }
        ],
    }
    before = applied.counter.mutating()
    again = apply(spec(connected()), applied)
    assert again.converged, again.reason
    assert mutating_since(applied, before) == {}


def test_client_alias_port_changed_behind_our_back_is_planned_and_undone(
    aws: Any, applied: AwsContext
):
    """Someone points the client alias at another port: plan names it, apply puts it back."""
    config = _primary_config(aws)
    config["services"][0]["clientAliases"] = [{"port": 9090, "dnsName": "orders"}]
    aws.client("ecs").update_service(
        cluster="shop", service="ps-shop-orders", serviceConnectConfiguration=config
    )
    assert _planned(applied, connected()) == {"ecs-service": ["serviceConnect.services"]}
    before = applied.counter.mutating()
    result = apply(spec(connected()), applied)
    assert result.converged, result.reason
    assert set(mutating_since(applied, before)) == {("ecs", "UpdateService")}
    assert _primary_config(aws)["services"][0]["clientAliases"] == [
        {"port": 8000, "dnsName": "orders"}
    ]
    assert _planned(applied, connected()) == {}


@pytest.mark.usefixtures("spent")
def test_app_protocol_change_registers_a_revision(aws: Any, applied: AwsContext):
    """appProtocol lives on the port mapping: a new task definition revision, nothing else."""
    doc = connected(appProtocol="grpc")
    assert _planned(applied, doc) == {
        "task-definition": ["container.portMappings"],
        "ecs-service": ["taskDefinition"],  # the new revision's ARN: known after apply
    }
    result = apply(spec(doc), applied)
    assert result.converged, result.reason
    td = aws.client("ecs").describe_task_definition(taskDefinition="ps-shop-orders")
    assert td["taskDefinition"]["containerDefinitions"][0]["portMappings"][0]["appProtocol"] == (
        "grpc"
    )


@pytest.mark.usefixtures("spent")
def test_removing_service_connect_turns_it_off(aws: Any, applied: AwsContext):
    """A spec without serviceConnect wants it disabled on the service."""
    result = apply(spec(orders()), applied)
    assert result.converged, result.reason
    assert _primary_config(aws) == {}


def test_an_existing_namespace_is_used_as_is_and_kept_on_delete(aws: Any, ctx: AwsContext):
    """A namespace someone else made is shared: used, never tagged, never deleted."""
    sd = aws.client("servicediscovery")
    sd.create_http_namespace(Name=NAMESPACE, CreatorRequestId="platform-team")
    time.sleep(TIMING.seconds + 0.1)  # Cloud Map creates namespaces asynchronously
    (theirs,) = _namespaces(aws)
    result = apply(spec(connected()), ctx)
    assert result.converged, result.reason
    assert _namespaces(aws) == [theirs]
    assert _primary_config(aws)["namespace"] == theirs["Arn"]
    gone = delete(spec(connected()), ctx)
    assert gone.converged, gone.reason
    assert [n["Id"] for n in _namespaces(aws)] == [theirs["Id"]]
    assert sd.list_tags_for_resource(ResourceARN=theirs["Arn"])["Tags"] == []


def test_a_namespace_being_created_holds_the_service_back(aws: Any, ctx: AwsContext):
    """Cloud Map creates namespaces asynchronously: the first pass creates it and waits (the
    service is blocked on it), a later pass finds it and goes on."""
    reconciler = Reconciler(spec(connected()), ctx)
    first = reconciler.engine.apply(reconciler.stack())
    changes = {c.key: c for c in first.changes}
    namespace = changes["service-connect-namespace"]
    assert namespace.action is Action.CREATE
    assert namespace.pending
    assert "being created" in (namespace.message or "")
    assert changes["ecs-service"].action is Action.BLOCKED
    result = reconciler.apply(30)
    assert result.converged, result.reason


@pytest.mark.usefixtures("spent")
def test_delete_removes_the_namespace_we_created(aws: Any, applied: AwsContext):
    """Ours, and no longer used: deleted with the rest."""
    result = delete(spec(connected()), applied)
    assert result.converged, result.reason
    assert _namespaces(aws) == []
