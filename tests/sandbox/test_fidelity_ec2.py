"""EC2 over HTTP: a security group referenced by another group's rule cannot be deleted."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _allow_from(build, group_id: str, source_id: str) -> None:
    build.ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": source_id}],
            }
        ],
    )


def test_delete_referenced_security_group_is_dependency_violation(build):
    """AWS DeleteSecurityGroup: a group "referenced by another security group in the same VPC"
    cannot be deleted: DependencyViolation "resource sg-... has a dependent object"."""
    tasks = build.security_group("tasks")
    nlb = build.security_group("nlb")
    _allow_from(build, tasks, nlb)
    with pytest.raises(ClientError) as caught:
        build.ec2.delete_security_group(GroupId=nlb)
    error = caught.value.response["Error"]
    assert error["Code"] == "DependencyViolation"
    assert nlb in error["Message"]
    assert build.ec2.describe_security_groups(GroupIds=[nlb])["SecurityGroups"]


def test_delete_security_group_after_reference_is_revoked(build):
    """AWS: once the referencing rule is revoked, the group can be deleted."""
    tasks = build.security_group("tasks")
    nlb = build.security_group("nlb")
    _allow_from(build, tasks, nlb)
    rules = build.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [tasks]}]
    )["SecurityGroupRules"]
    referencing = [r["SecurityGroupRuleId"] for r in rules if r.get("ReferencedGroupInfo")]
    build.ec2.revoke_security_group_ingress(GroupId=tasks, SecurityGroupRuleIds=referencing)
    build.ec2.delete_security_group(GroupId=nlb)
    with pytest.raises(ClientError):
        build.ec2.describe_security_groups(GroupIds=[nlb])


def test_group_referencing_itself_can_be_deleted(build):
    """AWS: a self-reference is no dependency; the group can be deleted with its rule."""
    group = build.security_group("self")
    _allow_from(build, group, group)
    build.ec2.delete_security_group(GroupId=group)
