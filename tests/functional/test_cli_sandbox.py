"""`psctl apply` and `delete` as a user runs them (issue 15), in a subprocess against the
sandbox: apply says when a spec is Ready and where; a Retain delete returns at once saying what
it kept, even with its authorizer function gone; `delete -o json` lists what was deleted."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import yaml
from chain import EXAMPLES, apply, orders, spec

from controller.aws.session import AwsContext

ROOT = Path(__file__).parents[2]


def psctl(aws: Any, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`psctl ARGS` in a subprocess pointed at the sandbox."""
    return subprocess.run(
        [sys.executable, "-m", "controller", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=os.environ | aws.env,
        check=False,
    )


def _function(aws: Any) -> None:
    """The ledger's authorizer function (not ours: deployed by the platform team)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => ({});")
    role = aws.client("iam").create_role(
        RoleName="ledger-authorizer", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    aws.client("lambda").create_function(
        FunctionName="ledger-authorizer",
        Runtime="nodejs20.x",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": buf.getvalue()},
    )


def test_retain_delete_returns_at_once_even_without_its_authorizer(
    aws: Any, ctx: AwsContext, tmp_path: Path
):
    """The ledger example (deletionPolicy Retain) applied, then its authorizer function deleted
    by someone else: delete exits 0 within seconds (it looped on "function ... does not exist"
    for the whole 900 s timeout), says what it kept, and deletes nothing."""
    _function(aws)
    doc = yaml.safe_load((EXAMPLES / "ledger-private-api.yaml").read_text())
    assert apply(spec(doc), ctx).converged
    aws.client("lambda").delete_function(FunctionName="ledger-authorizer")
    before = ctx.counter.mutating()

    started = time.monotonic()
    done = psctl(aws, "delete", "-f", str(EXAMPLES / "ledger-private-api.yaml"), "-o", "json")
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert elapsed < 30, elapsed
    (item,) = json.loads(done.stdout)["items"]
    kept = item["changes"]
    assert kept
    assert {c["action"] for c in kept} == {"retain"}
    assert f"finance/ledger: kept {len(kept)} resource(s) (deletionPolicy Retain)" in done.stderr
    assert "nothing deleted" in done.stderr
    assert ctx.counter.mutating() - before == {}


def test_delete_json_lists_what_was_deleted(aws: Any, ctx: AwsContext, tmp_path: Path):
    """`delete -o json` lists every resource it deleted (it printed "changes": [])."""
    doc = orders()
    assert apply(spec(doc), ctx).converged
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(doc))

    done = psctl(aws, "delete", "-f", str(path), "-o", "json", "--timeout", "120")

    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout)["items"]
    deleted = [c for c in item["changes"] if c["action"] == "delete"]
    assert len(deleted) >= 15
    assert {"nlb", "target-group", "rest-api"} <= {c["key"] for c in deleted}
    assert f"shop/orders: deleted {len(deleted)} resource(s) (" in done.stderr


def test_apply_says_when_the_spec_is_ready_and_where(aws: Any, tmp_path: Path):
    """ "shop/orders: Ready: https://... (N passes, S s)" once the spec converged."""
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(orders()))

    done = psctl(aws, "apply", "-f", str(path), "--timeout", "120")

    assert done.returncode == 0, done.stderr
    *progress, last = done.stderr.strip().splitlines()
    creates = [line for line in progress if line.startswith("shop/orders: + create")]
    assert creates
    assert all(re.search(r" \[\s*\d+s\]$", line) for line in creates)  # elapsed so far
    assert re.fullmatch(
        r"shop/orders: Ready: https://\w+\.execute-api\.us-east-1\.amazonaws\.com/prod "
        r"\(\d+ passes, \d+ s\)",
        last,
    ), last


def _private(name: str) -> dict[str, Any]:
    """The ledger example as `finance/<name>`, deletionPolicy Delete, without its authorizer."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "ledger-private-api.yaml").read_text())
    doc["metadata"]["name"] = name
    doc["spec"]["deletionPolicy"] = "Delete"
    del doc["spec"]["api"]["authorizer"]
    return doc


def _execute_api_endpoints(aws: Any) -> list[dict[str, Any]]:
    found = aws.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": ["com.amazonaws.us-east-1.execute-api"]}]
    )["VpcEndpoints"]
    return [e for e in found if e["State"].lower() not in ("deleted", "deleting")]


def test_the_execute_api_endpoint_is_kept_while_another_private_api_uses_it(
    aws: Any, ctx: AwsContext, tmp_path: Path
):
    """Two PRIVATE APIs in one VPC: deleting the service that created the execute-api endpoint
    keeps it (and says so) and hands it to the other, whose delete then removes it."""
    first, second = _private("ledger-a"), _private("ledger-b")
    for doc in (first, second):
        assert apply(spec(doc), ctx).converged
    (endpoint,) = _execute_api_endpoints(aws)
    paths = {}
    for doc in (first, second):
        paths[doc["metadata"]["name"]] = tmp_path / f"{doc['metadata']['name']}.yaml"
        paths[doc["metadata"]["name"]].write_text(yaml.safe_dump(doc))

    done = psctl(aws, "delete", "-f", str(paths["ledger-a"]), "--timeout", "120")

    assert done.returncode == 0, done.stderr
    assert "vpc-endpoint" in done.stderr
    assert "finance/ledger-b owns it now" in done.stderr
    assert "kept vpc-endpoint, vpce-sg (still in use" in done.stderr
    (kept,) = _execute_api_endpoints(aws)
    assert kept["VpcEndpointId"] == endpoint["VpcEndpointId"]
    assert {t["Key"]: t["Value"] for t in kept["Tags"]}["privateservice.io/owner"] == (
        "finance/ledger-b"
    )

    done = psctl(aws, "delete", "-f", str(paths["ledger-b"]), "--timeout", "120")

    assert done.returncode == 0, done.stderr
    assert _execute_api_endpoints(aws) == []
    groups = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "tag:privateservice.io/component", "Values": ["vpce-sg"]}]
    )["SecurityGroups"]
    assert groups == []


def test_apply_json_into_a_closed_pipe_is_one_line(aws: Any, tmp_path: Path):
    """`psctl apply -o json | head` where the reader is gone: the apply is done, then one line
    on stderr about the pipe (it was a BrokenPipeError traceback), exit 1."""
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(orders()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "apply", "-f", str(path), "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ | aws.env,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "shop/orders: Ready: https://" in err  # applied all the same
    assert err.strip().splitlines()[-1].startswith("error: the output was closed")
