"""psctl as a user runs it: exit statuses, JSON shapes, and no AWS call for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from chain import EXAMPLES, orders

from controller import cli, cli_aws


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "svc.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


class NoAwsError(Exception):
    """Raised if a command tries to reach AWS."""


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any AWS context creation fails the test loudly (`cli_aws.aws_context` is psctl's only
    place that creates one, for every command)."""

    def refuse(*_: Any, **__: Any) -> None:
        raise NoAwsError("an AWS context was created")

    monkeypatch.setattr(cli_aws, "AwsContext", refuse)


BAD = [
    pytest.param({"spec__container__memory": 3000}, "spec.container.memory", id="fargate-memory"),
    pytest.param(
        {"spec__service__assignPublicIp": "ENABLED"}, "spec.service.assignPublicIp", id="public-ip"
    ),
    pytest.param(
        {"spec__loadBalancer__scheme": "internet-facing"},
        "spec.loadBalancer.scheme",
        id="internet-facing-with-api",
    ),
    pytest.param(
        {"spec__loadBalancer__staticIps": True},
        "spec.loadBalancer.staticIps",
        id="static-ips-internal",
    ),
    pytest.param(
        {"spec__loadBalancer__listener": {"port": 443, "protocol": "TLS"}},
        "spec.loadBalancer.listener.certificateArn",
        id="tls-without-certificate",
    ),
    pytest.param(
        {"spec__service__launchType": "EC2"}, "spec.container.hostPort", id="ec2-without-hostport"
    ),
    pytest.param(
        {"spec__api__type": "HTTP"}, "spec.api.usagePlans", id="http-api-with-usage-plans"
    ),
    pytest.param({"spec__container__port": "eighty"}, "spec.container.port", id="wrong-type"),
    pytest.param({"spec__container__portt": 80}, "spec.container.portt", id="unknown-field"),
    pytest.param({"metadata__name": "x" * 41}, "metadata.name", id="name-too-long"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_invalid_specs_exit_1_naming_the_field_with_no_aws_call(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_aws: None,
    command: str,
    change: dict[str, Any],
    field: str,
):
    """Each broken rule: exit 1, a message naming the field with file and line, no AWS call."""
    path = _write(tmp_path, orders(**change))
    assert cli.main([command, "-f", path]) == 1
    err = capsys.readouterr().err
    assert field in err
    assert f"{path}:" in err


def test_validate_prints_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Several broken rules in one document: one line each, each naming its field."""
    doc = orders(
        spec__loadBalancer__staticIps=True,
        spec__api__type="HTTP",
        spec__loadBalancer__listener={"port": 443, "protocol": "TLS"},
    )
    assert cli.main(["validate", "-f", _write(tmp_path, doc)]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    fields = sorted(line.split(": ")[1] for line in lines)
    assert fields == [
        "spec.api.apiKeyRequired",
        "spec.api.usagePlans",
        "spec.loadBalancer.listener.certificateArn",
        "spec.loadBalancer.staticIps",
    ]


def test_validate_warns_on_rule_7_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """A deregistration delay longer than stopTimeout + 30 is a warning, not an error."""
    doc = orders(spec__loadBalancer__targetGroup={"deregistrationDelaySeconds": 300})
    assert cli.main(["validate", "-f", _write(tmp_path, doc)]) == 0
    assert "warning" in capsys.readouterr().err


def test_the_contract_examples_validate(capsys: pytest.CaptureFixture[str]):
    """All five examples of the contract are valid specs."""
    assert cli.main(["validate", "-f", str(EXAMPLES)]) == 0
    assert capsys.readouterr().out.count(": valid") == 5


def test_features_of_a_later_version_are_refused_before_any_aws_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_aws: None
):
    """A valid spec this version cannot build fully (Service Connect on EC2 bridge tasks)
    changes nothing and says why."""
    doc = yaml.safe_load((EXAMPLES / "billing-ec2-fixed-ports.yaml").read_text())
    doc["spec"]["service"]["serviceConnect"] = {
        "namespace": "finance.internal",
        "discoveryName": "billing",
        "port": 8080,
    }
    path = _write(tmp_path, doc)
    assert cli.main(["validate", "-f", path]) == 0
    assert cli.main(["apply", "-f", path]) == 1
    assert "spec.service.serviceConnect: Service Connect on EC2" in capsys.readouterr().err


def test_plan_apply_status_delete_through_the_command_line(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The contract's exit statuses and JSON documents, end to end."""
    path = _write(tmp_path, orders())
    assert cli.main(["plan", "-f", path, "--detailed-exitcode"]) == 2
    capsys.readouterr()
    assert cli.main(["apply", "-f", path, "--timeout", "60", "-o", "json"]) == 0
    applied = json.loads(capsys.readouterr().out)
    assert applied["items"][0]["converged"] is True
    assert cli.main(["plan", "-f", path, "--detailed-exitcode", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "items": [{"name": "orders", "namespace": "shop", "changes": []}]
    }
    assert cli.main(["status", "-f", path, "-o", "json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)["items"]
    status = doc["status"]
    assert status["phase"] == "Ready"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "Synced": "True",
        "Drifted": "False",
        "Degraded": "False",
    }
    assert status["endpoint"].startswith("https://")
    assert status["endpoint"].endswith("/prod")
    assert status["loadBalancerDnsName"]
    assert {"nlb", "target-group", "ecs-service", "vpc-link", "rest-api"} <= set(
        status["resources"]
    )
    assert set(status) == {
        "observedGeneration",
        "phase",
        "conditions",
        "endpoint",
        "loadBalancerDnsName",
        "resources",
        "lastReconcileTime",
        "drift",
    }
    assert cli.main(["delete", "-f", path, "--timeout", "60"]) == 0
    capsys.readouterr()
    assert cli.main(["status", "-f", path, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["status"]["phase"] == "Pending"
