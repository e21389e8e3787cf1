"""AWS's published control-plane quotas, grouped into the families the budget keeps buckets for.

`FAMILIES` maps a family (apigateway, elbv2, ec2, ecs) to its boto3 services, its category
buckets (`Quota`: rate per second, burst) with the operations each covers, and per-operation
buckets on top; `family_of(service)` names a service's family (`other`: not budgeted).
Neighbours: `controller.aws.budget` (the token buckets that spend a share of them);
`controller.sandbox.quotas` keeps its own table of the same published figures on purpose (the
emulated AWS must not move when the client's budget does).

Published quotas (per account and region; sustained rate per second / burst), the figures below:
- API Gateway, "Amazon API Gateway quotas" (API Gateway Developer Guide, "API Gateway quotas for
  configuring and running a REST API" / control-plane throttling): every control-plane call
  10/s burst 40, shared by all operations of `apigateway` and `apigatewayv2`; on top,
  CreateDeployment 1 per 5 s, UpdateUsagePlan 1 per 20 s, CreateRestApi 1 per 3 s,
  DeleteRestApi 1 per 30 s, CreateVpcLink (v1 and v2) 1 per 15 s, CreateApiKey/DeleteApiKey 5/s.
- Elastic Load Balancing v2, "Elastic Load Balancing API request throttling" and "Quotas for
  your Network Load Balancers": Describe* 10/s burst 40; RegisterTargets/DeregisterTargets 4/s
  burst 20; other mutating calls 3/s burst 20; on top, CreateLoadBalancer 0.2/s burst 10.
- EC2, "Amazon EC2 API request throttling" (EC2 API Reference): non-mutating 20/s burst 100;
  mutating 5/s burst 50; AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress each
  5/s burst 50; CreateTags 10/s burst 100 (these three have buckets of their own in EC2).
- ECS, "Request throttling for the Amazon ECS API" (ECS API Reference, "Request token bucket
  sizes and refill rates"): cluster read 20/s burst 50; cluster modify 1/s burst 20; task
  definition read 20/s burst 50; task definition modify 1/s burst 20; service read 20/s burst
  100; service modify 5/s burst 50; cluster resource (tasks) read 20/s burst 100 and modify
  40/s burst 100; tag read 20/s burst 50; tag modify 10/s burst 20; any other read 20/s burst
  50 and any other modify 1/s burst 20 (the smallest published modify bucket).
Other services (iam, logs, lambda, servicediscovery, sts, s3, dynamodb, sns, ...) have quotas of
their own that this controller comes nowhere near: they pass unbudgeted, counted as `other`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

OTHER = "other"
"""The family of every service without a budget: admitted and counted, never delayed."""


@dataclass(frozen=True)
class Quota:
    """A published token bucket: sustained rate (tokens per second) and burst (capacity)."""

    rate: float
    burst: float


@dataclass(frozen=True)
class Family:
    """The quotas of one family of services: category buckets, and per-operation ones on top.

    An operation passes the bucket of its category (`members`, else `write` for a mutating one,
    else `read`) and, when it has one, its own bucket of `operations`.
    """

    name: str
    services: frozenset[str]
    headline: str
    categories: Mapping[str, Quota]
    read: str
    write: str
    members: Mapping[str, str] = field(default_factory=dict)
    operations: Mapping[str, Quota] = field(default_factory=dict)

    def category(self, operation: str, mutating: bool) -> str:
        """The category bucket `operation` passes."""
        return self.members.get(operation) or (self.write if mutating else self.read)


def _every(seconds: float) -> Quota:
    return Quota(1.0 / seconds, 1.0)


_ECS_MEMBERS = {
    **dict.fromkeys(("DescribeClusters", "ListClusters"), "cluster-read"),
    **dict.fromkeys(
        (
            "CreateCluster",
            "DeleteCluster",
            "PutClusterCapacityProviders",
            "UpdateCluster",
            "UpdateClusterSettings",
        ),
        "cluster-modify",
    ),
    **dict.fromkeys(
        ("DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies"),
        "task-definition-read",
    ),
    **dict.fromkeys(
        ("RegisterTaskDefinition", "DeregisterTaskDefinition"), "task-definition-modify"
    ),
    **dict.fromkeys(("DescribeServices", "ListServices"), "service-read"),
    **dict.fromkeys(("CreateService", "DeleteService", "UpdateService"), "service-modify"),
    **dict.fromkeys(
        (
            "DescribeTasks",
            "ListTasks",
            "DescribeContainerInstances",
            "ListContainerInstances",
            "ListAttributes",
        ),
        "tasks-read",
    ),
    **dict.fromkeys(
        ("RunTask", "StartTask", "StopTask", "PutAttributes", "DeleteAttributes"),
        "tasks-modify",
    ),
    "ListTagsForResource": "tag-read",
    **dict.fromkeys(("TagResource", "UntagResource"), "tag-modify"),
}

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="apigateway",
            services=frozenset({"apigateway", "apigatewayv2"}),
            headline="account",
            categories={"account": Quota(10, 40)},
            read="account",
            write="account",
            operations={
                "CreateDeployment": _every(5),
                "UpdateUsagePlan": _every(20),
                "CreateRestApi": _every(3),
                "DeleteRestApi": _every(30),
                "CreateVpcLink": _every(15),
                "CreateApiKey": Quota(5, 5),
                "DeleteApiKey": Quota(5, 5),
            },
        ),
        Family(
            name="elbv2",
            services=frozenset({"elbv2"}),
            headline="describe",
            categories={
                "describe": Quota(10, 40),
                "targets": Quota(4, 20),
                "mutating": Quota(3, 20),
            },
            read="describe",
            write="mutating",
            members={"RegisterTargets": "targets", "DeregisterTargets": "targets"},
            operations={"CreateLoadBalancer": Quota(0.2, 10)},
        ),
        Family(
            name="ec2",
            services=frozenset({"ec2"}),
            headline="non-mutating",
            categories={
                "non-mutating": Quota(20, 100),
                "mutating": Quota(5, 50),
                "AuthorizeSecurityGroupIngress": Quota(5, 50),
                "RevokeSecurityGroupIngress": Quota(5, 50),
                "CreateTags": Quota(10, 100),
            },
            read="non-mutating",
            write="mutating",
            members={
                "AuthorizeSecurityGroupIngress": "AuthorizeSecurityGroupIngress",
                "RevokeSecurityGroupIngress": "RevokeSecurityGroupIngress",
                "CreateTags": "CreateTags",
            },
        ),
        Family(
            name="ecs",
            services=frozenset({"ecs"}),
            headline="cluster-read",
            categories={
                "cluster-read": Quota(20, 50),
                "cluster-modify": Quota(1, 20),
                "task-definition-read": Quota(20, 50),
                "task-definition-modify": Quota(1, 20),
                "service-read": Quota(20, 100),
                "service-modify": Quota(5, 50),
                "tasks-read": Quota(20, 100),
                "tasks-modify": Quota(40, 100),
                "tag-read": Quota(20, 50),
                "tag-modify": Quota(10, 20),
                "other-read": Quota(20, 50),
                "other-modify": Quota(1, 20),
            },
            read="other-read",
            write="other-modify",
            members=_ECS_MEMBERS,
        ),
    )
}

BY_SERVICE = {service: f for f in FAMILIES.values() for service in f.services}


def family_of(service: str) -> str:
    """The quota family of a boto3 service name (`other` when it has no budget)."""
    f = BY_SERVICE.get(service)
    return f.name if f is not None else OTHER
