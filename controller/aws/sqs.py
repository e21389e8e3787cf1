"""The SQS calls of the event source, and the controller's own caller identity (synchronous).

`receive` long-polls (WaitTimeSeconds up to 20: "Amazon SQS short and long polling",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html)
for up to 10 messages; `delete` removes handled ones in batches of 10 (DeleteMessageBatch);
`backlog` reads `ApproximateNumberOfMessages`. `caller_identity` is STS GetCallerIdentity's ARN
and the access key the session signs with: CloudTrail puts both in `userIdentity` (`arn`,
`accessKeyId`) of every call the controller makes. The queue's region is taken from its URL
(`https://sqs.<region>.amazonaws.com/<account>/<name>`), else the context's.
Neighbours: `controller.sources.sqs_events` (the caller, from a thread), `session`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from controller.aws.session import AwsContext

MAX_MESSAGES = 10
LONG_POLL_SECONDS = 20


def queue_region(url: str) -> str | None:
    """The region in an SQS queue URL (`sqs.<region>.amazonaws.com`), None when it has none."""
    host = urlsplit(url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs" and parts[-2:] == ["amazonaws", "com"]:
        return parts[1]
    return None


def receive(
    aws: AwsContext, url: str, wait_seconds: int = LONG_POLL_SECONDS
) -> list[dict[str, Any]]:
    """Up to 10 messages (`MessageId`, `ReceiptHandle`, `Body`), after a long poll."""
    client = aws.for_region(queue_region(url)).client("sqs")
    answer = client.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=MAX_MESSAGES,
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
    )
    return list(answer.get("Messages") or [])


def delete(aws: AwsContext, url: str, receipts: Sequence[str]) -> int:
    """Delete messages by receipt handle; returns how many SQS reported as failed."""
    client = aws.for_region(queue_region(url)).client("sqs")
    failed = 0
    for start in range(0, len(receipts), MAX_MESSAGES):
        batch = receipts[start : start + MAX_MESSAGES]
        answer = client.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(batch)],
        )
        failed += len(answer.get("Failed") or [])
    return failed


def backlog(aws: AwsContext, url: str) -> int:
    """`ApproximateNumberOfMessages` of the queue."""
    client = aws.for_region(queue_region(url)).client("sqs")
    answer = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(answer.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))


def caller_identity(aws: AwsContext) -> tuple[str | None, str | None]:
    """(GetCallerIdentity's `Arn`, the access key id the session signs with)."""
    arn = aws.client("sts").get_caller_identity().get("Arn")
    return arn, aws.access_key_id()
