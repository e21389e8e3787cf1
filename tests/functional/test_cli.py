"""psctl as a user runs it: exit statuses, JSON shapes, no AWS call for bad input, --parallel."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
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


def _directory(tmp_path: Path, *docs: dict[str, Any]) -> str:
    folder = tmp_path / "specs"
    folder.mkdir()
    for doc in docs:
        _write(folder, doc, f"{doc['metadata']['name']}.yaml")
    return str(folder)


def test_apply_and_delete_a_directory_in_parallel(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Two specs of a directory with --parallel 2: both converge (one JSON document, items in
    input order), every progress line names its spec; then both are deleted the same way."""
    folder = _directory(
        tmp_path, orders(metadata__name="orders-a"), orders(metadata__name="orders-b")
    )
    args = ["-f", folder, "--parallel", "2", "--timeout", "120"]
    assert cli.main(["apply", *args, "-o", "json"]) == 0
    out, err = capsys.readouterr()
    items = json.loads(out)["items"]
    assert [(i["name"], i["converged"]) for i in items] == [
        ("orders-a", True),
        ("orders-b", True),
    ]
    *lines, summary = [line for line in err.splitlines() if line.strip()]
    assert lines
    assert all(line.startswith(("shop/orders-a: ", "shop/orders-b: ")) for line in lines)
    assert summary.startswith("applied 2 of 2 specs in ")
    done = sorted(lines[-2:])  # each as soon as it is Ready
    for line, item in zip(done, items, strict=True):
        assert line.startswith(f"shop/{item['name']}: Ready: https://")
        assert f"({item['passes']} pass" in line
    assert cli.main(["delete", *args]) == 0
    assert "shop/orders-b: deleted " in capsys.readouterr().err


def test_one_invalid_spec_among_several_stops_a_parallel_apply_before_any_aws_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_aws: None
):
    """Validation of every spec still comes first: one broken document, exit 1, no AWS call."""
    folder = _directory(
        tmp_path,
        orders(metadata__name="orders-a"),
        orders(metadata__name="orders-b", spec__container__memory=3000),
    )
    assert cli.main(["apply", "-f", folder, "--parallel", "2"]) == 1
    assert "spec.container.memory" in capsys.readouterr().err


def test_parallel_specs_run_at_once_and_a_failure_fails_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """With --parallel 2 both specs are in flight together (a barrier only two concurrent
    applies pass); one spec's error is its own result: the other is reported, exit 1."""
    from controller.errors import ControllerError
    from controller.reconcile.engine import Outcome
    from controller.reconcile.runner import Result

    both = threading.Barrier(2, timeout=30)

    class Fake:
        def __init__(self, ps: Any, _aws: Any) -> None:
            self.ps = ps
            self.engine = SimpleNamespace(downtime_policy="allow")

        def plan(self) -> Outcome:
            return Outcome()  # apply's dry pass looking for downtime: none

        def apply(self, _timeout: float, _progress: Any) -> Result:
            both.wait()
            if self.ps.metadata.name == "orders-a":
                raise ControllerError("orders-a cannot be built")
            return Result(Outcome(), passes=1, converged=True)

    monkeypatch.setattr(cli_aws, "Reconciler", Fake)
    monkeypatch.setattr(cli_aws, "AwsContext", lambda *_: object())
    folder = _directory(
        tmp_path, orders(metadata__name="orders-a"), orders(metadata__name="orders-b")
    )
    assert cli.main(["apply", "-f", folder, "--parallel", "2", "-o", "json"]) == 1
    out, err = capsys.readouterr()
    items = json.loads(out)["items"]
    assert [(i["name"], i["converged"]) for i in items] == [
        ("orders-a", False),
        ("orders-b", True),
    ]
    assert items[0]["reason"] == "orders-a cannot be built"
    *lines, summary = err.splitlines()
    assert sorted(lines) == [
        "shop/orders-a: not converged: orders-a cannot be built",
        "shop/orders-b: Pending: (1 pass, 0 s)",  # the fake's outcome has no resource
    ]
    assert summary.startswith("applied 1 of 2 specs in ")
    assert summary.endswith("; not applied: shop/orders-a")
