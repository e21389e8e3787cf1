"""The controller on an S3 prefix, and what a permanent failure does (no retry storm)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from harness import Running, eventually, orders_doc, write

RESYNC = 5


async def test_s3_source_brings_specs_to_ready_and_applies_edits(aws: Any):
    """Specs in s3://bucket/prefix: Ready; an edited object is applied (fetched by ETag)."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="specs")
    doc = orders_doc("orders-a", drift={"resyncSeconds": RESYNC})
    s3.put_object(Bucket="specs", Key="prod/orders-a.yaml", Body=yaml.safe_dump(doc).encode())
    s3.put_object(Bucket="specs", Key="other/ignored.yaml", Body=b"not: ours")
    async with Running("s3://specs/prod", aws) as run:
        await eventually(lambda: run.phase("shop/orders-a") == "Ready", 60, "Ready from S3")
        doc["spec"]["service"]["desiredCount"] = 3
        s3.put_object(Bucket="specs", Key="prod/orders-a.yaml", Body=yaml.safe_dump(doc).encode())
        ecs = aws.client("ecs")
        await eventually(
            lambda: (
                ecs.describe_services(cluster="shop", services=["ps-shop-orders-a"])["services"][0][
                    "desiredCount"
                ]
                == 3
            ),
            15,
            "the edit applied",
        )
        assert [i["source"] for i in run.controller.status()["items"]] == [
            "s3://specs/prod/orders-a.yaml#0"
        ]


async def test_a_permanent_failure_is_failed_and_not_retried_in_a_loop(aws: Any, tmp_path: Path):
    """A resource at our name that is not ours: status Failed with the reason, one pass, no storm;
    the other spec goes on."""
    aws.client("elbv2").create_target_group(
        Name="ps-shop-orders-a-tg",
        Protocol="TCP",
        Port=9,
        VpcId=aws.network.vpc_id,
        TargetType="ip",
    )
    write(tmp_path, orders_doc("orders-a", drift={"resyncSeconds": RESYNC}))
    write(tmp_path, orders_doc("orders-b", drift={"resyncSeconds": RESYNC}))
    async with Running(tmp_path, aws, permanent_retry_seconds=600) as run:
        await eventually(lambda: run.phase("shop/orders-a") == "Failed", 30, "Failed")
        await eventually(lambda: run.phase("shop/orders-b") == "Ready", 60, "the other Ready")
        state = run.controller.states["shop/orders-a"]
        passes = state.passes
        await asyncio.sleep(RESYNC + 2)
        assert state.passes == passes  # retried only after permanent_retry_seconds
        ready = next(c for c in state.status["conditions"] if c["type"] == "Ready")
        assert "target-group" in ready["message"]
        assert "owner" in ready["message"]
