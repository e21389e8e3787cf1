"""Fencing covers botocore's retries (issue 11, item 4): the write gate is asked before every
HTTP attempt of a mutating call, so a retry after the lease was lost is never sent."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError

from controller.aws.session import AwsContext, AwsSettings
from controller.errors import FencedError


@pytest.mark.parametrize("lease_lost", [True, False])
def test_a_retry_after_the_gate_closed_is_not_sent(aws: Any, lease_lost: bool) -> None:
    """CreateLogGroup's first attempt breaks on the wire, and botocore retries it. When the
    lease is lost meanwhile, the retry is refused (FencedError) and nothing reaches AWS; while
    it is held, the retry is sent and the group made (the control)."""
    ctx = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    leading = [True]
    ctx.write_gate = lambda: leading[0]
    logs = ctx.client("logs")
    session = logs._endpoint.http_session
    sent: list[str] = []
    real_send = session.send

    def counting_send(request: Any) -> Any:
        sent.append(request.url)
        return real_send(request)

    session.send = counting_send
    broken = [False]

    def first_attempt_breaks(request: Any, **_: Any) -> None:
        if not broken[0]:
            broken[0] = True
            leading[0] = not lease_lost  # the lease lapses while the call is in flight
            raise ConnectionClosedError(endpoint_url=request.url)

    logs.meta.events.register_first(
        "before-send.cloudwatch-logs.CreateLogGroup", first_attempt_breaks
    )
    made = aws.client("logs").describe_log_groups
    if lease_lost:
        with pytest.raises(FencedError, match="no longer holds the lease"):
            logs.create_log_group(logGroupName="/ps/fenced")
        assert sent == []
        assert made(logGroupNamePrefix="/ps/fenced")["logGroups"] == []
    else:
        logs.create_log_group(logGroupName="/ps/fenced")
        assert len(sent) == 1  # the retry
        assert len(made(logGroupNamePrefix="/ps/fenced")["logGroups"]) == 1


def test_reads_are_never_fenced(aws: Any) -> None:
    """A standby still reads (plan, status): the gate only guards mutating calls."""
    ctx = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    ctx.write_gate = lambda: False
    assert ctx.client("logs").describe_log_groups()["logGroups"] is not None
    with pytest.raises(FencedError):
        ctx.client("logs").create_log_group(logGroupName="/ps/standby")
