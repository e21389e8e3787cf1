"""deploy/ecs/template.yaml: cfn-lint clean, and a stack of it in the sandbox's CloudFormation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
TEMPLATE = ROOT / "deploy" / "ecs" / "template.yaml"
POLICY = ROOT / "deploy" / "iam" / "policy.json"


def test_cfn_lint_is_clean():
    """cfn-lint (next to this interpreter) finds no error or warning."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _policy_arn(aws: Any) -> str:
    """The controller's managed policy: deploy/iam/policy.json when it is there."""
    document = (
        POLICY.read_text()
        if POLICY.exists()
        else json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
            }
        )
    )
    iam = aws.client("iam")
    return iam.create_policy(PolicyName="psctl-controller", PolicyDocument=document)["Policy"][
        "Arn"
    ]


def test_stack_creates_in_the_sandbox(aws: Any):
    """The stack creates; its lease table has the schema the controller expects and its security
    group admits nothing."""
    net = aws.network
    aws.client("ecs").create_cluster(clusterName="platform")
    aws.client("s3").create_bucket(Bucket="psctl-specs")
    cfn = aws.client("cloudformation")
    params = {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/psctl:1.0",
        "SpecsBucket": "psctl-specs",
        "SpecsPrefix": "specs/",
        "Subnets": ",".join(net.private_subnet_ids),
        "VpcId": net.vpc_id,
        "ClusterName": "platform",
        "ControllerPolicyArn": _policy_arn(aws),
    }
    cfn.create_stack(
        StackName="psctl",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + 30
    while True:
        stack = cfn.describe_stacks(StackName="psctl")["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    table = aws.client("dynamodb").describe_table(TableName=outputs["LeaseTableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    sg = aws.client("ec2").describe_security_groups(GroupIds=[outputs["SecurityGroupId"]])[
        "SecurityGroups"
    ][0]
    assert sg["VpcId"] == net.vpc_id
    assert sg["IpPermissions"] == []

    td_arn = next(
        r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName="psctl")["StackResources"]
        if r["LogicalResourceId"] == "TaskDefinition"
    )
    td = aws.client("ecs").describe_task_definition(taskDefinition=td_arn)["taskDefinition"]
    container = td["containerDefinitions"][0]
    assert container["readonlyRootFilesystem"] is True
    assert container["user"] == "10001:10001"
    assert container["command"] == [
        "run",
        "--source",
        "s3://psctl-specs/specs/",
        "--leader-election",
        f"dynamodb:{outputs['LeaseTableName']}",
        "--listen",
        "0.0.0.0:8080",
    ]


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) read as plain values."""


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, _tag, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def test_template_settings_moto_does_not_keep():
    """What moto's CloudFormation drops, read from the template: Fargate on awsvpc, no public
    IP, a circuit breaker with rollback, a lease table keyed by pk."""
    res = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)["Resources"]
    td = res["TaskDefinition"]["Properties"]
    assert td["NetworkMode"] == "awsvpc"
    assert td["RequiresCompatibilities"] == ["FARGATE"]
    svc = res["Service"]["Properties"]
    assert svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    assert svc["DesiredCount"] == "DesiredCount"  # !Ref DesiredCount
    assert "SecurityGroupIngress" not in res["SecurityGroup"]["Properties"]
    table = res["LeaseTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
