"""Lambda AddPermission over HTTP: a StatementId the policy already holds is a conflict."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError


def _function(aws) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", "def handler(event, context): return {}")
    role = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
    return aws.client("lambda").create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="index.handler",
        Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]


def test_duplicate_statement_id_is_a_resource_conflict(aws):
    """AWS: AddPermission with a StatementId already in the policy is ResourceConflictException
    (409), and the policy keeps one statement."""
    lam = aws.client("lambda")
    arn = _function(aws)
    args = {
        "FunctionName": arn,
        "StatementId": "sid-1",
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
    }
    lam.add_permission(**args)
    with pytest.raises(ClientError) as caught:
        lam.add_permission(**args)
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"
    assert len(json.loads(lam.get_policy(FunctionName=arn)["Policy"])["Statement"]) == 1
