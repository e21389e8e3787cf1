"""Reads that every ELBv2 handler of every spec shares: the account's load balancers and target
groups as one paged list each, and their tags in fixed chunks of 20 ARNs of both lists.

A spec's load balancer and target group are found by name in those lists instead of one
Describe by name per spec; tags are read with DescribeTags over the chunk of the sorted list that
holds the ARN, so every spec whose resource sits in the same chunk shares that one call
(DescribeTags takes at most 20 ARNs:
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html).
With the read snapshot (`controller.aws.cache`) a list or a chunk is read once for all specs.
`all_tags` reads every chunk: the owner-tag sweep of load balancers and target groups.

Listeners have no account-wide list (DescribeListeners takes one load balancer or listener
ARNs), and a listener someone adds to our load balancer must be seen at every check (reported
as foreign, high): `listeners_with_tags` reads each load balancer's listeners on every pass, but
their tags, once their ARNs are remembered in the context's memo (`AwsContext.memo`), in shared
chunks of 20 of every remembered listener (one DescribeTags per chunk for every spec in it,
through the read snapshot). A new or gone listener is learnt again; a chunk that fails (a
listener of another spec gone) falls back to this load balancer's own tags.
Neighbours: `elbv2_load_balancer`, `elbv2_target_group`, `elbv2_listener` (the users).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_elbv2.type_defs import PaginatorConfigTypeDef

PAGE: PaginatorConfigTypeDef = {
    "PageSize": 400
}  # the most DescribeLoadBalancers / DescribeTargetGroups return a page
TAGS_PER_CALL = 20
LISTENERS_PER_CALL = TAGS_PER_CALL  # listener ARNs in one shared DescribeTags chunk
GONE = ("ListenerNotFound", "LoadBalancerNotFound")
REUSE_SECONDS = 5.0
"""Tags learnt less than this ago are read again as they were (the read snapshot, which keeps
them at least this long, answers it: `aws.cache.PASS_SECONDS`) instead of in a chunk, which
would be one more call in the same pass."""


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


class ListenerMemo:
    """Load balancer ARN -> (its listener ARNs at the last full read, when), for every spec
    of one AWS context (thread-safe: handlers run in worker threads)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[frozenset[str], float]] = {}
        self._lock = threading.Lock()

    def learn(self, lb_arn: str, listener_arns: list[str]) -> None:
        """A full read of `lb_arn` found these listeners."""
        with self._lock:
            self._known[lb_arn] = (frozenset(listener_arns), time.monotonic())

    def drop(self, lb_arn: str) -> None:
        """Read `lb_arn` in full next time."""
        with self._lock:
            self._known.pop(lb_arn, None)

    def drop_holding(self, listener_arns: list[str]) -> None:
        """Read in full every load balancer holding one of these listeners (a chunk that
        failed: one of them is gone, perhaps with a spec that will not read it again)."""
        gone = set(listener_arns)
        with self._lock:
            for lb_arn in [lb for lb, (arns, _) in self._known.items() if arns & gone]:
                del self._known[lb_arn]

    def chunks_for(self, lb_arn: str) -> list[list[str]] | None:
        """The chunks of every remembered listener ARN that hold `lb_arn`'s, or None when its
        tags are read on their own (never learnt, none there, or learnt so recently that the
        snapshot still holds that read)."""
        with self._lock:
            mine = self._known.get(lb_arn)
            age = time.monotonic() - mine[1] if mine is not None else 0.0
            if mine is None or not mine[0] or age < REUSE_SECONDS:
                return None
            ordered = sorted(arn for arns, _ in self._known.values() for arn in arns)
        starts = sorted({ordered.index(a) // LISTENERS_PER_CALL for a in mine[0]})
        return [ordered[i * LISTENERS_PER_CALL : (i + 1) * LISTENERS_PER_CALL] for i in starts]

    def known(self, lb_arn: str) -> frozenset[str]:
        """The listener ARNs of `lb_arn` at its last full read (empty: none remembered)."""
        with self._lock:
            return self._known.get(lb_arn, (frozenset(), 0.0))[0]


def listener_memo(memo: dict[str, Any] | None) -> ListenerMemo | None:
    """The context's listener memo (None without one: always read in full)."""
    if memo is None:
        return None
    found: ListenerMemo = memo.setdefault("listeners", ListenerMemo())
    return found


def listeners_with_tags(
    client: ElasticLoadBalancingv2Client, memo: ListenerMemo | None, lb_arn: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """`lb_arn`'s listeners (DescribeListeners by load balancer, every time: its
    LoadBalancerNotFound reaches the caller) and ARN -> tags of them (in shared chunks once
    learnt)."""
    listeners: list[dict[str, Any]] = [
        dict(li) for li in client.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    ]
    arns: list[str] = [li["ListenerArn"] for li in listeners]
    if not arns:
        return listeners, {}
    if memo is None:
        return listeners, tags_of(client, arns)
    if memo.known(lb_arn) != frozenset(arns):
        memo.learn(lb_arn, arns)  # a new or gone listener: its own tags this time
    chunks = memo.chunks_for(lb_arn)
    if chunks is not None:
        tags: dict[str, dict[str, str]] = {}
        try:
            for chunk in chunks:
                tags |= tags_of(client, chunk)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in GONE:
                raise
            memo.drop_holding([arn for chunk in chunks for arn in chunk])
        else:
            return listeners, {arn: tags.get(arn, {}) for arn in arns}
    return listeners, tags_of(client, arns)
