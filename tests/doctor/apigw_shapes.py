"""Hand-written boto3 response shapes for the `apigw` doctor checks' unit tests: one healthy
REST chain (custom domain -> REST API with a Lambda authorizer and a key-required proxy method
-> stage prod -> usage plan with a key -> VPC link v1 -> NLB listener 80), a PRIVATE variant
with the VPC's execute-api endpoint, and an HTTP API (VPC link v2 -> NLB listener). Shapes follow
the API Gateway, Lambda, ELBv2 and EC2 API references (GetRestApi, GetStages, GetResources with
embed=methods, GetDeployment apiSummary, GetUsagePlans, GetUsagePlanKeys, GetApiKeys, GetVpcLink,
GetFunctionConfiguration, GetPolicy, DescribeLoadBalancers, DescribeListeners,
DescribeVpcEndpoints). `rest()`, `private()` and `http()` return fresh Facts to mutate.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from controller.doctor.facts import Facts
from controller.doctor.model import HopRef, Unknown

REGION = "us-east-1"
ACCOUNT = "123456789012"
API = "a1b2c3d4e5"
HTTP_API = "h1b2c3d4e5"
STAGE = "prod"
DEPLOYMENT = "dep111"
AUTHORIZER = "au7x9z"
LINK = "vl0abc"
LINK_V2 = "v2l0abc"
PLAN = "pl0gold"
KEY = "ky0partner"
VPC = "vpc-0a1"
VPCE = "vpce-0exec1"
DOMAIN = "api.example.com"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-authorizer"
NLB = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/orders-nlb/50dc6c495c0c9188"
)
OTHER_NLB = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/old-nlb/9f9f9f9f9f9f9f9f"
)
LISTENER = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/net/orders-nlb/50dc6c495c0c9188/"
    "f2f7dc8efc522ab2"
)
OWNER = "privateservice.io/owner"
TARGET = "shop/orders"

PROXY_METHOD: dict[str, Any] = {
    "httpMethod": "ANY",
    "authorizationType": "CUSTOM",
    "authorizerId": AUTHORIZER,
    "apiKeyRequired": True,
    "methodIntegration": {
        "type": "HTTP_PROXY",
        "httpMethod": "ANY",
        "uri": "http://orders-nlb-50dc6c495c0c9188.elb.us-east-1.amazonaws.com:80/{proxy}",
        "connectionType": "VPC_LINK",
        "connectionId": LINK,
    },
}

PERMISSION: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "default",
    "Statement": [
        {
            "Sid": "ps-shop-orders-apigw-invoke",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION,
            "Condition": {
                "ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/*"}
            },
        }
    ],
}


def private_policy(endpoints: list[str]) -> str:
    """A PRIVATE API's resource policy as GetRestApi returns it (a JSON string, quotes escaped)."""
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": arn,
                "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoints}},
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceVpce": endpoints}},
            },
        ],
    }
    return json.dumps(policy).replace('"', '\\"')


def rest() -> Facts:
    """A healthy REST chain: every apigw check finds nothing on it."""
    return Facts(
        target=TARGET,
        owned=True,
        region=REGION,
        hops=[
            HopRef("domain", DOMAIN),
            HopRef("api", API),
            HopRef("stage", STAGE),
            HopRef("authorizer", AUTHORIZER),
            HopRef("vpc-link", LINK),
            HopRef("nlb", NLB),
            HopRef("nlb-listener", LISTENER),
            HopRef("network", VPC),
        ],
        rest_apis={
            API: {
                "id": API,
                "name": "shop-orders",
                "endpointConfiguration": {"types": ["REGIONAL"]},
                "tags": {OWNER: TARGET},
            }
        },
        stages={API: [{"stageName": STAGE, "deploymentId": DEPLOYMENT, "variables": {}}]},
        resources={
            API: [
                {"id": "r00t", "path": "/"},
                {
                    "id": "rpr0xy",
                    "path": "/{proxy+}",
                    "resourceMethods": {"ANY": copy.deepcopy(PROXY_METHOD)},
                },
            ]
        },
        deployments={API: [{"id": DEPLOYMENT, "createdDate": "2026-12-01T10:00:00Z"}]},
        deployment_snapshots={
            DEPLOYMENT: {
                "/{proxy+}": {"ANY": {"authorizationType": "CUSTOM", "apiKeyRequired": True}}
            }
        },
        authorizers={
            API: [
                {
                    "id": AUTHORIZER,
                    "name": "shop-orders-authorizer",
                    "type": "REQUEST",
                    "authorizerUri": (
                        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                        f"{FUNCTION}/invocations"
                    ),
                    "identitySource": "method.request.header.x-api-key",
                }
            ]
        },
        usage_plans=[
            {
                "id": PLAN,
                "name": "shop-orders-gold",
                "apiStages": [{"apiId": API, "stage": STAGE}],
                "tags": {OWNER: TARGET},
            }
        ],
        usage_plan_keys={PLAN: [{"id": KEY, "type": "API_KEY", "name": "shop-orders-partner-a"}]},
        api_keys={KEY: {"id": KEY, "name": "shop-orders-partner-a", "enabled": True}},
        domains={
            DOMAIN: {"domainName": DOMAIN, "regionalDomainName": "d-1.execute-api.amazonaws.com"}
        },
        base_path_mappings={DOMAIN: [{"basePath": "(none)", "restApiId": API, "stage": STAGE}]},
        vpc_links={
            LINK: {"id": LINK, "name": "shop-orders", "status": "AVAILABLE", "targetArns": [NLB]}
        },
        functions={FUNCTION: {"FunctionArn": FUNCTION, "Runtime": "python3.13"}},
        function_policies={FUNCTION: json.loads(json.dumps(PERMISSION))},
        load_balancers={
            NLB: {
                "LoadBalancerArn": NLB,
                "LoadBalancerName": "orders-nlb",
                "Type": "network",
                "Scheme": "internal",
                "VpcId": VPC,
            }
        },
        listeners={
            NLB: [{"ListenerArn": LISTENER, "LoadBalancerArn": NLB, "Port": 80, "Protocol": "TCP"}]
        },
        vpcs={VPC: {"VpcId": VPC, "CidrBlock": "10.0.0.0/16"}},
        subnets={"subnet-0a": {"SubnetId": "subnet-0a", "VpcId": VPC, "CidrBlock": "10.0.1.0/24"}},
    )


