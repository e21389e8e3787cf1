"""What the contract's examples expect to find in an account: the sandbox can make it for a demo.

Two examples name things a platform team owns, not the service: ledger-private-api.yaml's Lambda
authorizer `ledger-authorizer` (made here on nodejs12.x, a deprecated runtime, so that status
shows field report 002's warning) and billing-ec2-fixed-ports.yaml's EC2 cluster `finance-ec2`
with container instances (two, in the private subnets, with a group of their own).
Neighbours: `seed` (the network), `server` (`psctl sandbox --apply`), the functional tests.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

AUTHORIZER = "ledger-authorizer"
EC2_CLUSTER = "finance-ec2"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => ({isAuthorized: true});")
    return buf.getvalue()


def authorizer_function(access: Any) -> str:
    """The ledger example's authorizer function; returns its ARN."""
    role = access.client("iam").create_role(
        RoleName=AUTHORIZER,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    made = access.client("lambda").create_function(
        FunctionName=AUTHORIZER,
        Runtime="nodejs12.x",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
    )
    return str(made["FunctionArn"])


def ec2_cluster(access: Any, count: int = 2) -> str:
    """The billing example's cluster with `count` container instances; returns their group."""
    ec2, ecs = access.client("ec2"), access.client("ecs")
    group = ec2.create_security_group(
        GroupName="ecs-instances",
        Description="ECS container instances",
        VpcId=access.network.vpc_id,
    )["GroupId"]
    ecs.create_cluster(clusterName=EC2_CLUSTER)
    subnets = access.network.private_subnet_ids
    for i in range(count):
        instance = ec2.run_instances(
            ImageId="ami-0ecs0000000000000",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.small",
            SubnetId=subnets[i % len(subnets)],
            SecurityGroupIds=[group],
        )["Instances"][0]
        ecs.register_container_instance(
            cluster=EC2_CLUSTER,
            instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
        )
    return str(group)


def prepare(access: Any) -> None:
    """Everything the five examples expect to exist already."""
    authorizer_function(access)
    ec2_cluster(access)
