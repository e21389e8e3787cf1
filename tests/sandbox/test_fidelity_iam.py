"""AWS managed policies exist in every account: the sandbox has the ones the chain attaches."""

from __future__ import annotations

from typing import Any

import pytest

from controller.sandbox.fidelity.iam import NEEDED


@pytest.mark.parametrize("name", NEEDED)
def test_aws_managed_policy_exists_and_attaches(aws: Any, name: str):
    """AWS: GetPolicy on arn:aws:iam::aws:policy/... answers, and AttachRolePolicy works."""
    iam = aws.client("iam")
    arn = f"arn:aws:iam::aws:policy/service-role/{name}"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == name
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]
