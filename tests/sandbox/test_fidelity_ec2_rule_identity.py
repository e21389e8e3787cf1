"""EC2 over HTTP: a security group rule is identified without its description.

AWS (EC2 API reference, RevokeSecurityGroupIngress): "Each rule consists of the protocol and the
CIDR range or source security group. For the TCP and UDP protocols, you must also specify the
destination port or range of ports."
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _referencing_rule(build, description: str = "health checks from the NLB") -> tuple[str, str]:
    tasks, nlb = build.security_group("tasks"), build.security_group("nlb")
    build.ec2.authorize_security_group_ingress(
        GroupId=tasks,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": nlb, "Description": description}],
            }
        ],
    )
    return tasks, nlb


def _ingress(build, group: str) -> list[dict]:
    return build.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0][
        "IpPermissions"
    ]


@pytest.mark.parametrize("description", [None, "another text"])
def test_revoke_by_permission_ignores_the_description(build, description):
    """Revoking the referencing rule by protocol, ports and group removes it, whether the
    request repeats no description or another one."""
    tasks, nlb = _referencing_rule(build)
    pair: dict = {"GroupId": nlb}
    if description is not None:
        pair["Description"] = description
    build.ec2.revoke_security_group_ingress(
        GroupId=tasks,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [pair]}
        ],
    )
    assert _ingress(build, tasks) == []


def test_revoke_of_another_port_still_finds_nothing(build):
    """The ports are part of the rule: revoking 9090 leaves the 8080 rule and fails as AWS
    fails on a rule that does not exist."""
    tasks, nlb = _referencing_rule(build)
    with pytest.raises(ClientError) as err:
        build.ec2.revoke_security_group_ingress(
            GroupId=tasks,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 9090,
                    "ToPort": 9090,
                    "UserIdGroupPairs": [{"GroupId": nlb}],
                }
            ],
        )
    assert err.value.response["Error"]["Code"] == "InvalidPermission.NotFound"
    assert len(_ingress(build, tasks)) == 1


def test_the_same_rule_with_another_description_is_a_duplicate(build):
    """Authorizing the same group reference and ports again, described differently, is the same
    rule: InvalidPermission.Duplicate."""
    tasks, nlb = _referencing_rule(build)
    with pytest.raises(ClientError) as err:
        build.ec2.authorize_security_group_ingress(
            GroupId=tasks,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 8080,
                    "ToPort": 8080,
                    "UserIdGroupPairs": [{"GroupId": nlb, "Description": "other"}],
                }
            ],
        )
    assert err.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    assert len(_ingress(build, tasks)) == 1
