"""`psctl plan` exits 1 when it meets a conflict (issue 11, item 9): a resource at our name
without our owner tag means apply cannot succeed, with or without --detailed-exitcode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chain import orders

from controller import cli


def test_plan_exits_1_on_a_conflict_and_names_it(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh spec plans with 0 (2 for changes with --detailed-exitcode); once a REST API of
    someone else holds our name, plan exits 1 either way and says which resource conflicts."""
    spec = tmp_path / "orders.yaml"
    spec.write_text(yaml.safe_dump(orders()))
    assert cli.main(["plan", "-f", str(spec)]) == 0
    assert cli.main(["plan", "-f", str(spec), "--detailed-exitcode"]) == 2
    capsys.readouterr()

    foreign = aws.client("apigateway").create_rest_api(name="shop/orders")["id"]
    assert cli.main(["plan", "-f", str(spec)]) == 1
    assert cli.main(["plan", "-f", str(spec), "--detailed-exitcode"]) == 1
    err = capsys.readouterr().err
    assert f"shop/orders: rest-api: {foreign} exists at our name without owner tag" in err
