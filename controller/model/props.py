"""The props of each resource kind as a TypedDict: the one contract between the model, which
builds them, and the handler of that kind, which reads them (ELBv2, EC2, ECS, IAM, CloudWatch
Logs, Cloud Map here; API Gateway and Lambda in `props_api`).

How Refs are typed. A prop the model fills with a `Ref` (or a `Digest`) holds that placeholder
while the stack is built and the output it names once the engine has resolved it
(`controller.model.stack.resolve`). Each TypedDict is therefore generic in `R`, the type that
stands for "known only at apply", and every field that may hold one is spelt `str | R` (or
`list[str | R]`, ...): the model builds `Listener[Lazy]` (`R` = `Lazy`, the base class of `Ref`
and `Digest`; not their union, which mypy would narrow to the one a dict literal holds and then
refuse as invariant), so a Ref in a field that cannot take one is a mypy error; a handler reads
`Listener[Known]` (`R` = `Never`, which leaves exactly `str`), so `p["port"]` is an `int` and
`p["loadBalancerArn"]` a `str`. One declaration serves both sides, where two TypedDicts per kind
(lazy and resolved) would drift.
What is not checked: that a Ref's output has the field's type (outputs are `dict[str, Any]`;
every Ref the model makes names an `id`, `arn` or `name`, all strings, or `ids`, a list), and
the UNKNOWN a plan sees in place of an output not produced yet: the engine calls observe only
once a handler's `identity` props are known, and create and update only once every prop is.
`NotRequired` marks what the model sets only in some stacks. Pure data, read only by mypy.
Neighbours: `controller.model.kinds` (one TypedDict per kind), `controller.handlers.base`
(`props_as`, the handlers' typed view).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, Never, NotRequired, TypeAlias, TypedDict, TypeVar

R = TypeVar("R")
"""What a field holds while only the engine can know its value: `Lazy` (the model's view,
`controller.model.stack.Lazy`) or `Known`."""

Known: TypeAlias = Never
"""The handlers' view: every Ref resolved (`str | Never` is `str`)."""


# -- EC2 ---------------------------------------------------------------------------------------
class SgRule(TypedDict, Generic[R]):
    """One security group rule: a protocol and port range from a CIDR or a group."""

    protocol: str
    fromPort: int
    toPort: int
    description: NotRequired[str]
    cidr: NotRequired[str | None]
    sourceGroup: NotRequired[str | R]


class SecurityGroup(TypedDict, Generic[R]):
    """`ec2.security_group`."""

    name: str
    description: str
    vpcId: str
    ingress: list[SgRule[R]]
    egress: list[SgRule[R]]
    keepPortsServedBy: NotRequired[str | R]
    """A target group: ingress on ports its targets still serve on stays open meanwhile."""
    keepPortsListenedBy: NotRequired[str]
    """A load balancer's name: rules for ports our listeners on it still use stay meanwhile."""


class SgRules(TypedDict, Generic[R]):
    """`ec2.sg_rules`: our tagged rules in groups that are not ours."""

    cluster: str | R
    groupIds: list[str]
    ingress: list[SgRule[R]]


class ElasticIp(TypedDict):
    """`ec2.elastic_ip`."""

    name: str


class VpcEndpoint(TypedDict, Generic[R]):
    """`ec2.vpc_endpoint`: an interface endpoint (`service`: `execute-api`)."""

    vpcId: str
    service: str
    subnetIds: list[str]
    securityGroupIds: list[str | R]
    privateDnsEnabled: bool


# -- ELBv2 -------------------------------------------------------------------------------------
class SubnetMapping(TypedDict, Generic[R]):
    """A subnet of a load balancer with the Elastic IP it uses."""

    subnetId: str
    allocationId: str | R


class LoadBalancer(TypedDict, Generic[R]):
    """`elbv2.load_balancer`: an NLB or an ALB."""

    name: str
    type: Literal["network", "application"]
    scheme: Literal["internal", "internet-facing"]
    subnets: list[str]
    securityGroups: list[str | R]
    attributes: dict[str, str]
    enforcePrivateLinkInboundRules: NotRequired[Literal["on", "off"]]
    subnetMappings: NotRequired[list[SubnetMapping[R]]]


class HealthCheck(TypedDict):
    """A target group's health check (`path` and `matcher` for HTTP(S) only)."""

    protocol: str
    port: str
    intervalSeconds: int
    timeoutSeconds: int
    healthyThreshold: int
    unhealthyThreshold: int
    path: NotRequired[str]
    matcher: NotRequired[str]


class TargetGroup(TypedDict):
    """`elbv2.target_group`."""

    name: str
    protocol: Literal["TCP", "HTTP"]
    port: int
    vpcId: str
    targetType: Literal["ip", "instance", "alb"]
    healthCheck: HealthCheck
    attributes: dict[str, str]


