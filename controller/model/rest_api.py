"""The REST API part of the desired stack: VPC Link v1 -> REST API -> proxy -> deployment ->
stage -> usage plans -> API keys -> usage-plan keys (rules 5 and 6). Pure, like `build`.

Optional parts (seeds 002 and 004):
- PRIVATE endpoint type: a resource policy that admits `execute-api:Invoke` only through the
  given VPC endpoints, or through the VPC's `execute-api` interface endpoints (resource
  `vpc-endpoint`: an existing one is used as it is, else one is created with private DNS and its
  own security group `vpce-sg` admitting 443 from the VPC).
- A Lambda authorizer (`authorizer`) on both proxy methods, and the Lambda permission that lets
  API Gateway invoke it (`authorizer-permission`); the function itself is never ours.
- A REGIONAL custom domain (`domain-name`) with a base path mapping to the stage.
Neighbours: `controller.model.build` (calls `add_rest_api`), `controller.handlers.apigw_*`,
`controller.handlers.ec2_vpc_endpoint`, `controller.handlers.lambda_permission`.
"""

from __future__ import annotations

from typing import Any

from controller.model import kinds, names
from controller.model.common import ALL_TRAFFIC_EGRESS, tcp_from
from controller.model.network import Network
from controller.model.props import SecurityGroup, VpcEndpoint
from controller.model.props_api import (
    ApiKey,
    BasePathMapping,
    Deployment,
    DomainName,
    LambdaPermission,
    Proxy,
    RestApi,
    Stage,
    Throttle,
    UsagePlan,
    UsagePlanKey,
    VpcLink,
)
from controller.model.props_api import Authorizer as AuthorizerProps
from controller.model.stack import Digest, Lazy, Ref, Resource, Stack
from controller.spec.models import Api, Authorizer, CustomDomain, PrivateService

HTTPS = 443
EXECUTE_API = "execute-api"  # the interface endpoint service: com.amazonaws.<region>.execute-api
INVOKE = "execute-api:Invoke"
ALL_METHODS = "execute-api:/*"  # AWS expands it to the API's ARN on storage
LAMBDA_API_VERSION = "2015-03-31"


def private_policy(endpoint_ids: Any) -> dict[str, Any]:
    """The resource policy of a PRIVATE API: Invoke only through these VPC endpoints.

    `endpoint_ids` is a list of ids or a Ref to a list (the VPC's execute-api endpoints).
    The explicit Deny keeps the rule true even if someone adds a broader Allow.
    """
    condition = {"aws:SourceVpce": endpoint_ids}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": INVOKE,
                "Resource": ALL_METHODS,
                "Condition": {"StringNotEquals": condition},
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": INVOKE,
                "Resource": ALL_METHODS,
                "Condition": {"StringEquals": condition},
            },
        ],
    }


def authorizer_uri(lambda_arn: str) -> str:
    """The invocation URI of a Lambda function, in the function's partition and region."""
    partition, region = lambda_arn.split(":")[1], lambda_arn.split(":")[3]
    return (
        f"arn:{partition}:apigateway:{region}:lambda:path/{LAMBDA_API_VERSION}"
        f"/functions/{lambda_arn}/invocations"
    )


def _add_vpc_endpoint(stack: Stack, ps: PrivateService, net: Network) -> Ref:
    """The VPC's execute-api interface endpoint (found, or created with its group): its ids."""
    ns, nm = ps.metadata.namespace, ps.metadata.name
    group = stack.add(
        Resource(
            "vpce-sg",
            kinds.EC2_SECURITY_GROUP,
            "vpce-sg",
            SecurityGroup[Lazy](
                {
                    "name": names.aws_name(ns, nm, "vpce", 255),
                    "description": f"privateservice {ps.owner}: execute-api endpoint",
                    "vpcId": net.vpc_id,
                    "ingress": [
                        tcp_from(HTTPS, cidr=net.cidr, why="HTTPS to API Gateway from the VPC")
                    ],
                    "egress": ALL_TRAFFIC_EGRESS,
                }
            ),
        )
    )
    stack.add(
        Resource(
            "vpc-endpoint",
            kinds.EC2_VPC_ENDPOINT,
            "vpc-endpoint",
            VpcEndpoint[Lazy](
                {
                    "vpcId": net.vpc_id,
                    "service": EXECUTE_API,
                    "subnetIds": sorted(net.subnet_ids),
                    "securityGroupIds": [group],
                    "privateDnsEnabled": True,
                }
            ),
        )
    )
    return Ref("vpc-endpoint", "ids")


