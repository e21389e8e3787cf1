"""Twenty specs under `psctl run` on a sandbox that enforces AWS's quotas: the controller's API
Gateway rate, read from the sandbox's own call log, never exceeds its budget, and drift is still
corrected.

Time is scaled so that the test runs in about a minute: the sandbox enforces 20 times AWS's
published rates (`--quotas x20`) and the controller's budget runs on a clock 20 times fast, so
every bucket (the account-wide API Gateway one and the per-operation ones: CreateVpcLink 1 per
15 s, CreateDeployment 1 per 5 s, UpdateUsagePlan 1 per 20 s) keeps its published proportions.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import Running, eventually, orders_doc, write

from controller.aws.budget import Budget
from controller.sandbox.calls import max_in_window

SPECS = 20
SPEED = 20.0  # the budget's clock runs this many times faster than the wall clock
APIGW_RATE = 1.5  # the controller's API Gateway share on the budget's clock (AWS: 10/s)
APIGW_BURST = 40 * APIGW_RATE / 10  # the burst scales with the rate (aws.budget)
RESYNC = 5
DELIVERY = 0.5  # seconds a request may take from the budget to the sandbox's log when loaded


def remove_plan_key(aws: Any, name: str) -> None:
    """Take an API key out of the spec's usage plan (every caller of it then gets 403)."""
    apigw = aws.client("apigateway")
    pages = apigw.get_paginator("get_usage_plans").paginate()
    plan = next(p for page in pages for p in page["items"] if p["name"].startswith(f"shop/{name}/"))
    key = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"][0]
    apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])


def _fast_budget() -> Budget:
    return Budget(
        {"apigateway": APIGW_RATE},
        share=1.0,
        clock=lambda: time.monotonic() * SPEED,
        sleep=lambda seconds: time.sleep(seconds / SPEED),
    )


async def test_twenty_specs_stay_within_the_api_gateway_budget_and_drift_is_corrected(
    aws: Any, sandbox: Any, tmp_path: Path
):
    """All 20 become Ready; in no second (and no 10 s) did the sandbox see more API Gateway calls
    than the budget allows (rate x the window, plus the burst, in wall-clock terms, the window
    widened by how late a request may reach the sandbox), it throttled none of them, and a usage
    plan key deleted behind the controller's back is put back. Without the budget the busiest
    second held 78 calls against 52 allowed."""
    for i in range(SPECS):
        write(tmp_path, orders_doc(f"orders-{i:02d}", drift={"resyncSeconds": RESYNC}))
    sandbox.set_quotas(f"x{int(SPEED)}")
    sandbox.clear_call_log()
    try:
        async with Running(
            tmp_path,
            aws,
            budget=_fast_budget(),
            concurrency=4,
            read_budget_per_second=5.0 * SPEED,  # the resync pacing on the same fast clock
        ) as run:
            owners = [f"shop/orders-{i:02d}" for i in range(SPECS)]
            await eventually(
                lambda: all(run.phase(o) == "Ready" for o in owners), 400, "20 specs Ready"
            )
            fixed = run.mutating()
            remove_plan_key(aws, "orders-00")
            await eventually(
                lambda: run.mutating() > fixed and run.phase("shop/orders-00") == "Ready",
                RESYNC + 90,  # generous: the machine may be loaded; typically a few seconds
                "the deleted plan key put back",
            )
        log = sandbox.call_log()
    finally:
        sandbox.set_quotas("off")
    apigw = [c for c in log if c.family == "apigateway"]
    assert len(apigw) > SPECS * 20  # the chains were built through it
    per_second = APIGW_RATE * SPEED
    for window in (1.0, 10.0):  # calls let go within window + DELIVERY can land in one window
        allowed = per_second * (window + DELIVERY) + APIGW_BURST + 1
        assert max_in_window(log, "apigateway", window) <= allowed
    assert [c for c in apigw if c.throttled] == []
