"""The sandbox's CloudTrail (controller.sandbox.cloudtrail) and `psctl events install` on it.

Other principals' writes reach an SQS queue through the installed EventBridge rule as
"AWS API Call via CloudTrail" events with CloudTrail's field names
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html);
the controller's own writes (its access key) produce none. This also proves moto's EventBridge ->
SQS delivery over HTTP (no fidelity patch was needed for it).
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from controller.aws import events_setup
from controller.aws.session import AwsContext, AwsSettings
from controller.sandbox import Sandbox, SandboxAccess
from controller.sandbox.cloudtrail import nest_form
from controller.sources.events import parse

ALICE_KEY = "alice"


def as_alice(aws: SandboxAccess, service: str) -> Any:
    """A client signed with alice's key, not the controller's."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=aws.endpoint_url,
        region_name=aws.region,
        aws_access_key_id=ALICE_KEY,
        aws_secret_access_key="alice-secret",  # the sandbox accepts any secret
    )


def installed(aws: SandboxAccess) -> events_setup.Installed:
    """The rule and queues, installed as `psctl events install` does."""
    return events_setup.install(AwsContext(AwsSettings(aws.region, endpoint_url=aws.endpoint_url)))


def receive_all(aws: SandboxAccess, url: str, wait: float) -> list[dict[str, Any]]:
    """Every event body the queue holds within `wait` seconds."""
    sqs, out, deadline = aws.client("sqs"), [], time.monotonic() + wait
    while time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def test_someone_elses_write_arrives_as_a_cloudtrail_event(aws: SandboxAccess) -> None:
    """alice opens a group: ~1 s later the queue holds her call, with who, where and what."""
    setup = installed(aws)
    group = aws.client("ec2").create_security_group(
        GroupName="t", Description="t", VpcId=aws.network.vpc_id
    )["GroupId"]
    as_alice(aws, "ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    bodies = receive_all(aws, setup.queue_url, 3.0)
    assert [b["detail"]["eventName"] for b in bodies] == ["AuthorizeSecurityGroupIngress"]
    body = bodies[0]
    assert body["detail-type"] == "AWS API Call via CloudTrail"
    assert body["source"] == "aws.ec2"
    detail = body["detail"]
    assert detail["eventSource"] == "ec2.amazonaws.com"
    assert detail["userIdentity"]["arn"].endswith(":user/alice")
    assert detail["userIdentity"]["accessKeyId"] == ALICE_KEY
    ranges = detail["requestParameters"]["ipPermissions"]["items"][0]["ipRanges"]["items"]
    assert ranges == [{"cidrIp": "0.0.0.0/0"}]
    event = parse(json.dumps(body))
    assert group in event.ids


def test_rest_path_parameters_by_model_names(aws: SandboxAccess) -> None:
    """DeleteUsagePlanKey names the plan and the key as CloudTrail does (usagePlanId, keyId)."""
    setup = installed(aws)
    apigw = aws.client("apigateway")
    plan = apigw.create_usage_plan(name="p")["id"]
    key = apigw.create_api_key(name="k", enabled=True)["id"]
    apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    as_alice(aws, "apigateway").delete_usage_plan_key(usagePlanId=plan, keyId=key)
    [body] = receive_all(aws, setup.queue_url, 3.0)
    assert body["detail"]["requestParameters"] == {"usagePlanId": plan, "keyId": key}
    assert {plan, key} <= parse(json.dumps(body)).ids


def test_the_controllers_own_writes_emit_nothing(aws: SandboxAccess, sandbox: Sandbox) -> None:
    """Writes signed with the controller's key never become events."""
    setup = installed(aws)
    before = sandbox.cloudtrail.emitted
    ec2 = aws.client("ec2")
    group = ec2.create_security_group(GroupName="t", Description="t", VpcId=aws.network.vpc_id)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"], IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="10.0.0.0/8"
    )
    assert receive_all(aws, setup.queue_url, 2.0) == []
    assert sandbox.cloudtrail.emitted == before


def test_uninstall_deletes_what_install_made(aws: SandboxAccess) -> None:
    """Uninstall removes the rule and both queues (they carry our owner tag)."""
    setup = installed(aws)
    gone = events_setup.uninstall(
        AwsContext(AwsSettings(aws.region, endpoint_url=aws.endpoint_url))
    )
    assert set(gone) == {setup.rule_arn, setup.queue_url, setup.dlq_url}
    assert aws.client("events").list_rules()["Rules"] == []


@pytest.mark.parametrize(
    ("form", "ec2", "expected"),
    [
        pytest.param(
            {"GroupId": ["sg-1"], "IpPermissions.1.IpRanges.1.CidrIp": ["0.0.0.0/0"]},
            True,
            {
                "groupId": "sg-1",
                "ipPermissions": {"items": [{"ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]},
            },
            id="ec2-items",
        ),
        pytest.param(
            {"LoadBalancerArn": ["arn:lb"], "SecurityGroups.member.1": ["sg-1"], "Action": ["X"]},
            False,
            {"loadBalancerArn": "arn:lb", "securityGroups": ["sg-1"]},
            id="elb-members",
        ),
    ],
)
def test_query_parameters_nest_as_cloudtrail_spells_them(
    form: dict[str, list[str]], ec2: bool, expected: dict[str, Any]
) -> None:
    """Flattened query parameters become CloudTrail's nested camelCase requestParameters."""
    assert nest_form(form, ec2=ec2) == expected


def test_psctl_events_install_and_uninstall_commands(
    aws: SandboxAccess, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints the --events value (JSON with -o json); uninstall says what went."""
    from controller import cli

    assert cli.main(["events", "install", "--queue", "psctl-ev", "-o", "json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["events"] == "sqs://" + made["queueUrl"]
    assert made["queueUrl"].endswith("/psctl-ev")
    assert cli.main(["events", "uninstall", "--queue", "psctl-ev"]) == 0
    said = capsys.readouterr().out
    assert said.count("deleted ") == 3
    assert cli.main(["events", "uninstall", "--queue", "psctl-ev"]) == 0
    assert capsys.readouterr().out.strip() == "nothing of ours to delete"
