"""The controller on PrivateService objects: the fake API server + moto's server over HTTP.

Create -> the chain and status Ready with observedGeneration; edit -> applied, observedGeneration
follows; drift -> corrected and an Event; delete -> AWS resources removed, then the object; an
invalid object -> status Failed and no AWS call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import AsyncClient, KubeConfig
from runtime.harness import Running, eventually, orders_doc

from controller.kube.client import FINALIZER
from controller.kube.source import KubernetesSource

from .apiserver import FakeApiServer

PLURAL, OWNER = "privateservices", "shop/orders"


def ps(name: str = "orders", **spec: Any) -> dict[str, Any]:
    doc = orders_doc(name, **spec)
    doc["metadata"]["namespace"] = "shop"
    return doc


@pytest.fixture
async def running(kube_api: FakeApiServer, aws: Any, tmp_path: Path) -> AsyncIterator[Running]:
    config = KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    run = Running(tmp_path, aws)
    run.controller.source = KubernetesSource(lambda: AsyncClient(config=config), holder="test")
    async with run:
        yield run


def _status(kube_api: FakeApiServer, name: str = "orders") -> dict[str, Any]:
    stored = kube_api.get_object(PLURAL, "shop", name)
    return {} if stored is None else dict(stored.get("status") or {})


def _desired(aws: Any) -> int:
    services = aws.client("ecs").describe_services(cluster="shop", services=["ps-shop-orders"])
    return int(services["services"][0]["desiredCount"])


def _nlbs(aws: Any) -> list[str]:
    lbs = aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
    return [lb["LoadBalancerName"] for lb in lbs]


async def test_create_edit_drift_delete(kube_api: FakeApiServer, aws: Any, running: Running):
    kube_api.create(ps(drift={"resyncSeconds": 5}))
    await eventually(
        lambda: _status(kube_api).get("phase") == "Ready", 90, "status Ready in Kubernetes"
    )
    status = _status(kube_api)
    assert status["observedGeneration"] == 1
    assert status["endpoint"].startswith("https://")
    assert status["resources"]["nlb"].startswith("arn:aws:elasticloadbalancing:")
    stored = kube_api.get_object(PLURAL, "shop", "orders")
    assert stored is not None
    assert stored["metadata"]["finalizers"] == [FINALIZER]
    patched = [r[1] for r in kube_api.requests if r[0] == "PATCH"]
    assert any(path.endswith("/privateservices/orders/status") for path in patched)

    # edit: a new generation, applied, and observed
    kube_api.patch(PLURAL, "shop", "orders", {"spec": {"service": {"desiredCount": 3}}})
    await eventually(lambda: _desired(aws) == 3, 30, "the edit applied in ECS")
    await eventually(
        lambda: (
            _status(kube_api).get("observedGeneration") == 2
            and _status(kube_api).get("phase") == "Ready"
        ),
        30,
        "observedGeneration 2",
    )

    # drift behind the controller's back: corrected, and an Event on the object
    aws.client("ecs").update_service(cluster="shop", service="ps-shop-orders", desiredCount=7)
    await eventually(lambda: _desired(aws) == 3, 30, "the drift corrected")
    events = await eventually(
        lambda: [e for e in kube_api.events("shop") if e["reason"] == "DriftCorrected"],
        10,
        "a DriftCorrected Event",
    )
    assert events[0]["type"] == "Warning"
    assert events[0]["involvedObject"]["name"] == "orders"
    assert "desiredCount" in events[0]["message"]

    # delete: the object waits for its AWS resources to go, then goes
    assert _nlbs(aws)
    kube_api.delete(PLURAL, "shop", "orders")
    stored = kube_api.get_object(PLURAL, "shop", "orders")
    assert stored is not None
    assert stored["metadata"]["deletionTimestamp"]
    await eventually(
        lambda: kube_api.get_object(PLURAL, "shop", "orders") is None, 90, "the object gone"
    )
    assert _nlbs(aws) == []  # gone before the object was let go
    await eventually(lambda: OWNER not in running.controller.states, 10, "the worker retired")
    told = [(e["type"], e["reason"]) for e in kube_api.events("shop")]
    for expected in [("Normal", "Ready"), ("Normal", "Deleting"), ("Normal", "Deleted")]:
        assert expected in told, told
    ready = next(e for e in kube_api.events("shop") if e["reason"] == "Ready")
    assert "https://" in ready["message"]  # the endpoint


async def test_invalid_object_gets_failed_status_and_no_aws_call(
    kube_api: FakeApiServer, running: Running
):
    bad = ps()
    bad["spec"]["container"]["port"] = 0
    kube_api.create(bad)
    await eventually(
        lambda: _status(kube_api).get("phase") == "Failed", 15, "status Failed in Kubernetes"
    )
    status = _status(kube_api)
    assert status["observedGeneration"] == 1
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.container.port" in ready["message"]
    assert running.aws.counter.total() == 0
    assert OWNER not in running.controller.states
    stored = kube_api.get_object(PLURAL, "shop", "orders")
    assert stored is not None
    assert FINALIZER not in stored["metadata"].get("finalizers", [])


async def test_retain_keeps_the_resources_and_lets_the_object_go(
    kube_api: FakeApiServer, aws: Any, running: Running
):
    kube_api.create(ps(deletionPolicy="Retain", drift={"resyncSeconds": 5}))
    await eventually(lambda: _status(kube_api).get("phase") == "Ready", 90, "Ready")

    # a resync that finds nothing new writes nothing to Kubernetes (only the watch stays open)
    state = running.controller.states[OWNER]
    await eventually(lambda: state.status.get("phase") == "Ready", 30, "Ready in memory")
    passes = state.passes
    kube_api.clear_requests()
    await eventually(lambda: state.passes >= passes + 2, 30, "two more passes")
    assert [r for r in kube_api.requests if r.method != "GET"] == []
    kube_api.delete(PLURAL, "shop", "orders")
    await eventually(
        lambda: kube_api.get_object(PLURAL, "shop", "orders") is None, 30, "the object gone"
    )
    assert _nlbs(aws)  # kept
    assert ("Normal", "Retained") in [(e["type"], e["reason"]) for e in kube_api.events("shop")]


async def test_invalid_object_being_deleted_says_what_to_do(
    kube_api: FakeApiServer, running: Running
):
    """Our finalizer on an object whose spec is invalid and whose last valid spec this process
    never saw (e.g. after a restart): nothing to delete by, so the status says how to go on."""
    bad = ps()
    bad["spec"]["container"]["port"] = 0
    bad["metadata"]["finalizers"] = [FINALIZER]
    kube_api.create(bad)
    kube_api.delete(PLURAL, "shop", "orders")
    await eventually(
        lambda: "deletion waits" in str(_status(kube_api).get("conditions")),
        15,
        "the status to say why the deletion waits",
    )
    assert running.aws.counter.total() == 0
    assert kube_api.get_object(PLURAL, "shop", "orders") is not None
