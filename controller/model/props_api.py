"""The props of the API Gateway kinds (v1 and v2) and the authorizer's Lambda permission, one
TypedDict per kind: what `controller.model.rest_api` and `controller.model.http_api` build and
the `apigw*` and `lambda_permission` handlers read.

Generic in `R` like every props TypedDict (see `controller.model.props`): the model builds
`Stage[Lazy]`, where a field spelt `str | R` may hold a Ref; a handler reads `Stage[Known]`.
Pure data, read only by mypy. Neighbours: `controller.model.props`, `controller.model.kinds`.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypedDict

from controller.model.props import R


# -- shared ------------------------------------------------------------------------------------
class Throttle(TypedDict):
    """A stage's (or a usage plan's) throttle."""

    rateLimit: float
    burstLimit: int


# -- API Gateway v1 (REST) ---------------------------------------------------------------------
class VpcLink(TypedDict, Generic[R]):
    """`apigw.vpc_link`: the link to the NLB."""

    name: str
    targetArns: list[str | R]


class RestApi(TypedDict):
    """`apigw.rest_api` (`policy`: the PRIVATE API's resource policy, else None)."""

    name: str
    description: str
    endpointType: Literal["REGIONAL", "PRIVATE"]
    apiKeySource: Literal["HEADER"]
    policy: dict[str, Any] | None


class Authorizer(TypedDict, Generic[R]):
    """`apigw.authorizer`: a Lambda authorizer."""

    restApiId: str | R
    name: str
    type: Literal["TOKEN", "REQUEST"]
    authorizerUri: str
    identitySource: str
    resultTtlSeconds: int


class LambdaPermission(TypedDict, Generic[R]):
    """`lambda.permission`: API Gateway may invoke the authorizer's function."""

    functionArn: str
    statementId: str
    principal: str
    action: str
    restApiId: str | R


class DomainName(TypedDict):
    """`apigw.domain_name`: a REGIONAL custom domain."""

    domainName: str
    certificateArn: str
    endpointType: Literal["REGIONAL"]
    securityPolicy: Literal["TLS_1_2"]


class BasePathMapping(TypedDict, Generic[R]):
    """`apigw.base_path_mapping`: the domain's path to the stage."""

    domainName: str | R
    basePath: str
    restApiId: str | R
    stage: str | R


class ProxyUri(TypedDict, Generic[R]):
    """Where the proxy integration sends requests: the NLB's listener."""

    nlbDnsName: str | R
    port: int
    scheme: str


class ProxyIntegration(TypedDict, Generic[R]):
    """The proxy methods' HTTP_PROXY integration through the VPC link."""

    type: Literal["HTTP_PROXY"]
    httpMethod: str
    uri: ProxyUri[R]
    connectionType: Literal["VPC_LINK"]
    connectionId: str | R


class Proxy(TypedDict, Generic[R]):
    """`apigw.proxy`: `/` and `/{proxy+}`, ANY, with their integration."""

    restApiId: str | R
    apiKeyRequired: bool
    authorizationType: Literal["NONE", "CUSTOM"]
    authorizerId: str | R | None
    integration: ProxyIntegration[R]


class Deployment(TypedDict, Generic[R]):
    """`apigw.deployment`: a new one when the fingerprint of what it snapshots changes."""

    restApiId: str | R
    fingerprint: str | R


class Stage(TypedDict, Generic[R]):
    """`apigw.stage`."""

    restApiId: str | R
    stageName: str
    deploymentId: str | R
    throttle: Throttle | None


class Quota(TypedDict):
    """A usage plan's quota."""

    limit: int
    period: Literal["DAY", "WEEK", "MONTH"]
    offset: int


class ApiStage(TypedDict, Generic[R]):
    """A stage a usage plan covers."""

    apiId: str | R
    stage: str | R


class UsagePlan(TypedDict, Generic[R]):
    """`apigw.usage_plan`."""

    name: str
    throttle: Throttle | None
    quota: Quota | None
    apiStages: list[ApiStage[R]]


class ApiKey(TypedDict):
    """`apigw.api_key` (AWS makes the value; it is never a prop)."""

    name: str
    enabled: bool


class UsagePlanKey(TypedDict, Generic[R]):
    """`apigw.usage_plan_key`: a key in a plan."""

    usagePlanId: str | R
    keyId: str | R


# -- API Gateway v2 (HTTP) ---------------------------------------------------------------------
class VpcLinkV2(TypedDict, Generic[R]):
    """`apigwv2.vpc_link`: interfaces in the subnets, behind the group."""

    name: str
    subnetIds: list[str]
    securityGroupIds: list[str | R]


class HttpApi(TypedDict):
    """`apigwv2.api`."""

    name: str
    description: str
    protocolType: Literal["HTTP"]
    disableExecuteApiEndpoint: bool


class Integration(TypedDict, Generic[R]):
    """`apigwv2.integration`: HTTP_PROXY through the link to the listener's ARN."""

    apiId: str | R
    integrationType: Literal["HTTP_PROXY"]
    integrationMethod: str
    connectionType: Literal["VPC_LINK"]
    connectionId: str | R
    integrationUri: str | R
    payloadFormatVersion: str
    requestParameters: dict[str, str]


class Route(TypedDict, Generic[R]):
    """`apigwv2.route`."""

    apiId: str | R
    routeKey: str
    integrationId: str | R
    authorizationType: Literal["NONE"]


class HttpStage(TypedDict, Generic[R]):
    """`apigwv2.stage`."""

    apiId: str | R
    stageName: str
    autoDeploy: bool
    throttle: Throttle | None
