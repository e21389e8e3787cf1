"""`apply`/`delete` of several specs (issue 11, item 7): a connection failure that outlasts
botocore's retries on one spec is that spec's result; the others are still attempted, each is
reported by name, and the command exits 1."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import yaml
from botocore.exceptions import EndpointConnectionError
from chain import orders

from controller import cli, cli_aws
from controller.reconcile.engine import Outcome
from controller.reconcile.runner import Result


class _Flaky:
    """A Reconciler whose spec `orders-b` cannot reach AWS at all; the others converge."""

    attempted: ClassVar[list[str]] = []

    def __init__(self, ps: Any, _aws: Any) -> None:
        self.ps = ps
        self.engine = SimpleNamespace(downtime_policy="allow")

    def plan(self) -> Outcome:
        """apply's dry pass looking for downtime: nothing to cut off here."""
        return Outcome()

    def _run(self, _timeout: float, _progress: Any) -> Result:
        _Flaky.attempted.append(self.ps.metadata.name)
        if self.ps.metadata.name == "orders-b":
            raise EndpointConnectionError(endpoint_url="https://apigateway.example")
        return Result(Outcome(), passes=1, converged=True)

    apply = delete = _run


@pytest.mark.parametrize("command", ["apply", "delete"])
def test_one_unreachable_spec_does_not_stop_the_others(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """Three specs in order, the middle one failing: all three attempted, its line names it and
    the cause, the JSON has one item per spec, exit 1."""
    monkeypatch.setattr(cli_aws, "Reconciler", _Flaky)
    monkeypatch.setattr(cli_aws, "AwsContext", lambda *_: object())
    _Flaky.attempted = []
    for name in ("orders-a", "orders-b", "orders-c"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(orders(metadata__name=name)))
    assert cli.main([command, "-f", str(tmp_path), "-o", "json"]) == 1
    out, err = capsys.readouterr()
    assert _Flaky.attempted == ["orders-a", "orders-b", "orders-c"]
    items = json.loads(out)["items"]
    assert [(i["name"], i["converged"]) for i in items] == [
        ("orders-a", True),
        ("orders-b", False),
        ("orders-c", True),
    ]
    verb = "deleted" if command == "delete" else "converged"
    failed = [line for line in err.splitlines() if line.startswith("shop/orders-b:")]
    assert failed == [
        f'shop/orders-b: not {verb}: AWS: Could not connect to the endpoint URL: "https://apigateway.example"'
    ]
