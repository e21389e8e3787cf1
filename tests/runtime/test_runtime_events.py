"""`psctl run --events` on the sandbox: CloudTrail events route drift to its spec within seconds.

The sandbox emulates CloudTrail (controller.sandbox.cloudtrail): alice's writes reach the queue
installed by `psctl events install` about 1 s later; the controller's own (key `testing`) never
do. The backstop is 10 minutes, so whatever is corrected within 5 s was corrected by an event.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from harness import Running, Webhook, eventually, orders_doc, write
from test_runtime_drift import (
    delete_listener,
    desired_count,
    health_path,
    open_task_group,
    remove_plan_key,
)

from controller.aws import events_setup
from controller.aws.session import AwsContext, AwsSettings
from controller.runtime.controller import Controller
from controller.runtime.main import make_dispatcher
from controller.sources.directory import DirectorySource
from controller.sources.sqs_events import SqsEventSource

OWNER = "shop/orders-a"
ALICE = "arn:aws:iam::123456789012:user/alice"


class Alice:
    """`.client(service)` signed with alice's key: her changes are CloudTrail events."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.aws.endpoint_url,
            region_name=self.aws.region,
            aws_access_key_id="alice",
            aws_secret_access_key="alice-secret",  # the sandbox accepts any secret
        )


def with_events(tmp_path: Path, aws: Any, **settings: Any) -> tuple[Running, str]:
    """A controller on one orders spec, reading the installed queue, backstop 10 minutes."""
    installed = events_setup.install(
        AwsContext(AwsSettings(aws.region, endpoint_url=aws.endpoint_url))
    )
    run = Running(
        tmp_path,
        aws,
        **({"full_resync_seconds": 600.0, "read_cache_seconds": 10.0} | settings),
    )
    source = SqsEventSource(installed.queue_url, AwsContext(run.aws.settings), wait_seconds=1)
    run.controller = Controller(
        DirectorySource(tmp_path),
        run.aws,
        run.settings,
        make_dispatcher(run.aws, run.settings),
        None,
        source,
    )
    return run, installed.queue_url


def counted(run: Running, result: str) -> float:
    """psctl_events_received_total{result=...}."""
    assert run.controller.router is not None
    return run.controller.router.metrics.received.labels(result)._value.get()  # type: ignore[attr-defined]


@pytest.fixture
async def webhook() -> Any:
    """A webhook receiver for the alerts."""
    hook = Webhook()
    await hook.start()
    yield hook
    await hook.stop()


async def test_changes_behind_its_back_are_corrected_within_5_s_and_name_who(
    aws: Any, tmp_path: Path, webhook: Webhook
) -> None:
    """Five kinds of change by alice: each corrected within 5 s of her call, alert names her."""
    write(tmp_path, orders_doc("orders-a", alerts={"webhookUrl": webhook.url}))
    run, _ = with_events(tmp_path, aws)
    alice = Alice(aws)
    async with run:
        await eventually(lambda: run.phase(OWNER) == "Ready", 60, "Ready")
        await asyncio.sleep(0.5)  # the last verify pass has finished
        for change in (open_task_group, remove_plan_key, health_path, delete_listener):
            before = len(webhook.received)
            started = time.monotonic()
            change(alice)
            await eventually(lambda b=before: len(webhook.received) > b, 5, change.__name__)
            await eventually(
                lambda: run.phase(OWNER) == "Ready", 5 - (time.monotonic() - started), "Ready"
            )
            alert = webhook.received[-1]
            assert alert["action"] == "corrected"
            assert alert["changedBy"] == ALICE, alert
            assert "changed by " + ALICE in alert["text"]
            assert alert["eventName"]
            assert alert["eventTime"]
        change = desired_count
        before = len(webhook.received)
        change(alice)
        await eventually(lambda: len(webhook.received) > before, 5, "desiredCount corrected")
        assert webhook.received[-1]["eventName"] == "UpdateService"
        status = run.controller.status()
        [item] = status["items"]
        assert item["lastEvent"]["changedBy"] == ALICE
        assert status["events"]["state"] == "ok"
        assert status["events"]["backstopFinds"] == 0


async def test_own_writes_and_unowned_resources_make_no_pass_and_no_call(
    aws: Any, tmp_path: Path
) -> None:
    """The controller's own writes (and an event signed with its key) start no pass; an event
    about a resource no spec owns makes no AWS call; a malformed message is counted."""
    write(tmp_path, orders_doc("orders-a"))
    run, queue = with_events(tmp_path, aws)
    async with run:
        await eventually(lambda: run.phase(OWNER) == "Ready", 60, "Ready")
        await asyncio.sleep(2.0)  # anything the controller's writes could have caused is in
        state = run.controller.states[OWNER]
        passes, calls = state.passes, run.aws.counter.total()
        group = aws.client("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["ps-shop-orders-a-task"]}]
        )["SecurityGroups"][0]["GroupId"]
        sqs = aws.client("sqs")
        for key, ids in (("testing", group), ("alice", "sg-0000000000unowned")):
            record = {
                "eventSource": "ec2.amazonaws.com",
                "eventName": "AuthorizeSecurityGroupIngress",
                "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "userIdentity": {"arn": "arn:aws:iam::123456789012:user/x", "accessKeyId": key},
                "requestParameters": {"groupId": ids},
            }
            body = {"detail-type": "AWS API Call via CloudTrail", "detail": record}
            sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
        sqs.send_message(QueueUrl=queue, MessageBody="{not json")
        await eventually(
            lambda: counted(run, "own") and counted(run, "unowned") and counted(run, "malformed"),
            5,
            "the three messages handled",
        )
        await asyncio.sleep(1.0)
        assert state.passes == passes
        assert run.aws.counter.total() == calls
        assert counted(run, "routed") == 0
        assert (
            int(
                sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"][
                    "ApproximateNumberOfMessages"
                ]
            )
            == 0
        )


async def test_queue_deleted_polling_goes_on_failure_reported_and_recovery(
    aws: Any, tmp_path: Path
) -> None:
    """The queue deleted under it: status and metrics say failed, passes go on; recreated: ok."""
    write(tmp_path, orders_doc("orders-a"))
    run, queue = with_events(tmp_path, aws, events_retry=(0.2, 0.5))
    async with run:
        await eventually(lambda: run.phase(OWNER) == "Ready", 60, "Ready")
        await eventually(lambda: run.controller.status()["events"]["state"] == "ok", 5, "ok")
        sqs = aws.client("sqs")
        sqs.delete_queue(QueueUrl=queue)
        await eventually(
            lambda: run.controller.status()["events"]["state"] == "failed", 5, "failed"
        )
        metrics = run.controller._render_metrics().decode()
        assert "psctl_events_source_up 0.0" in metrics
        assert "psctl_events_source_failures_total" in metrics
        write(tmp_path, orders_doc("orders-a", tags={"team": "x"}))  # the source is still read
        await eventually(
            lambda: run.controller.states[OWNER].spec.spec.tags.get("team") == "x", 5, "change"
        )
        sqs.create_queue(QueueName=queue.rsplit("/", 1)[1])
        await eventually(lambda: run.controller.status()["events"]["state"] == "ok", 5, "back")
        assert "psctl_events_source_up 1.0" in run.controller._render_metrics().decode()
