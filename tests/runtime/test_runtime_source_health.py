"""A source whose polls keep failing is reported unhealthy (issue 11, item 2): `/healthz` stays
200 (a liveness probe must not restart the controller over a spec file) with `degraded` and the
last error in its detail, `psctl_source_healthy` drops to 0; one good poll puts both back."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

from runtime.harness import Running, eventually

from controller.runtime.polling import SOURCE_UNHEALTHY_AFTER


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode()


async def test_a_crashing_poll_marks_the_source_unhealthy_until_one_succeeds(
    aws: Any, tmp_path: Path
) -> None:
    """Three crashed polls in a row: degraded with the error; then the source recovers."""
    async with Running(tmp_path, aws) as run:
        source = run.controller.source
        real = source.snapshot
        broken = [True]

        async def snapshot() -> Any:
            if broken[0]:
                raise RecursionError("maximum recursion depth exceeded")
            return await real()

        source.snapshot = snapshot  # type: ignore[method-assign]
        await eventually(
            lambda: run.controller.poll_failures >= SOURCE_UNHEALTHY_AFTER, 15, "failed polls"
        )
        status, body = await asyncio.to_thread(_get, f"{run.url}/healthz")
        health = json.loads(body)
        assert status == 200
        assert health["status"] == "degraded"
        assert health["source"]["healthy"] is False
        assert "crashed: RecursionError" in health["source"]["lastError"]
        _, metrics = await asyncio.to_thread(_get, f"{run.url}/metrics")
        assert "psctl_source_healthy 0.0" in metrics
        assert 'psctl_source_poll_failures_total{kind="crashed"}' in metrics

        broken[0] = False
        await eventually(lambda: run.controller.poll_failures == 0, 15, "a good poll")
        _, body = await asyncio.to_thread(_get, f"{run.url}/healthz")
        assert json.loads(body)["status"] == "ok"
        _, metrics = await asyncio.to_thread(_get, f"{run.url}/metrics")
        assert "psctl_source_healthy 1.0" in metrics
