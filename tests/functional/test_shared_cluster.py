"""A cluster two specs share (issue 11, item 6): deleting the spec that created it never deletes
it while the other spec's service is ACTIVE in it; its ownership passes to that spec, whose own
delete then removes it."""

from __future__ import annotations

from typing import Any

from chain import apply, delete, orders, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext


def _no_api(name: str) -> Any:
    doc = orders(metadata__name=name)
    del doc["spec"]["api"]  # the NLB chain is enough: the cluster is what is shared
    return spec(doc)


def _cluster(aws: Any) -> dict[str, Any] | None:
    found = aws.client("ecs").describe_clusters(clusters=["shop"], include=["TAGS"])["clusters"]
    active = [c for c in found if c["status"] == "ACTIVE"]
    return dict(active[0]) if active else None


def test_the_shared_cluster_outlives_its_creator_and_passes_to_the_other_spec(
    aws: Any, ctx: AwsContext
) -> None:
    """orders-a creates cluster `shop`, orders-b runs in it too; deleting orders-a keeps the
    cluster (orders-b's service is ACTIVE) and tags it as orders-b's; deleting orders-b then
    deletes it."""
    assert apply(_no_api("orders-a"), ctx).converged
    assert apply(_no_api("orders-b"), ctx).converged
    made = _cluster(aws)
    assert made is not None
    assert ownership.from_list(made["tags"])[ownership.OWNER] == "shop/orders-a"

    assert delete(_no_api("orders-a"), ctx).converged
    kept = _cluster(aws)
    assert kept is not None
    assert ownership.from_list(kept["tags"])[ownership.OWNER] == "shop/orders-b"
    services = aws.client("ecs").list_services(cluster="shop")["serviceArns"]
    described = aws.client("ecs").describe_services(cluster="shop", services=services)["services"]
    assert [s["serviceName"] for s in described if s["status"] == "ACTIVE"] == ["ps-shop-orders-b"]

    assert delete(_no_api("orders-b"), ctx).converged
    assert _cluster(aws) is None
