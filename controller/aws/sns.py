"""SNS publish: one message to a topic, through the client of the topic's own region.

Neighbours: `controller.alerts.sinks` (`SnsSink`, the only user), `session` (the counted clients;
botocore retries transient errors).
"""

from __future__ import annotations

from controller.aws.session import AwsContext


def topic_region(topic_arn: str) -> str | None:
    """The region of `arn:aws:sns:<region>:<account>:<name>`, None when the ARN names none."""
    parts = topic_arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


def publish(aws: AwsContext, topic_arn: str, subject: str, message: str) -> None:
    """Publish `message` with `subject` to `topic_arn` (synchronous, like boto3)."""
    client = aws.for_region(topic_region(topic_arn)).client("sns")
    client.publish(TopicArn=topic_arn, Subject=subject, Message=message)
