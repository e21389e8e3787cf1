"""`psctl events install` / `uninstall`: the EventBridge rule, the SQS queue and its DLQ.

What AWS needs for CloudTrail events to reach the controller ("AWS service events delivered via
AWS CloudTrail", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html):
a CloudTrail trail logging management events (not made here: an account usually has one), and
on the default bus a rule matching `detail-type: AWS API Call via CloudTrail` from the sources
the chain's resources live in (`SOURCES`), with the queue as target. Without the rule state
ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS only mutating calls are delivered, which is all
the controller wants. The queue's policy lets events.amazonaws.com send to it for this rule only
(`aws:SourceArn`: "Amazon SQS permissions" in "Using resource-based policies for Amazon
EventBridge", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html);
a message received `MAX_RECEIVES` times without being deleted goes to the dead-letter queue
(RedrivePolicy). Everything carries the owner tag `EVENTS_OWNER` (`controller.aws.tags`);
`uninstall` deletes only what carries it. Both are idempotent.
Neighbours: `controller.cli_events` (the command), `controller.aws.sqs` (the runtime's calls),
`deploy/events/template.yaml` (the same in CloudFormation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from controller.aws import tags as ownership
from controller.aws.session import AwsContext

SOURCES = (
    "aws.apigateway",
    "aws.elasticloadbalancing",
    "aws.ec2",
    "aws.ecs",
    "aws.lambda",
    "aws.servicediscovery",
)
DEFAULT_QUEUE = "privateservice-controller-events"
MAX_RECEIVES = 5
RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


def pattern() -> dict[str, Any]:
    """The rule's event pattern."""
    return {"detail-type": ["AWS API Call via CloudTrail"], "source": list(SOURCES)}


@dataclass(frozen=True)
class Installed:
    """What `install` made (or found): the `--events` URL is `sqs://` + `queue_url`."""

    rule_arn: str
    queue_url: str
    queue_arn: str
    dlq_url: str

    @property
    def events_url(self) -> str:
        """The value of `psctl run --events`."""
        return f"sqs://{self.queue_url}"


def install(aws: AwsContext, queue: str = DEFAULT_QUEUE) -> Installed:
    """Create or update the DLQ, the queue, the rule, the queue policy and the target."""
    sqs = aws.client("sqs")
    events = aws.client("events")
    tags = {ownership.OWNER: ownership.EVENTS_OWNER}
    dlq_url = sqs.create_queue(
        QueueName=f"{queue}-dlq",
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
        tags=tags | {ownership.COMPONENT: "events-dlq"},
    )["QueueUrl"]
    dlq_arn = _arn(aws, dlq_url)
    queue_url = sqs.create_queue(
        QueueName=queue,
        Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)},
        tags=tags | {ownership.COMPONENT: "events-queue"},
    )["QueueUrl"]
    queue_arn = _arn(aws, queue_url)
    rule_arn = events.put_rule(
        Name=queue,
        EventPattern=json.dumps(pattern()),
        State="ENABLED",
        Description="CloudTrail API calls for privateservice-controller --events",
        Tags=ownership.to_list(tags | {ownership.COMPONENT: "events-rule"}),
    )["RuleArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "Policy": json.dumps(queue_policy(queue_arn, rule_arn)),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
            ),
        },
    )
    events.put_targets(Rule=queue, Targets=[{"Id": "sqs", "Arn": queue_arn}])
    return Installed(rule_arn, queue_url, queue_arn, dlq_url)


def uninstall(aws: AwsContext, queue: str = DEFAULT_QUEUE) -> list[str]:
    """Delete the rule and both queues when they carry our owner tag; what was deleted."""
    sqs = aws.client("sqs")
    events = aws.client("events")
    gone: list[str] = []
    try:
        rule_arn = events.describe_rule(Name=queue)["Arn"]
    except events.exceptions.ResourceNotFoundException:
        rule_arn = None
    if rule_arn is not None:
        rule_tags = ownership.from_list(events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"])
        if rule_tags.get(ownership.OWNER) == ownership.EVENTS_OWNER:
            events.remove_targets(Rule=queue, Ids=["sqs"])
            events.delete_rule(Name=queue)
            gone.append(rule_arn)
    for name in (queue, f"{queue}-dlq"):
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            continue
        if sqs.list_queue_tags(QueueUrl=url).get("Tags", {}).get(ownership.OWNER) == (
            ownership.EVENTS_OWNER
        ):
            sqs.delete_queue(QueueUrl=url)
            gone.append(url)
    return gone


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """events.amazonaws.com may send to the queue, for this rule only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgeRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


def _arn(aws: AwsContext, url: str) -> str:
    sqs = aws.client("sqs")
    answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(answer["Attributes"]["QueueArn"])
