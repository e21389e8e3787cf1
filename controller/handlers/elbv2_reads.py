"""Reads that every ELBv2 handler of every spec shares: the account's load balancers and target
groups as one paged list each, and their tags in fixed chunks of 20 ARNs of both lists.

A spec's load balancer and target group are found by name in those lists instead of one
Describe by name per spec; tags are read with DescribeTags over the chunk of the sorted list that
holds the ARN, so every spec whose resource sits in the same chunk shares that one call
(DescribeTags takes at most 20 ARNs:
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html).
With the read snapshot (`controller.aws.cache`) a list or a chunk is read once for all specs.
`all_tags` reads every chunk: the owner-tag sweep of load balancers and target groups.
Neighbours: `elbv2_load_balancer`, `elbv2_target_group`, `elbv2_listener` (the users).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_elbv2.type_defs import PaginatorConfigTypeDef

PAGE: PaginatorConfigTypeDef = {
    "PageSize": 400
}  # the most DescribeLoadBalancers / DescribeTargetGroups return a page
TAGS_PER_CALL = 20


def load_balancers(client: ElasticLoadBalancingv2Client) -> list[dict[str, Any]]:
    """Every load balancer of the account and region."""
    pages = client.get_paginator("describe_load_balancers").paginate(PaginationConfig=PAGE)
    return [dict(lb) for page in pages for lb in page.get("LoadBalancers", [])]


def target_groups(client: ElasticLoadBalancingv2Client) -> list[dict[str, Any]]:
    """Every target group of the account and region."""
    pages = client.get_paginator("describe_target_groups").paginate(PaginationConfig=PAGE)
    return [dict(tg) for page in pages for tg in page.get("TargetGroups", [])]


def chunk_tags(client: ElasticLoadBalancingv2Client, arn: str) -> dict[str, str]:
    """Tags of a load balancer or target group, read with the others in its chunk of the sorted
    ARNs of every load balancer and target group (one call for a spec's pair, shared by every
    spec in the chunk)."""
    arns = [lb["LoadBalancerArn"] for lb in load_balancers(client)]
    arns += [tg["TargetGroupArn"] for tg in target_groups(client)]
    ordered = sorted(set(arns) | {arn})
    start = ordered.index(arn) // TAGS_PER_CALL * TAGS_PER_CALL
    return tags_of(client, ordered[start : start + TAGS_PER_CALL]).get(arn, {})


def all_tags(client: ElasticLoadBalancingv2Client) -> dict[str, dict[str, str]]:
    """ARN -> tags of every load balancer and target group, in the same chunks `chunk_tags`
    reads (so, within the read snapshot, the sweep and the specs' observes share each call)."""
    arns = [lb["LoadBalancerArn"] for lb in load_balancers(client)]
    arns += [tg["TargetGroupArn"] for tg in target_groups(client)]
    ordered = sorted(set(arns))
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(ordered), TAGS_PER_CALL):
        out |= tags_of(client, ordered[start : start + TAGS_PER_CALL])
    return out


def tags_of(client: ElasticLoadBalancingv2Client, arns: list[str]) -> dict[str, dict[str, str]]:
    """ARN -> tags, 20 ARNs a call."""
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(arns), TAGS_PER_CALL):
        for desc in client.describe_tags(ResourceArns=arns[i : i + TAGS_PER_CALL])[
            "TagDescriptions"
        ]:
            out[desc["ResourceArn"]] = {t["Key"]: t.get("Value", "") for t in desc.get("Tags", [])}
    return out
