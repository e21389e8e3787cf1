"""Parse one EventBridge "AWS API Call via CloudTrail" message into a `ChangeEvent` (pure).

EventBridge delivers every management API call CloudTrail records to the account's default bus
with `detail-type: AWS API Call via CloudTrail`, `source: aws.<service>` and the CloudTrail
record itself as `detail` ("AWS service events delivered via AWS CloudTrail",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html).
The record's fields are CloudTrail's ("CloudTrail record contents",
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html):
`eventTime` (UTC, `2024-05-01T12:03:07Z`), `eventSource` (`ec2.amazonaws.com`), `eventName`,
`awsRegion`, `sourceIPAddress`, `userIdentity` (`arn`, `accessKeyId`, ...: "CloudTrail
userIdentity element", .../cloudtrail-event-reference-user-identity.html), `requestParameters`
and `responseElements` (the call's parameters and answer, in the service's own names, camelCase:
`groupId`, `usagePlanId`/`keyId`, `targetGroupArn`, `cluster`/`service`, `functionName`...),
`errorCode` when the call failed, `readOnly`, and `resources` (`[{"ARN": ...}]`, some services).
`resource_ids` walks both parameter trees for the keys in `ID_KEYS` (at any depth: ELB answers
`{"targetGroups": [{"targetGroupArn": ...}]}`) and adds each id's `aliases` (an ECS service as
`ecs-service:<cluster>/<service>`, a Lambda function as `lambda-function:<name>`), the same
spelling the runtime's index gives the ARNs it observed. Neighbours: `controller.ports.events`
(the result), `controller.sources.sqs_events` (the caller).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from controller.ports.events import ChangeEvent, aliases, ecs_service_alias

DETAIL_TYPE = "AWS API Call via CloudTrail"
ID_KEYS = frozenset(
    {
        # API Gateway v1 and v2
        "restApiId",
        "usagePlanId",
        "keyId",
        "vpcLinkId",
        "apiId",
        "authorizerId",
        "domainName",
        # Elastic Load Balancing v2
        "loadBalancerArn",
        "targetGroupArn",
        "listenerArn",
        "ruleArn",
        "resourceArns",
        # EC2
        "groupId",
        "vpcEndpointId",
        "allocationId",
        "resourceId",
        # ECS (cluster and service are paired below), Lambda, IAM, logs, tagging
        "serviceArn",
        "clusterArn",
        "taskDefinition",
        "taskDefinitionArn",
        "functionName",
        "roleName",
        "logGroupName",
        "resourceArn",
    }
)


class MalformedEventError(ValueError):
    """The message is not an EventBridge envelope around a CloudTrail API-call record."""


def parse(body: str) -> ChangeEvent:
    """The event in one SQS message body; raises `MalformedEventError` for anything else."""
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise MalformedEventError(f"not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise MalformedEventError("not a JSON object")
    if envelope.get("detail-type") != DETAIL_TYPE:
        kind = envelope.get("detail-type")
        raise MalformedEventError(f"detail-type {kind!r} is not {DETAIL_TYPE!r}")
    detail = envelope.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEventError("no detail object")
    name, source = detail.get("eventName"), detail.get("eventSource")
    if not isinstance(name, str) or not isinstance(source, str) or not name or not source:
        raise MalformedEventError("detail has no eventName or eventSource")
    identity = detail.get("userIdentity")
    identity = identity if isinstance(identity, dict) else {}
    ids = resource_ids(detail)
    for arn in envelope.get("resources") or ():
        if isinstance(arn, str):
            ids |= {arn, *aliases(arn)}
    return ChangeEvent(
        event_id=str(detail.get("eventID") or envelope.get("id") or ""),
        event_name=name,
        event_source=source,
        event_time=parse_time(detail.get("eventTime")),
        changed_by=_str(identity.get("arn")),
        access_key_id=_str(identity.get("accessKeyId")),
        source_ip=_str(detail.get("sourceIPAddress")),
        region=_str(detail.get("awsRegion") or envelope.get("region")),
        ids=frozenset(ids),
        error_code=_str(detail.get("errorCode")),
        read_only=detail.get("readOnly") is True,
    )


def parse_time(value: Any) -> datetime | None:
    """CloudTrail's `eventTime` (`2024-05-01T12:03:07Z`, UTC) as an aware datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def resource_ids(detail: dict[str, Any]) -> set[str]:
    """Every id, name and ARN the record's request and response name, with their aliases."""
    found: set[str] = set()
    for part in ("requestParameters", "responseElements"):
        tree = detail.get(part)
        if isinstance(tree, dict):
            for value in _values_at_id_keys(tree):
                found |= {value, *aliases(value)}
            found |= _ecs_pair(tree)
    for item in detail.get("resources") or ():
        arn = item.get("ARN") if isinstance(item, dict) else None
        if isinstance(arn, str):
            found |= {arn, *aliases(arn)}
    if "functionName" in (detail.get("requestParameters") or {}):
        name = detail["requestParameters"]["functionName"]
        if isinstance(name, str) and not name.startswith("arn:"):
            found.add(f"lambda-function:{name.split(':', 1)[0]}")
    return found


def _ecs_pair(tree: dict[str, Any]) -> set[str]:
    """ECS names a service by cluster and service (each a name or an ARN): one alias."""
    cluster = tree.get("cluster")
    service = tree.get("service") or tree.get("serviceName")
    if isinstance(service, str) and service.startswith("arn:aws"):
        return {service, *aliases(service)}
    if isinstance(service, str) and service:
        return {ecs_service_alias(cluster if isinstance(cluster, str) else "default", service)}
    return set()


def _values_at_id_keys(tree: Any) -> Iterator[str]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            normal = key[:1].lower() + key[1:] if isinstance(key, str) else key
            if normal in ID_KEYS:
                yield from _strings(value)
            elif isinstance(value, dict | list):
                yield from _values_at_id_keys(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _values_at_id_keys(item)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value:
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