def _policy(stack: Stack, ps: PrivateService, api: Api, net: Network | None) -> Any:
    """The REST API's resource policy: None unless PRIVATE."""
    if api.endpoint_type != "PRIVATE":
        return None
    if api.vpc_endpoint_ids:
        return private_policy(sorted(set(api.vpc_endpoint_ids)))
    if net is None:
        msg = f"{ps.owner}: a PRIVATE API without vpcEndpointIds needs the discovered network"
        raise ValueError(msg)
    return private_policy(_add_vpc_endpoint(stack, ps, net))


def _add_authorizer(stack: Stack, ps: PrivateService, rest: Ref, auth: Authorizer) -> Ref:
    """The Lambda authorizer and the permission that lets API Gateway invoke the function."""
    ns, nm = ps.metadata.namespace, ps.metadata.name
    ref = stack.add(
        Resource(
            "authorizer",
            kinds.APIGW_AUTHORIZER,
            "authorizer",
            AuthorizerProps[Lazy](
                {
                    "restApiId": rest,
                    "name": names.aws_name(ns, nm, "authorizer", 128),
                    "type": auth.type,
                    "authorizerUri": authorizer_uri(auth.lambda_arn),
                    "identitySource": auth.identity_source,
                    "resultTtlSeconds": auth.result_ttl_seconds,
                }
            ),
            {
                "type": "api.authorizer.type",
                "authorizerUri": "api.authorizer.lambdaArn",
                "identitySource": "api.authorizer.identitySource",
                "resultTtlSeconds": "api.authorizer.resultTtlSeconds",
            },
        )
    )
    stack.add(
        Resource(
            "authorizer-permission",
            kinds.LAMBDA_PERMISSION,
            "lambda-permission",
            LambdaPermission[Lazy](
                {
                    "functionArn": auth.lambda_arn,
                    "statementId": names.aws_name(ns, nm, "apigw-invoke", 100),
                    "principal": "apigateway.amazonaws.com",
                    "action": "lambda:InvokeFunction",
                    "restApiId": rest,
                }
            ),
            {"functionArn": "api.authorizer.lambdaArn"},
        )
    )
    return ref


def _add_custom_domain(stack: Stack, rest: Ref, domain: CustomDomain) -> None:
    """A REGIONAL domain name and its base path mapping to the stage."""
    stack.add(
        Resource(
            "domain-name",
            kinds.APIGW_DOMAIN_NAME,
            "domain-name",
            DomainName(
                {
                    "domainName": domain.domain_name,
                    "certificateArn": domain.certificate_arn,
                    "endpointType": "REGIONAL",
                    "securityPolicy": "TLS_1_2",
                }
            ),
            {
                "domainName": "api.customDomain.domainName",
                "certificateArn": "api.customDomain.certificateArn",
            },
        )
    )
    stack.add(
        Resource(
            "base-path-mapping",
            kinds.APIGW_BASE_PATH_MAPPING,
            "base-path-mapping",
            BasePathMapping[Lazy](
                {
                    "domainName": Ref("domain-name", "name"),
                    "basePath": domain.base_path,
                    "restApiId": rest,
                    "stage": Ref("stage", "name"),
                }
            ),
            {"basePath": "api.customDomain.basePath"},
        )
    )


