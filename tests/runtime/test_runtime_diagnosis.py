"""psctl doctor inside the running controller, on the sandbox: a Ready spec whose task group is
closed behind its back is diagnosed from its unhealthy targets (Diagnosed condition and
diagnosis in /status), and /doctor answers JSON on demand."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from harness import Running, eventually, orders_doc, write

from controller import cli
from controller.aws.tags import COMPONENT, OWNER

OWNER_NAME = "shop/orders"


def _close_task_group(aws: Any) -> str:
    """Revoke every ingress rule of the chain's task group (field report 000's first trap)."""
    ec2 = aws.client("ec2")
    (group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": f"tag:{OWNER}", "Values": [OWNER_NAME]},
            {"Name": f"tag:{COMPONENT}", "Values": ["task-sg"]},
        ]
    )["SecurityGroups"]
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
    )["SecurityGroupRules"]
    ingress = [r["SecurityGroupRuleId"] for r in rules if not r["IsEgress"]]
    assert ingress
    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], SecurityGroupRuleIds=ingress)
    return str(group["GroupId"])


def _item(status: dict[str, Any]) -> dict[str, Any]:
    (item,) = [i for i in status["items"] if i.get("metadata", {}).get("name") == "orders"]
    return dict(item["status"])


def _diagnosed(status: dict[str, Any]) -> dict[str, Any] | None:
    found = [c for c in status.get("conditions", []) if c["type"] == "Diagnosed"]
    return found[0] if found else None


async def test_unhealthy_targets_of_a_ready_spec_are_diagnosed_in_status_and_on_demand(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Drift mode Ignore keeps the spec Ready while its task group admits nothing: the next
    target-health probe finds the targets unhealthy, doctor runs in a thread, /status shows
    Diagnosed True with reason health-check-blocked and the fix naming the group, and the
    diagnosis's hops; /doctor?spec= answers the same JSON at once (404 for another spec);
    `psctl status --controller` draws the chain from /status, `--doctor` asks /doctor again."""
    write(tmp_path, orders_doc(drift={"mode": "Ignore", "resyncSeconds": 5}))
    async with Running(tmp_path, aws) as run:
        run.controller.diagnoser.probe_seconds = 0.0  # probe after every pass
        await eventually(lambda: run.phase(OWNER_NAME) == "Ready", 90, "orders Ready")
        diagnoser = run.controller.diagnoser
        await eventually(
            lambda: (r := diagnoser.records.get(OWNER_NAME)) and r.probed_at and not r.busy(),
            30,
            "a first probe of the healthy targets",
        )
        assert diagnoser.runs == 0  # healthy targets: no diagnosis
        group = _close_task_group(aws)
        started, before = time.monotonic(), sum(run.aws.counter.snapshot().values())
        async with aiohttp.ClientSession() as http:

            async def diagnosed() -> dict[str, Any] | None:
                async with http.get(f"{run.url}/status") as resp:
                    status = _item(await resp.json())
                cond = _diagnosed(status)
                return status if cond and cond["status"] == "True" else None

            status = await eventually(diagnosed, 60, "Diagnosed True in /status")
            took = time.monotonic() - started
            cold = sum(run.aws.counter.snapshot().values()) - before  # probes and a diagnosis
            cond = _diagnosed(status)
            assert cond is not None
            assert status["phase"] == "Ready"
            assert cond["reason"] == "health-check-blocked", status["diagnosis"]
            doc = status["diagnosis"]
            (cause,) = [f for f in doc["findings"] if f["code"] == "health-check-blocked"]
            assert cause["resource"] == group
            assert cond["message"] == cause["fix"]
            assert doc["trigger"] == "unhealthy-targets"
            assert doc["healthy"] is False
            codes = {f["code"] for f in doc["findings"]}
            assert {"health-check-blocked", "no-healthy-targets"} <= codes
            hops = {h["hop"]: h["status"] for h in doc["hops"]}
            assert hops["tasks"] == "problem"
            assert hops["api"] == "ok"
            assert any("note" in h for h in doc["hops"] if h["hop"] == "service")

            calls = sum(run.aws.counter.snapshot().values())
            async with http.get(f"{run.url}/doctor", params={"spec": OWNER_NAME}) as resp:
                assert resp.status == 200
                answer = await resp.json()
            calls = sum(run.aws.counter.snapshot().values()) - calls  # the read cache's answers
            assert answer["spec"] == OWNER_NAME
            assert answer["condition"]["reason"] == "health-check-blocked"
            assert answer["diagnosis"]["trigger"] == "requested"
            async with http.get(f"{run.url}/doctor", params={"spec": "shop/nope"}) as resp:
                assert resp.status == 404
            async with http.get(f"{run.url}/doctor") as resp:
                assert resp.status == 400
        assert diagnoser.runs == 2  # the probe's and the request's: throttled in between
        capsys.readouterr()
        assert await asyncio.to_thread(cli.main, ["status", "--controller", run.url]) == 0
        text = capsys.readouterr().out
        assert "Diagnosed True   health-check-blocked: " in text
        assert "chain (psctl doctor at " in text
        drawn = [line.split() for line in text.splitlines() if "─" in line]
        assert [line[1:3] for line in drawn if line[2] in ("api", "tasks")] == [
            ["✓", "api"],
            ["✗", "tasks"],
        ]
        assert diagnoser.runs == 2  # drawing the stored diagnosis costs nothing
        asked = ["status", "--controller", run.url, "--doctor", "-o", "json"]
        assert await asyncio.to_thread(cli.main, asked) == 0
        (item,) = json.loads(capsys.readouterr().out)["items"]
        assert item["status"]["diagnosis"]["trigger"] == "requested"
        assert diagnoser.runs == 3
        print(f"diagnosed {took:.1f} s after the break ({cold} AWS calls); /doctor then: {calls}")
