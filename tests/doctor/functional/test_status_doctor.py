"""`psctl status -f ... --doctor` on the sandbox: the chain's picture with each hop's health under
the status, and in the JSON the same `diagnosis` and `Diagnosed` condition as the controller's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from controller import cli
from controller.aws.tags import COMPONENT, OWNER

ORDERS = Path(__file__).resolve().parents[3] / "examples" / "orders-rest-nlb.yaml"


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


def test_status_doctor_draws_the_chain_with_each_hops_health(
    orders_chain: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Healthy after apply: every hop ✓ and Diagnosed False. Task group closed: the tasks hop
    is ✗, Diagnosed True names health-check-blocked with its spec fix, and `-o json` carries the
    diagnosis (hops with status, findings); plain `status` (no --doctor) draws nothing. (The
    chain is applied by `orders_chain`, kept by the worker's sandbox and put back after.)"""
    aws = orders_chain
    capsys.readouterr()
    assert cli.main(["status", "-f", str(ORDERS), "--doctor"]) == 0
    healthy = capsys.readouterr().out
    assert "Diagnosed False  NoErrors: " in healthy
    marks = [line.split()[1] for line in healthy.splitlines() if "─" in line]
    assert marks, healthy
    assert set(marks) == {"✓"}, healthy

    group = _close_task_group(aws)
    assert cli.main(["status", "-f", str(ORDERS), "--doctor"]) == 0
    broken = capsys.readouterr().out
    assert "Diagnosed True   health-check-blocked: " in broken
    drawn = {line.split()[2]: line.split()[1] for line in broken.splitlines() if "─" in line}
    assert (drawn["api"], drawn["tasks"], drawn["nlb-target-group"]) == ("✓", "✗", "✗")
    assert f"health-check-blocked on tasks {group}" in broken

    assert cli.main(["status", "-f", str(ORDERS), "--doctor", "-o", "json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)["items"]
    diagnosis = item["status"]["diagnosis"]
    assert diagnosis["healthy"] is False
    assert {"health-check-blocked", "no-healthy-targets"} <= {
        f["code"] for f in diagnosis["findings"]
    }
    (cond,) = [c for c in item["status"]["conditions"] if c["type"] == "Diagnosed"]
    assert cond["reason"] == "health-check-blocked"

    assert cli.main(["status", "-f", str(ORDERS)]) == 0
    plain = capsys.readouterr().out
    assert "Diagnosed" not in plain
    assert "─" not in plain