def private() -> Facts:
    """The REST chain as a PRIVATE API, admitted through the VPC's execute-api endpoint."""
    facts = rest()
    facts.rest_apis[API]["endpointConfiguration"] = {"types": ["PRIVATE"]}
    facts.rest_apis[API]["policy"] = private_policy([VPCE])
    facts.vpc_endpoints = [
        {
            "VpcEndpointId": VPCE,
            "VpcId": VPC,
            "ServiceName": f"com.amazonaws.{REGION}.execute-api",
            "VpcEndpointType": "Interface",
            "State": "available",
            "PrivateDnsEnabled": True,
        }
    ]
    facts.hops.insert(4, HopRef("vpc-endpoint", VPCE))
    return facts


def http() -> Facts:
    """A healthy HTTP API chain: integration over a VPC link v2 on the NLB's listener."""
    facts = rest()
    facts.rest_apis, facts.resources, facts.usage_plans = {}, {}, []
    facts.usage_plan_keys, facts.api_keys, facts.vpc_links = {}, {}, {}
    facts.authorizers, facts.deployment_snapshots = {}, {}
    facts.domains, facts.base_path_mappings = {}, {}
    facts.http_apis = {HTTP_API: {"ApiId": HTTP_API, "Name": "shop-orders", "ProtocolType": "HTTP"}}
    facts.stages = {
        HTTP_API: [
            {
                "StageName": "$default",
                "AutoDeploy": True,
                "DeploymentId": "hdep1",
                "LastDeploymentStatusMessage": (
                    "Successfully deployed stage with deployment ID 'hdep1'"
                ),
            }
        ]
    }
    facts.deployments = {
        HTTP_API: [{"DeploymentId": "hdep1", "DeploymentStatus": "DEPLOYED", "AutoDeployed": True}]
    }
    facts.integrations = {
        HTTP_API: [
            {
                "IntegrationId": "int0",
                "IntegrationType": "HTTP_PROXY",
                "ConnectionType": "VPC_LINK",
                "ConnectionId": LINK_V2,
                "IntegrationUri": LISTENER,
            }
        ]
    }
    facts.routes = {
        HTTP_API: [{"RouteId": "rt0", "RouteKey": "ANY /{proxy+}", "Target": "integrations/int0"}]
    }
    facts.vpc_links_v2 = {
        LINK_V2: {
            "VpcLinkId": LINK_V2,
            "Name": "shop-orders",
            "VpcLinkStatus": "AVAILABLE",
            "SubnetIds": ["subnet-0a"],
            "SecurityGroupIds": ["sg-0link"],
        }
    }
    facts.hops = [
        HopRef("api", HTTP_API),
        HopRef("stage", "$default"),
        HopRef("vpc-link", LINK_V2),
        HopRef("nlb", NLB),
        HopRef("nlb-listener", LISTENER),
    ]
    return facts


def unknown(facts: Facts, hop: str) -> Facts:
    """The facts with something on `hop` that could not be read (AccessDenied)."""
    facts.unknown.append(Unknown(hop, "x", "apigateway:GET", "apigateway:GET", "AccessDenied"))
    return facts
