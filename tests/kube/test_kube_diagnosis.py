"""The controller's diagnosis written back to Kubernetes (fake API server + the sandbox): a Ready
PrivateService whose task group is closed behind its back gets the Diagnosed condition and the
diagnosis in its status subresource, and a Warning Event per error finding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import AsyncClient, KubeConfig
from runtime.harness import Running, eventually, orders_doc

from controller.aws.tags import COMPONENT, OWNER
from controller.kube.source import KubernetesSource

from .apiserver import FakeApiServer

PLURAL = "privateservices"


@pytest.fixture
async def running(kube_api: FakeApiServer, aws: Any, tmp_path: Path) -> AsyncIterator[Running]:
    config = KubeConfig.from_file(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    run = Running(tmp_path, aws)
    run.controller.source = KubernetesSource(lambda: AsyncClient(config=config), holder="test")
    run.controller.diagnoser.probe_seconds = 0.0  # probe after every pass
    async with run:
        yield run


def _status(kube_api: FakeApiServer) -> dict[str, Any]:
    stored = kube_api.get_object(PLURAL, "shop", "orders")
    return {} if stored is None else dict(stored.get("status") or {})


def _diagnosed(kube_api: FakeApiServer) -> dict[str, Any] | None:
    found = [c for c in _status(kube_api).get("conditions", []) if c["type"] == "Diagnosed"]
    return found[0] if found and found[0]["status"] == "True" else None


def _close_task_group(aws: Any) -> str:
    ec2 = aws.client("ec2")
    (group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": f"tag:{OWNER}", "Values": ["shop/orders"]},
            {"Name": f"tag:{COMPONENT}", "Values": ["task-sg"]},
        ]
    )["SecurityGroups"]
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
    )["SecurityGroupRules"]
    ids = [r["SecurityGroupRuleId"] for r in rules if not r["IsEgress"]]
    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], SecurityGroupRuleIds=ids)
    return str(group["GroupId"])


async def test_diagnosis_reaches_the_status_subresource_and_events(
    kube_api: FakeApiServer, aws: Any, running: Running
) -> None:
    """Ready with healthy targets: no Diagnosed condition. Task group closed (drift mode Ignore
    leaves it): status.conditions gets Diagnosed True health-check-blocked, status.diagnosis the
    findings, and a Warning Event `Diagnosed` names the code and the group on the object."""
    doc = orders_doc(drift={"mode": "Ignore", "resyncSeconds": 5})
    doc["metadata"]["namespace"] = "shop"
    kube_api.create(doc)
    await eventually(lambda: _status(kube_api).get("phase") == "Ready", 90, "status Ready")
    assert _diagnosed(kube_api) is None
    group = _close_task_group(aws)
    cond = await eventually(lambda: _diagnosed(kube_api), 60, "Diagnosed True in Kubernetes")
    assert cond["reason"] == "health-check-blocked"
    status = _status(kube_api)
    assert status["phase"] == "Ready"
    codes = {f["code"] for f in status["diagnosis"]["findings"]}
    assert {"health-check-blocked", "no-healthy-targets"} <= codes
    events = await eventually(
        lambda: [e for e in kube_api.events("shop") if e["reason"] == "Diagnosed"],
        30,
        "Diagnosed Events",
    )
    blocked = [e for e in events if e["message"].startswith("health-check-blocked")]
    assert len(blocked) == 1, events
    assert blocked[0]["type"] == "Warning"
    assert blocked[0]["involvedObject"]["name"] == "orders"
    assert group in blocked[0]["message"]
    assert "Fix: " in blocked[0]["message"]
