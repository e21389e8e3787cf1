"""Tests of `controller.alerts.sinks.SnsSink`: subjects, and end to end through SNS into SQS."""

from __future__ import annotations

import json
import time

import pytest

from controller.alerts import Alert, AlertDispatcher, DeliveryError, SnsSink
from controller.alerts.sinks import sns_subject
from controller.aws.session import AwsContext, AwsSettings
from controller.spec.models import Alerts


def _alert(**overrides) -> Alert:
    values = {
        "kind": "drift",
        "service": "shop/orders",
        "component": "task-sg",
        "resource": "sg-123",
        "field": "ingress",
        "expected": [],
        "actual": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidr": "0.0.0.0/0"}],
        "action": "corrected",
        "severity": "high",
    }
    return Alert(**(values | overrides))


def test_subject_is_short_printable_ascii():
    """SNS subjects must be printable ASCII on one line, at most 100 characters."""
    subject = sns_subject(_alert(field="tags.é\n" + "x" * 200))
    assert len(subject) == 100
    assert subject.isascii()
    assert subject.isprintable()
    assert subject.startswith("[high] drift shop/orders task-sg tags.?")


async def test_alert_arrives_through_sns_in_an_sqs_queue(aws):
    """One dispatched alert is published to the topic and reaches a subscribed queue as JSON."""
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic_arn = sns.create_topic(Name="drift-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="drift-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "false"},
    )
    context = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    dispatcher = AlertDispatcher(sns=SnsSink(context))
    await dispatcher.start()
    dispatcher.submit(_alert(), Alerts(sns_topic_arn=topic_arn))
    await dispatcher.stop(timeout=5)
    assert dispatcher.delivered == {"log": 1, "sns": 1}

    messages: list[dict] = []
    deadline = time.monotonic() + 5
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
    (message,) = messages
    envelope = json.loads(message["Body"])
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Subject"] == "[high] drift shop/orders task-sg ingress"
    alert = json.loads(envelope["Message"])
    assert alert["service"] == "shop/orders"
    assert alert["resource"] == "sg-123"
    assert alert["field"] == "ingress"
    assert alert["actual"][0]["cidr"] == "0.0.0.0/0"
    assert (alert["action"], alert["severity"], alert["count"]) == ("corrected", "high", 1)
    assert alert["text"].startswith("[high] shop/orders task-sg sg-123: ingress drifted")


async def test_publish_to_a_missing_topic_is_a_delivery_error(sandbox):
    """A topic that does not exist: the sink raises DeliveryError (the dispatcher counts it)."""
    aws = sandbox.access()  # nothing to reset: the topic is missing either way
    context = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    missing = f"arn:aws:sns:{aws.region}:123456789012:no-such-topic"
    with pytest.raises(DeliveryError, match="no-such-topic"):
        await SnsSink(context).send(_alert(), missing)
