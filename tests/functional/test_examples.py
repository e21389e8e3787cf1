"""Each of the five contract examples, in a sandbox-like account: apply converges, a second apply
makes no mutating call, and delete leaves nothing owned (Retain keeps everything)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chain import EXAMPLES, apply, context, delete, owned_everywhere, spec

from controller import cli
from controller.reconcile.runner import Reconciler
from controller.reconcile.status import compute
from controller.sandbox import examples


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_lifecycle(aws: Any, path: Path, capsys: pytest.CaptureFixture[str]):
    """apply -> Ready; re-apply -> 0 mutating calls; delete -> nothing owned (or all kept)."""
    examples.prepare(aws)
    doc = yaml.safe_load(path.read_text())
    ps = spec(doc)
    owner = ps.owner
    ctx = context(aws.endpoint_url, aws.region)
    result = apply(ps, ctx, timeout=90)
    assert result.converged, result.reason
    status = compute(ps, Reconciler(ps, ctx).plan(), aws.region)
    assert status["phase"] == "Ready", status["conditions"]
    if ps.spec.api is not None:
        assert status["endpoint"].startswith("https://")
    if ps.spec.load_balancer.static_ips:
        assert len(status["staticIps"]) == len(aws.network.public_subnet_ids)
    if ps.spec.api is not None and ps.spec.api.custom_domain is not None:
        assert status["customDomain"]["target"]
    assert cli.main(["status", "-f", str(path)]) == 0
    text = capsys.readouterr().out
    assert f"{owner}: Ready" in text
    assert ("static IPs (for allow-lists)" in text) == bool(status.get("staticIps"))
    assert ("-> CNAME" in text) == bool(status.get("customDomain"))
    before = ctx.counter.mutating()
    again = apply(ps, ctx)
    assert again.converged
    assert again.passes == 1
    assert ctx.counter.mutating() - before == {}
    owned = owned_everywhere(aws, owner)
    assert owned
    assert delete(ps, ctx, timeout=90).converged
    if ps.spec.deletion_policy == "Retain":
        assert owned_everywhere(aws, owner) == owned
    else:
        assert owned_everywhere(aws, owner) == {}
