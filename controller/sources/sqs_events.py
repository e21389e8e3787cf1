"""The SQS event source: CloudTrail events that an EventBridge rule sends to a queue.

`psctl run --events sqs://QUEUE_URL` (the URL as SQS gives it, e.g.
`sqs://https://sqs.us-east-1.amazonaws.com/123456789012/psctl-events`, or `sqs://` followed by
the host and path) builds one. Each `receive` long-polls the queue in a thread (boto3 is
synchronous) and parses every message (`controller.sources.events.parse`): a message that is not
a CloudTrail API-call event becomes a `Delivery` with a problem, never an exception. The runtime
decides what each event means and calls `delete` once it has queued the pass (or dropped the
event). Neighbours: `controller.aws.sqs` (the calls), `controller.ports.events` (the protocol),
`controller.runtime.events` (the consumer), `controller.cli_wiring` (builds it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from controller.aws import sqs
from controller.aws.session import AwsContext
from controller.ports.events import Delivery, Identity
from controller.sources.events import MalformedEventError, parse

SCHEME = "sqs://"


def parse_events_url(value: str) -> str:
    """`sqs://https://sqs.../Q`, `sqs://sqs.../Q` or `sqs://http://127.0.0.1:4566/.../Q` -> the
    queue URL; raises ValueError for anything else."""
    if not value.startswith(SCHEME):
        raise ValueError(f"{value!r}: expected sqs://QUEUE_URL")
    rest = value[len(SCHEME) :]
    url = rest if rest.startswith(("http://", "https://")) else f"https://{rest}"
    host, _, path = url.split("://", 1)[1].partition("/")
    if not host or path.count("/") != 1 or not path.split("/")[1]:
        raise ValueError(f"{value!r}: expected sqs://QUEUE_URL (.../ACCOUNT/QUEUE_NAME)")
    return url


class SqsEventSource:
    """CloudTrail events from one SQS queue."""

    def __init__(
        self, url: str, aws: AwsContext, wait_seconds: int = sqs.LONG_POLL_SECONDS
    ) -> None:
        self.url, self.aws, self.wait_seconds = url, aws, wait_seconds
        self.name = f"sqs://{url}"

    async def receive(self) -> list[Delivery]:
        """The next batch of messages, each parsed (long poll, in a thread)."""
        messages = await asyncio.to_thread(sqs.receive, self.aws, self.url, self.wait_seconds)
        out: list[Delivery] = []
        for message in messages:
            receipt = str(message.get("ReceiptHandle", ""))
            try:
                out.append(Delivery(receipt, parse(str(message.get("Body", "")))))
            except MalformedEventError as exc:
                out.append(Delivery(receipt, None, str(exc)))
        return out

    async def delete(self, receipts: Sequence[str]) -> None:
        """Delete handled messages (in a thread)."""
        if receipts:
            await asyncio.to_thread(sqs.delete, self.aws, self.url, list(receipts))

    async def backlog(self) -> int:
        """ApproximateNumberOfMessages (in a thread)."""
        return await asyncio.to_thread(sqs.backlog, self.aws, self.url)

    async def identity(self) -> Identity:
        """The controller's caller identity: STS GetCallerIdentity and the signing key."""
        arn, key = await asyncio.to_thread(sqs.caller_identity, self.aws)
        return Identity(arn, key)
