"""Which changes cost clients their path: every handler's `replace_on` fields (and the few
in-place updates and sweep deletions that matter), each classified as keeping traffic flowing or
causing downtime, with the reason and the AWS page that says so.

One table for every kind, so that the API Gateway handlers need no field of their own and a test
can check it against each handler's `replace_on`. `Handler.downtime` reads it; the engine turns a
downtime change into `replace (downtime: ...)` in a plan, a refusal in `psctl apply` without
`--allow-replace`, and a report (never a replacement) when `psctl run` finds it as drift.
docs/replacements.md is the same list for people. Pure data.
Neighbours: `controller.handlers.base` (Handler.downtime), `controller.reconcile.engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from controller.model import kinds

if TYPE_CHECKING:  # base.py reads this table: no import at run time
    from controller.handlers.base import Delta

NEW_DNS = "a new load balancer has a new DNS name and new addresses; clients and the VPC Link "
NEW_DNS += "must move to them"


@dataclass(frozen=True)
class Replacement:
    """One field of one kind: `downtime` says why changing it breaks the path (None: traffic
    keeps flowing), `doc` where AWS says so, `when` narrows it to some values."""

    field: str
    downtime: str | None
    doc: str
    when: Callable[[Delta], bool] | None = None


def _involves_private(delta: Delta) -> bool:
    return "PRIVATE" in (delta.desired, delta.actual)


ELB_LB = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"
ELB_TG = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html"
APIGW_MIGRATE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-api-migration.html"
)
V1_LINK = "https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateVpcLink.html"
V2_LINK = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks-vpclinkid.html"

TABLE: dict[str, tuple[Replacement, ...]] = {
    kinds.ELBV2_LOAD_BALANCER: (
        Replacement("name", NEW_DNS, ELB_LB),
        Replacement("type", NEW_DNS, ELB_LB),
        # the scheme is a CreateLoadBalancer parameter only: no ELBv2 call modifies it
        Replacement("scheme", NEW_DNS, ELB_LB),
        # SetSubnets: "you must include all subnets that were enabled previously, with their
        # existing configurations": an Elastic IP of a subnet cannot be swapped
        Replacement(
            "subnetMappings",
            "the static IPs are the load balancer's addresses: new ones need a new NLB, and "
            "allow-lists and DNS must move to it",
            "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetSubnets.html",
        ),
    ),
    kinds.ELBV2_LISTENER: (
        Replacement("loadBalancerArn", None, ELB_LB),  # only with its load balancer's own
        # `port` is no replacement: the NLB's listener gets the new port beside the old one,
        # which `elbv2_old_listeners` deletes once the API is redeployed (docs/replacements.md)
    ),
    kinds.ELBV2_TARGET_GROUP: tuple(
        # downtime only while a listener or rule forwards to it (TargetGroupHandler.downtime):
        # "You can't delete a target group if it is used by any actions" (DeleteTargetGroup)
        Replacement(
            f,
            "a listener forwards to it: it cannot be deleted in use, and the "
            "listener has no targets between the delete and the create",
            ELB_TG,
        )
        for f in ("name", "protocol", "port", "vpcId", "targetType")
    ),
    kinds.ECS_SERVICE: tuple(
        Replacement(
            f,
            "the old service's tasks stop before the new service's tasks are healthy",
            "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html",
        )
        for f in ("name", "cluster", "launchType")
    ),
    kinds.APIGW_VPC_LINK: (
        Replacement(
            "targetArns",
            "a VPC Link's target NLB cannot be changed: a new link takes minutes to become "
            "AVAILABLE and the integrations move to it (504 meanwhile)",
            V1_LINK,
        ),
    ),
    kinds.APIGWV2_VPC_LINK: tuple(
        Replacement(
            f,
            "a VPC Link v2's subnets and security groups cannot be changed: a new link takes "
            "minutes to become AVAILABLE and the integrations move to it",
            V2_LINK,
        )
        for f in ("subnetIds", "securityGroupIds")
    ),
    kinds.APIGWV2_API: (
        Replacement(
            "protocolType",
            "a new API has a new invoke URL",
            "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html",
        ),
    ),
    kinds.APIGW_REST_API: (
        # in place (UpdateRestApi); EDGE <-> REGIONAL keeps the API available ("your API will
        # be available"), but to or from PRIVATE changes who can reach the invoke URL at all
        Replacement(
            "endpointType",
            "to or from PRIVATE: the invoke URL answers only inside the VPC (or only outside "
            "it), so its current callers lose it",
            APIGW_MIGRATE,
            when=_involves_private,
        ),
    ),
    kinds.APIGW_DOMAIN_NAME: (
        Replacement(
            "domainName",
            "clients call the old host name",
            "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateDomainName.html",
        ),
        Replacement(
            "endpointType",
            "the domain's DNS target changes (regional name or CloudFront distribution): the "
            "DNS record must be repointed",
            APIGW_MIGRATE,
        ),
    ),
    kinds.EC2_VPC_ENDPOINT: (
        Replacement(
            "vpcId",
            "a PRIVATE API's callers reach it through this endpoint, whose id its policy names",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html",
        ),
        Replacement(
            "service",
            "a PRIVATE API's callers reach it through this endpoint, whose id its policy names",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html",
        ),
    ),
    # no traffic through these: replaced within one pass, or only with what they belong to
    kinds.LAMBDA_PERMISSION: tuple(
        Replacement(
            f,
            None,
            "https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html",
        )
        for f in ("functionArn", "principal", "action", "restApiId")
    ),
    kinds.LOGS_LOG_GROUP: (
        Replacement(
            "name", None, "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/"
        ),
    ),
    kinds.IAM_ROLE: (
        Replacement("name", None, "https://docs.aws.amazon.com/IAM/latest/APIReference/"),
    ),
    kinds.SERVICEDISCOVERY_NAMESPACE: tuple(
        Replacement(
            f,
            None,  # not on the API -> NLB path; the service moves by a rolling deployment
            "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html",
        )
        for f in ("name", "type")
    ),
    kinds.EC2_SECURITY_GROUP: tuple(
        Replacement(
            f,
            None,  # derived from the spec's name and VPC: changes only with everything else
            "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
        )
        for f in ("name", "description", "vpcId")
    ),
}

SWEEP_DOWNTIME: dict[str, str] = {
    # api.type REST -> HTTP (or the API removed): the sweep deletes the old API, whose invoke
    # URL clients use; the new API has another (https://{api-id}.execute-api...)
    kinds.APIGW_REST_API: "its invoke URL stops answering; the new API has another",
    kinds.APIGWV2_API: "its invoke URL stops answering; the new API has another",
}
"""Kinds whose deletion by the sweep (the stack no longer wants them) costs clients their
endpoint: https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html"""


def downtime_of(kind: str, deltas: Iterable[Delta]) -> str | None:
    """`field, field: why` for the deltas of `kind` that cause downtime (fields sharing a
    reason together, reasons apart by "; "), else None."""
    reasons: dict[str, list[str]] = {}
    for delta in deltas:
        for entry in TABLE.get(kind, ()):
            hit = delta.path == entry.field or delta.path.startswith(entry.field + ".")
            if hit and entry.downtime and (entry.when is None or entry.when(delta)):
                fields = reasons.setdefault(entry.downtime, [])
                if entry.field not in fields:
                    fields.append(entry.field)
    return "; ".join(f"{', '.join(f)}: {why}" for why, f in reasons.items()) or None
