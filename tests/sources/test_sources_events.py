"""CloudTrail "AWS API Call via CloudTrail" envelopes -> ChangeEvent (controller.sources.events).

The records follow CloudTrail's record contents
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and the userIdentity element (.../cloudtrail-event-reference-user-identity.html), wrapped as
EventBridge delivers them (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html):
requestParameters in each service's own camelCase names, EC2 lists as `{"items": [...]}`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from controller.ports.events import Identity
from controller.sources.events import MalformedEventError, parse
from controller.sources.sqs_events import parse_events_url

ALICE = "arn:aws:iam::123456789012:user/alice"


def envelope(source: str, name: str, request: Any, response: Any = None, **extra: Any) -> str:
    """One EventBridge message around a CloudTrail record, as SQS delivers its body."""
    detail = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": ALICE,
            "accountId": "123456789012",
            "accessKeyId": "AKIAALICE",
            "userName": "alice",
        },
        "eventTime": "2026-12-03T12:03:07Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": "0f1e",
        "eventID": "e-1",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
        **extra,
    }
    return json.dumps(
        {
            "version": "0",
            "id": "6f1d",
            "detail-type": "AWS API Call via CloudTrail",
            "source": f"aws.{source}",
            "account": "123456789012",
            "time": "2026-12-03T12:03:08Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }
    )


SG_INGRESS = {
    "groupId": "sg-0a1b2c",
    "ipPermissions": {
        "items": [
            {
                "ipProtocol": "tcp",
                "fromPort": 8080,
                "toPort": 8080,
                "groups": {},
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                "ipv6Ranges": {},
                "prefixListIds": {},
            }
        ]
    },
}
TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders/6d0ecf831eec9f09"
LISTENER_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/orders/50dc6c495c0c9188/f2f7"
)
SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/orders-cluster/orders"


@pytest.mark.parametrize(
    ("source", "name", "request_", "response", "expected"),
    [
        pytest.param(
            "ec2", "AuthorizeSecurityGroupIngress", SG_INGRESS, None, {"sg-0a1b2c"}, id="sg-ingress"
        ),
        pytest.param(
            "apigateway",
            "DeleteUsagePlanKey",
            {"usagePlanId": "u1a2b3", "keyId": "k9z8y7"},
            None,
            {"u1a2b3", "k9z8y7"},
            id="usage-plan-key",
        ),
        pytest.param(
            "elasticloadbalancing",
            "ModifyTargetGroup",
            {"targetGroupArn": TG_ARN, "healthCheckPath": "/x"},
            {"targetGroups": [{"targetGroupArn": TG_ARN, "healthCheckPath": "/x"}]},
            {TG_ARN},
            id="target-group-health-check",
        ),
        pytest.param(
            "elasticloadbalancing",
            "DeleteListener",
            {"listenerArn": LISTENER_ARN},
            None,
            {LISTENER_ARN},
            id="listener-deleted",
        ),
        pytest.param(
            "ecs",
            "UpdateService",
            {"cluster": "orders-cluster", "service": "orders", "networkConfiguration": {}},
            {"service": {"serviceArn": SERVICE_ARN}},
            {"ecs-service:orders-cluster/orders", SERVICE_ARN},
            id="ecs-service-by-names",
        ),
        pytest.param(
            "lambda",
            "RemovePermission20150331v2",
            {"functionName": "authz", "statementId": "psctl-orders"},
            None,
            {"authz", "lambda-function:authz"},
            id="lambda-permission-by-name",
        ),
        pytest.param(
            "ec2",
            "CreateTags",
            {"resourcesSet": {"items": [{"resourceId": "sg-0a1b2c"}]}, "tagSet": {"items": []}},
            None,
            {"sg-0a1b2c"},
            id="ec2-tags-nested-items",
        ),
    ],
)
def test_resource_ids_from_real_record_shapes(
    source: str, name: str, request_: Any, response: Any, expected: set[str]
) -> None:
    """Each call's record names the resource ids the index is keyed by."""
    event = parse(envelope(source, name, request_, response))
    assert expected <= event.ids
    assert event.event_name == name
    assert event.service == source


def test_who_when_where() -> None:
    """userIdentity.arn, accessKeyId, sourceIPAddress and eventTime are carried as they are."""
    event = parse(envelope("ec2", "AuthorizeSecurityGroupIngress", SG_INGRESS))
    assert event.changed_by == ALICE
    assert event.access_key_id == "AKIAALICE"
    assert event.source_ip == "203.0.113.7"
    assert event.event_time == datetime(2026, 12, 3, 12, 3, 7, tzinfo=UTC)
    assert event.error_code is None
    assert not event.read_only


def test_failed_call_keeps_its_error_code() -> None:
    """A call AWS refused (errorCode) changed nothing: the router drops it by this field."""
    event = parse(
        envelope("ec2", "AuthorizeSecurityGroupIngress", SG_INGRESS, errorCode="Client.Dup")
    )
    assert event.error_code == "Client.Dup"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[1]", id="not-an-object"),
        pytest.param(json.dumps({"detail-type": "EC2 Instance State-change"}), id="other-type"),
        pytest.param(json.dumps({"detail-type": "AWS API Call via CloudTrail"}), id="no-detail"),
        pytest.param(
            json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": {"x": 1}}),
            id="no-event-name",
        ),
    ],
)
def test_malformed(body: str) -> None:
    """Anything but a CloudTrail API-call envelope is refused with a reason."""
    with pytest.raises(MalformedEventError):
        parse(body)


def test_own_identity_by_key_or_arn() -> None:
    """The controller's own calls are recognised by its signing key or its principal's ARN."""
    event = parse(envelope("ec2", "AuthorizeSecurityGroupIngress", SG_INGRESS))
    assert Identity(None, "AKIAALICE").made(event)
    assert Identity(ALICE, "ASIAOTHER").made(event)
    assert not Identity("arn:aws:sts::123456789012:assumed-role/psctl/x", "ASIAX").made(event)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        pytest.param(
            "sqs://https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            id="full-url",
        ),
        pytest.param(
            "sqs://sqs.eu-west-1.amazonaws.com/123456789012/q",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
            id="host-and-path",
        ),
        pytest.param(
            "sqs://http://127.0.0.1:4566/123456789012/q",
            "http://127.0.0.1:4566/123456789012/q",
            id="sandbox",
        ),
    ],
)
def test_events_url(text: str, url: str) -> None:
    """--events takes the queue URL after sqs://, with or without its scheme."""
    assert parse_events_url(text) == url


@pytest.mark.parametrize("text", ["https://sqs/1/q", "sqs://", "sqs://host/onlyname"])
def test_events_url_refused(text: str) -> None:
    """Anything that is not sqs:// and a queue URL is refused."""
    with pytest.raises(ValueError, match="sqs://QUEUE_URL"):
        parse_events_url(text)
