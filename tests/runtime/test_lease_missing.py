"""A deleted lease is one held by an unknown holder for a whole term (issue 11, item 4): a
standby does not lead until it has seen it missing for `duration`, so the deposed leader (which
may write until its own deadline) and the new one never overlap. DynamoDB on the sandbox, 4 s
terms; the Kubernetes Lease: tests/kube/test_kube_lease_missing.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from runtime.harness import eventually
from runtime.test_runtime_lease import TABLE, TERM
from runtime.test_runtime_lease import _pair as dynamo_pair


async def _watch(a: Any, b: Any, seconds: float) -> float | None:
    """Sample every 20 ms: never two leaders; when someone led again (monotonic), or None."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        leading = [r for r in (a, b) if r.lease.is_leader]
        assert len(leading) < 2, "two leaders at once"
        if leading:
            return time.monotonic()
        await asyncio.sleep(0.02)
    return None


async def test_a_deleted_dynamodb_item_is_waited_out_for_a_term(aws: Any) -> None:
    """Delete the item under a leader: the leader stops at its next renew, nobody leads for a
    whole term after the deletion, then one does."""
    leader, standby = await dynamo_pair(aws)
    # the standby has read the lease since it was made (one that was made and deleted between
    # two of its reads looks to it like one missing all along: a limit of this rule)
    await asyncio.sleep(TERM["renew_every"] * 1.5)
    aws.client("dynamodb").delete_item(
        TableName=TABLE, Key={"pk": {"S": "privateservice-controller"}}
    )
    deleted_at = time.monotonic()
    await eventually(lambda: not leader.lease.is_leader, 5, "the leader to notice", every=0.02)
    again = await _watch(leader, standby, 15)
    assert again is not None
    assert again - deleted_at >= TERM["duration"] - 0.1
    await leader.stop()
    await standby.stop()


async def test_a_clean_dynamodb_release_still_hands_over_at_once(aws: Any) -> None:
    """The release lapses the item instead of deleting it: the standby takes it at its next try."""
    leader, standby = await dynamo_pair(aws)
    released_at = time.monotonic()
    await leader.stop()
    await eventually(lambda: standby.lease.is_leader, 5, "the standby to take over", every=0.02)
    assert (standby.lease.acquired_at or 0) - released_at < TERM["renew_every"] + 1
    await standby.stop()
