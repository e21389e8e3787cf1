"""`psctl doctor` end to end on the sandbox: every form prints the chain hop by hop (text and the
contract's JSON), the exit status follows the findings, a full run sends no mutating call (the
sandbox's own call log), and bad input is one line with exit 2. No test here depends on which
checks exist: the check families have their own tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from boto3_chain import build

from controller.aws.session import is_mutating
from controller.cli import main
from controller.doctor.model import CODES, HOPS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ORDERS = str(EXAMPLES / "orders-rest-nlb.yaml")


def _doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["doctor", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = _doctor(capsys, *argv, "-o", "json")
    return code, json.loads(out)


def _assert_contract_shape(doc: dict[str, Any], code: int) -> None:
    """The contract's document, and an exit status that agrees with its findings."""
    assert set(doc) == {"chains"}
    for chain in doc["chains"]:
        assert {"target", "healthy", "hops", "findings"} <= set(chain)
        for hop in chain["hops"]:
            assert set(hop) == {"hop", "resource", "status"}
            assert hop["hop"] in HOPS
            assert hop["status"] in {"ok", "warning", "problem", "unknown"}
        for f in chain["findings"]:
            assert {"code", "severity", "hop", "resource", "message", "why", "fix"} <= set(f)
            assert CODES[f["code"]] == f["severity"]
        order = [HOPS.index(h["hop"]) for h in chain["hops"]]
        assert order == sorted(order)
    errors = any(f["severity"] == "error" for c in doc["chains"] for f in c["findings"])
    assert code == (1 if errors else 0)


def test_a_boto3_chain_from_its_rest_api_in_json(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """--rest-api -o json: one chain, every hop from the API to the network, contract shape."""
    chain = build(aws)
    code, doc = _json(capsys, "--rest-api", chain.api_id)
    _assert_contract_shape(doc, code)
    (only,) = doc["chains"]
    assert only["target"] == f"rest-api/{chain.api_id}"
    kinds = [h["hop"] for h in only["hops"]]
    assert kinds == [
        "api",
        "stage",
        "vpc-link",
        "nlb",
        "nlb-listener",
        "nlb-target-group",
        "service",
        "tasks",
        "network",
    ]


def test_the_text_picture_has_one_line_per_hop_and_no_colour_off_a_terminal(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text: a title line, then one line per hop with its mark and resource; -v adds the calls;
    captured output is not a terminal, so no escape codes."""
    chain = build(aws)
    code, out, _ = _doctor(capsys, "--load-balancer", chain.nlb_name, "-v")
    assert code in (0, 1)
    lines = out.splitlines()
    assert lines[0].startswith(f"load-balancer/{chain.nlb_name}: ")
    hop_lines = [line for line in lines[1:] if line.startswith(("  ├─", "  └─"))]
    assert len(hop_lines) == 7
    assert any("service/tf-orders/tf-orders" in line for line in hop_lines)
    assert all(line.split()[1] in {"✓", "!", "✗", "?"} for line in hop_lines)
    assert "\033[" not in out
    assert "AWS calls:" in out
    assert "elbv2:DescribeLoadBalancers" in out


def test_a_full_run_sends_no_mutating_call(
    aws: Any, sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every call the sandbox served during doctor runs from each form is a read."""
    chain = build(aws)
    sandbox.clear_call_log()
    for argv in (
        ["--rest-api", chain.api_id],
        ["--load-balancer", chain.nlb_arn],
        ["--ecs-service", f"{chain.cluster}/{chain.service}"],
    ):
        code, _, err = _doctor(capsys, *argv)
        assert code in (0, 1), err
    calls = sandbox.call_log()
    assert len(calls) > 20
    assert [f"{c.service}:{c.operation}" for c in calls if is_mutating(c.operation)] == []


def test_an_applied_example_is_diagnosed_from_its_spec(
    aws: Any, sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed-000 example applied with psctl, then `doctor -f`: the spec's chain (owned), every
    hop of its shape, no mutating call, within ~60 reads."""
    assert main(["apply", "-f", ORDERS, "--timeout", "120"]) == 0
    capsys.readouterr()
    sandbox.clear_call_log()
    code, doc = _json(capsys, "-f", ORDERS, "-v")
    _assert_contract_shape(doc, code)
    (only,) = doc["chains"]
    assert only["target"] == "shop/orders"
    kinds = list(dict.fromkeys(h["hop"] for h in only["hops"]))
    assert kinds == [
        "api",
        "stage",
        "vpc-link",
        "nlb",
        "nlb-listener",
        "nlb-target-group",
        "service",
        "tasks",
        "network",
    ]
    calls = sandbox.call_log()
    assert [c.operation for c in calls if is_mutating(c.operation)] == []
    assert sum(only["calls"].values()) == len(calls)
    assert len(calls) <= 60


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--rest-api", "nope123456"], "REST API nope123456 not found"),
        (
            [
                "--load-balancer",
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/gwy/g/1",
            ],
            "not a network or application load balancer",
        ),
        (["-f", ORDERS], "shop/orders: the chain does not exist yet"),
        (["--ecs-service", "nocluster"], "CLUSTER/SERVICE"),
        (["--stage", "prod", "--http-api", "x"], "--stage goes with --rest-api"),
        ([], "doctor takes one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    aws: Any, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """An unknown API id, another kind of load balancer, a spec not applied yet, a malformed
    service, options that do not go together: exit 2, one line on stderr, no traceback."""
    code, out, err = _doctor(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert says in err
    assert "Traceback" not in err