class FixedResponse(TypedDict):
    """A listener's fixed-response default action."""

    type: str
    statusCode: str


class Listener(TypedDict, Generic[R]):
    """`elbv2.listener`: forwards to `targetGroupArn`, or answers `defaultAction`."""

    loadBalancerArn: str | R
    port: int
    protocol: str
    targetGroupArn: NotRequired[str | R]
    defaultAction: NotRequired[FixedResponse]
    certificateArn: NotRequired[str]
    newPortBeside: NotRequired[bool]
    """A port change adds the new listener beside the old one (removed later)."""


class OldListeners(TypedDict, Generic[R]):
    """`elbv2.old_listeners`: our listeners of `component` on another port than `port`, deleted
    `drainSeconds` after the API moved off them (`oldPorts` reads back the ones still there)."""

    loadBalancerArn: str | R
    component: str
    port: int
    drainSeconds: int
    oldPorts: list[int]


class ListenerRule(TypedDict, Generic[R]):
    """One path-pattern rule of an ALB listener."""

    priority: int
    pathPattern: str
    targetGroupArn: str | R


class ListenerRules(TypedDict, Generic[R]):
    """`elbv2.listener_rules`."""

    listenerArn: str | R
    rules: list[ListenerRule[R]]


class Target(TypedDict, Generic[R]):
    """One registered target (an ALB's ARN in the NLB's `alb` target group)."""

    id: str | R
    port: int


class Targets(TypedDict, Generic[R]):
    """`elbv2.targets`."""

    targetGroupArn: str | R
    targets: list[Target[R]]


# -- ECS, IAM, CloudWatch Logs, Cloud Map ------------------------------------------------------
class Cluster(TypedDict):
    """`ecs.cluster`."""

    name: str


class PortMapping(TypedDict):
    """The container's port mapping (`hostPort` on EC2, `name`/`appProtocol` for Service
    Connect)."""

    containerPort: int
    protocol: str
    hostPort: NotRequired[int | None]
    name: NotRequired[str]
    appProtocol: NotRequired[str]


class Container(TypedDict, Generic[R]):
    """The task definition's one container."""

    name: str
    image: str
    essential: bool
    portMappings: list[PortMapping]
    command: list[str]
    environment: dict[str, str]
    secrets: dict[str, str]
    stopTimeout: int
    logGroup: str | R


class TaskDefinition(TypedDict, Generic[R]):
    """`ecs.task_definition`."""

    family: str
    cpu: str
    memory: str
    networkMode: str
    requiresCompatibilities: list[str]
    executionRoleArn: str | R
    taskRoleArn: str | None
    container: Container[R]


class ServiceLoadBalancer(TypedDict, Generic[R]):
    """The target group the service registers its tasks in."""

    targetGroupArn: str | R
    containerName: str
    containerPort: int


class CircuitBreaker(TypedDict):
    """The deployment circuit breaker."""

    enable: bool
    rollback: bool


class ServiceDeployment(TypedDict):
    """The service's deployment configuration."""

    minimumHealthyPercent: int
    maximumPercent: int
    circuitBreaker: CircuitBreaker


class ClientAlias(TypedDict):
    """A Service Connect client alias."""

    port: int
    dnsName: str


class ConnectService(TypedDict):
    """One Service Connect service the ECS service publishes."""

    portName: str
    discoveryName: str
    clientAliases: list[ClientAlias]


class ServiceConnect(TypedDict, Generic[R]):
    """The service's Service Connect configuration (`{"enabled": False}` without it)."""

    enabled: bool
    namespace: NotRequired[str | R]
    services: NotRequired[list[ConnectService]]


class Service(TypedDict, Generic[R]):
    """`ecs.service` (the awsvpc fields only for awsvpc tasks)."""

    cluster: str | R
    name: str
    taskDefinition: str | R
    desiredCount: int
    launchType: Literal["FARGATE", "EC2"]
    loadBalancer: ServiceLoadBalancer[R]
    healthCheckGracePeriodSeconds: int
    enableExecuteCommand: bool
    deployment: ServiceDeployment
    serviceConnect: ServiceConnect[R]
    platformVersion: NotRequired[str]
    subnets: NotRequired[list[str]]
    securityGroups: NotRequired[list[str | R]]
    assignPublicIp: NotRequired[str]


class Role(TypedDict):
    """`iam.role`: trust policy, managed policies, one inline policy (or None)."""

    name: str
    trustPolicy: dict[str, Any]
    managedPolicies: list[str]
    inlinePolicy: dict[str, Any] | None


class LogGroup(TypedDict):
    """`logs.log_group`."""

    name: str
    retentionDays: int


class Namespace(TypedDict):
    """`servicediscovery.namespace`."""

    name: str
    type: str
