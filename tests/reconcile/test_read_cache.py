"""The read cache: identical API Gateway reads within the TTL are one call; writes invalidate."""

from __future__ import annotations

import time
from typing import Any

from controller.aws.session import AwsContext, AwsSettings


def _ctx(aws: Any, ttl: float) -> AwsContext:
    return AwsContext(
        AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url, read_cache_seconds=ttl)
    )


def _calls(ctx: AwsContext, operation: str) -> int:
    return ctx.counter.snapshot()[("apigateway", operation)]


def test_identical_reads_within_the_ttl_are_one_call_and_answers_are_copies(aws: Any):
    """Three GetUsagePlans in a row: one call; mutating an answer does not touch the next one."""
    ctx = _ctx(aws, 30)
    client = ctx.client("apigateway")
    client.create_usage_plan(name="p")
    first = client.get_usage_plans()
    first["items"].clear()
    assert [p["name"] for p in client.get_usage_plans()["items"]] == ["p"]
    client.get_usage_plans()
    assert _calls(ctx, "GetUsagePlans") == 1
    assert ctx.cache is not None
    assert ctx.cache.hits == 2
    assert ctx.counter.outcomes[("apigateway", "GetUsagePlans", "ok")] == 1


def test_a_write_on_the_service_invalidates_and_the_ttl_expires(aws: Any):
    """Our own write is seen at once; a change made elsewhere is seen after the TTL."""
    ctx = _ctx(aws, 0.5)
    client = ctx.client("apigateway")
    assert client.get_usage_plans()["items"] == []
    client.create_usage_plan(name="ours")
    assert [p["name"] for p in client.get_usage_plans()["items"]] == ["ours"]
    aws.client("apigateway").create_usage_plan(name="theirs")  # behind our back
    assert len(client.get_usage_plans()["items"]) == 1  # within the TTL: the cached view
    time.sleep(0.6)
    assert len(client.get_usage_plans()["items"]) == 2
    assert _calls(ctx, "GetUsagePlans") == 3


def test_no_cache_unless_asked(aws: Any):
    """The one-shot commands read AWS every time (read_cache_seconds 0)."""
    ctx = _ctx(aws, 0)
    client = ctx.client("apigateway")
    client.get_usage_plans()
    client.get_usage_plans()
    assert ctx.cache is None
    assert _calls(ctx, "GetUsagePlans") == 2
