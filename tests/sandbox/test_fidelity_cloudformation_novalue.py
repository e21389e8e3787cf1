"""Fidelity: `Fn::If` -> `AWS::NoValue` in a list removes the element (CloudFormation User Guide,
"Get AWS values using pseudo parameters": AWS::NoValue removes the corresponding property when
returned by Fn::If), as deploy/ecs/template.yaml's optional `--events` needs."""

from __future__ import annotations

import json
from typing import Any

import pytest

TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Extra": {"Type": "String", "Default": ""}},
    "Conditions": {"HasExtra": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Extra"}, ""]}]}},
    "Resources": {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "novalue",
                "ContainerDefinitions": [
                    {
                        "Name": "c",
                        "Image": "busybox",
                        "Memory": 128,
                        "Command": [
                            "run",
                            {"Fn::If": ["HasExtra", "--events", {"Ref": "AWS::NoValue"}]},
                            {"Fn::If": ["HasExtra", {"Ref": "Extra"}, {"Ref": "AWS::NoValue"}]},
                        ],
                    }
                ],
            },
        }
    },
}


@pytest.mark.parametrize(
    ("extra", "command"),
    [
        pytest.param("", ["run"], id="novalue-removed"),
        pytest.param("sqs://q", ["run", "--events", "sqs://q"], id="value-kept"),
    ],
)
def test_if_novalue_in_a_list(aws: Any, extra: str, command: list[str]) -> None:
    """The element goes when the condition is false, and stays when it is true."""
    aws.client("cloudformation").create_stack(
        StackName="novalue",
        TemplateBody=json.dumps(TEMPLATE),
        Parameters=[{"ParameterKey": "Extra", "ParameterValue": extra}],
    )
    task = aws.client("ecs").describe_task_definition(taskDefinition="novalue")
    assert task["taskDefinition"]["containerDefinitions"][0]["command"] == command