def add_rest_api(stack: Stack, ps: PrivateService, api: Api, net: Network | None = None) -> None:
    """VPC Link v1 -> REST API -> proxy -> deployment -> stage -> plans -> keys (rules 5, 6).

    `net` is needed for a PRIVATE API without `vpcEndpointIds` (its VPC's endpoint).
    """
    ns, nm = ps.metadata.namespace, ps.metadata.name
    lb = ps.spec.load_balancer
    stack.add(
        Resource(
            "vpc-link",
            kinds.APIGW_VPC_LINK,
            "vpc-link",
            VpcLink[Lazy](
                {
                    "name": names.api_object_name(ns, nm),
                    "targetArns": [Ref("nlb", "arn")],
                }
            ),
        )
    )
    policy = _policy(stack, ps, api, net)
    rest = stack.add(
        Resource(
            "rest-api",
            kinds.APIGW_REST_API,
            "rest-api",
            RestApi(
                {
                    "name": names.api_object_name(ns, nm),
                    "description": f"privateservice {ps.owner}",
                    "endpointType": api.endpoint_type,
                    "apiKeySource": "HEADER",
                    "policy": policy,
                }
            ),
            {"endpointType": "api.endpointType", "policy": "api.vpcEndpointIds"},
        )
    )
    auth = api.authorizer
    authorizer = _add_authorizer(stack, ps, rest, auth) if auth is not None else None
    proxy: Proxy[Lazy] = {
        "restApiId": rest,
        "apiKeyRequired": api.api_key_required,
        "authorizationType": "CUSTOM" if authorizer is not None else "NONE",
        "authorizerId": authorizer,
        "integration": {
            "type": "HTTP_PROXY",
            "httpMethod": "ANY",
            "uri": {
                "nlbDnsName": Ref("nlb", "dnsName"),
                "port": lb.listener.port,
                "scheme": "https" if lb.listener.protocol == "TLS" else "http",
            },
            "connectionType": "VPC_LINK",
            "connectionId": Ref("vpc-link"),
        },
    }
    stack.add(
        Resource(
            "proxy",
            kinds.APIGW_PROXY,
            "rest-api",
            proxy,
            {"apiKeyRequired": "api.apiKeyRequired", "authorizationType": "api.authorizer"},
            # the integration moves to a listener port once a listener is there (a port change
            # adds the new listener beside the old one first)
            extra_deps=("listener",),
        )
    )
    # A deployment snapshots the API: a new one only when what it snapshots changes. The
    # resource policy and the authorizer's settings take effect only through a deployment too.
    snapshot = {k: v for k, v in proxy.items() if k != "restApiId" and v is not None}
    if policy is not None:
        snapshot["policy"] = policy
    if auth is not None:
        snapshot["authorizer"] = {
            k: v for k, v in stack.resources["authorizer"].props.items() if k != "restApiId"
        }
    fingerprint = Digest(snapshot)  # over the resolved values: a recreated link redeploys
    stack.add(
        Resource(
            "deployment",
            kinds.APIGW_DEPLOYMENT,
            "rest-api",
            Deployment[Lazy](
                {
                    "restApiId": rest,
                    "fingerprint": fingerprint,
                }
            ),
            extra_deps=("proxy",),
        )
    )
    throttle: Throttle | None = (
        {"rateLimit": api.throttle.rate_limit, "burstLimit": api.throttle.burst_limit}
        if api.throttle
        else None
    )
    stack.add(
        Resource(
            "stage",
            kinds.APIGW_STAGE,
            "stage",
            Stage[Lazy](
                {
                    "restApiId": rest,
                    "stageName": api.stage_name,
                    "deploymentId": Ref("deployment"),
                    "throttle": throttle,
                }
            ),
            {"throttle": "api.throttle"},
        )
    )
    for plan in api.usage_plans:
        plan_ref = stack.add(
            Resource(
                f"usage-plan/{plan.name}",
                kinds.APIGW_USAGE_PLAN,
                "usage-plan",
                UsagePlan[Lazy](
                    {
                        "name": names.api_object_name(ns, nm, plan.name),
                        "throttle": (
                            {
                                "rateLimit": plan.throttle.rate_limit,
                                "burstLimit": plan.throttle.burst_limit,
                            }
                            if plan.throttle
                            else None
                        ),
                        "quota": (
                            {
                                "limit": plan.quota.limit,
                                "period": plan.quota.period,
                                "offset": plan.quota.offset,
                            }
                            if plan.quota
                            else None
                        ),
                        "apiStages": [{"apiId": rest, "stage": Ref("stage", "name")}],
                    }
                ),
                {"throttle": "api.usagePlans.throttle", "quota": "api.usagePlans.quota"},
            )
        )
        for key_name in plan.api_keys:
            key_key = f"api-key/{key_name}"
            if key_key not in stack.resources:
                stack.add(
                    Resource(
                        key_key,
                        kinds.APIGW_API_KEY,
                        "api-key",
                        ApiKey(
                            {
                                "name": names.api_object_name(ns, nm, key_name),
                                "enabled": True,
                            }
                        ),
                    )
                )
            stack.add(
                Resource(
                    f"usage-plan-key/{plan.name}/{key_name}",
                    kinds.APIGW_USAGE_PLAN_KEY,
                    "usage-plan-key",
                    UsagePlanKey[Lazy](
                        {
                            "usagePlanId": plan_ref,
                            "keyId": Ref(key_key),
                        }
                    ),
                )
            )
    if api.custom_domain is not None:
        _add_custom_domain(stack, rest, api.custom_domain)
