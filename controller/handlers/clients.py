"""Typed boto3 clients for the handlers, so that mypy strict checks every AWS call they make.

`AwsContext.client(service)` answers `Any` (one counted, cached client per service name). Each
handler declares its own client's types-boto3 class (`client: EC2Client`, checked against its
`service` by a test through `CLIENT_TYPES`); a handler that also calls another service asks for
it here (`clients.ecs(self.aws)`). The types exist only for the checker: they are imported under
TYPE_CHECKING, and at run time each function is `aws.client(<service>)`, the same cached client.
Neighbours: `controller.aws.session` (AwsContext), `controller.handlers.base` (Handler.client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_ec2 import EC2Client
    from types_boto3_ecs import ECSClient
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_lambda import LambdaClient
    from types_boto3_sts import STSClient

    from controller.aws.session import AwsContext

CLIENT_TYPES = {
    "apigateway": "APIGatewayClient",
    "apigatewayv2": "ApiGatewayV2Client",
    "ec2": "EC2Client",
    "ecs": "ECSClient",
    "elbv2": "ElasticLoadBalancingv2Client",
    "iam": "IAMClient",
    "lambda": "LambdaClient",
    "logs": "CloudWatchLogsClient",
    "servicediscovery": "ServiceDiscoveryClient",
    "sts": "STSClient",
}
"""Service name -> its types-boto3 client class (`types_boto3_<service>.<class>`)."""


def apigateway(aws: AwsContext) -> APIGatewayClient:
    """The API Gateway (v1) client."""
    return cast("APIGatewayClient", aws.client("apigateway"))


def ec2(aws: AwsContext) -> EC2Client:
    """The EC2 client."""
    return cast("EC2Client", aws.client("ec2"))


def ecs(aws: AwsContext) -> ECSClient:
    """The ECS client."""
    return cast("ECSClient", aws.client("ecs"))


def elbv2(aws: AwsContext) -> ElasticLoadBalancingv2Client:
    """The Elastic Load Balancing v2 client."""
    return cast("ElasticLoadBalancingv2Client", aws.client("elbv2"))


def lambda_(aws: AwsContext) -> LambdaClient:
    """The Lambda client."""
    return cast("LambdaClient", aws.client("lambda"))


def sts(aws: AwsContext) -> STSClient:
    """The STS client."""
    return cast("STSClient", aws.client("sts"))
