"""Pydantic models of the PrivateService v1alpha1 contract (shared/spec/privateservice-v1alpha1.md).

Field names are snake_case in Python and camelCase on the wire (YAML, JSON, the CRD). Every
default is the contract's; unknown fields are errors. Single-field checks live here; rules that
relate several fields live in `controller.spec.rules` (one problem per broken rule, each naming
its field). Neighbours: `loader` (YAML -> models + problems with file and line), `crd` (models ->
CustomResourceDefinition).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

API_VERSION = "privateservice.io/v1alpha1"
KIND = "PrivateService"

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class SpecModel(BaseModel):
    """Base of every contract model: camelCase aliases, unknown fields forbidden, frozen, and
    strict scalars: YAML's `true`/`yes` is no integer and `2.0` no count (`port: true` would be
    port 1 in pydantic's lax mode); only Kubernetes' timestamps are parsed from strings."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
        strict=True,
    )


Port = Annotated[int, Field(ge=1, le=65535)]
TagMap = dict[
    Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]
]


class Metadata(SpecModel):
    """Identity of one PrivateService; `<namespace>/<name>` is the owner tag value."""

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=DNS1123_LABEL.pattern)]
    namespace: Annotated[str, Field(min_length=1, max_length=63, pattern=DNS1123_LABEL.pattern)] = (
        "default"
    )
    labels: dict[str, str] = Field(default_factory=dict)
    # Kubernetes fills these; accepted so that a custom resource read back validates.
    generation: int | None = None
    uid: str | None = None
    resource_version: str | None = None
    annotations: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: Annotated[datetime | None, Field(strict=False)] = None
    deletion_timestamp: Annotated[datetime | None, Field(strict=False)] = None
    deletion_grace_period_seconds: int | None = None
    finalizers: list[str] = Field(default_factory=list)
    generate_name: str | None = None
    owner_references: list[dict[str, object]] = Field(default_factory=list)
    managed_fields: list[dict[str, object]] = Field(default_factory=list)
    self_link: str | None = None

    @property
    def owner(self) -> str:
        """The value of the `privateservice.io/owner` tag."""
        return f"{self.namespace}/{self.name}"


class Network(SpecModel):
    """Where the service lives: exactly one of vpcId|vpcSelector and of subnetIds|subnetSelector."""

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]+$")] | None = None
    vpc_selector: TagMap | None = None
    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]+$")]] | None = None
    subnet_selector: TagMap | None = None
    public_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]+$")]] = Field(
        default_factory=list
    )
    public_subnet_selector: TagMap | None = None


class Container(SpecModel):
    """The one container of the task and the port the load balancer reaches."""

    image: Annotated[str, Field(min_length=1, max_length=255)]
    port: Port
    host_port: Port | None = None
    cpu: Annotated[int, Field(ge=128)] = 256
    memory: Annotated[int, Field(ge=128)] = 512
    command: list[str] = Field(default_factory=list)
    environment: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict
    )
    secrets: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")],
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:(secretsmanager|ssm):")],
    ] = Field(default_factory=dict)
    stop_timeout_seconds: Annotated[int, Field(ge=2, le=120)] = 30
    log_retention_days: Literal[
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    ] = 30


class CircuitBreaker(SpecModel):
    """ECS deployment circuit breaker."""

    enable: bool = True
    rollback: bool = True


class Deployment(SpecModel):
    """ECS deployment configuration."""

    minimum_healthy_percent: Annotated[int, Field(ge=0, le=100)] = 100
    maximum_percent: Annotated[int, Field(ge=100, le=200)] = 200
    circuit_breaker: CircuitBreaker = Field(default_factory=CircuitBreaker)


class ServiceConnect(SpecModel):
    """ECS Service Connect: a Cloud Map namespace and the name clients use (seed 001)."""

    namespace: Annotated[str, Field(min_length=1, max_length=1024)]
    discovery_name: Annotated[str, Field(min_length=1, max_length=64)]
    port: Port
    app_protocol: Literal["http", "http2", "grpc"] = "http"


class Service(SpecModel):
    """The ECS service that runs the tasks."""

    cluster: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")]
    desired_count: Annotated[int, Field(ge=0, le=5000)] = 2
    launch_type: Literal["FARGATE", "EC2"] = "FARGATE"
    instance_security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]+$")]] = Field(
        default_factory=list
    )
    platform_version: str = "LATEST"
    execution_role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::")] | None = None
    task_role_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::")] | None = None
    health_check_grace_period_seconds: Annotated[int, Field(ge=0, le=2147483647)] = 30
    enable_execute_command: bool = False
    deployment: Deployment = Field(default_factory=Deployment)
    service_connect: ServiceConnect | None = None


class Listener(SpecModel):
    """The NLB listener."""

    port: Port = 80
    protocol: Literal["TCP", "TLS"] = "TCP"
    certificate_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:acm:")] | None = None


class HealthCheck(SpecModel):
    """Target group health check."""

    protocol: Literal["HTTP", "HTTPS", "TCP"] = "HTTP"
    path: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^/")] = "/healthz"
    interval_seconds: Annotated[int, Field(ge=5, le=300)] = 10
    timeout_seconds: Annotated[int, Field(ge=2, le=120)] = 5
    healthy_threshold: Annotated[int, Field(ge=2, le=10)] = 2
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10)] = 2
    matcher: Annotated[str, Field(pattern=r"^[0-9]{3}([-,][0-9]{3})*$")] = "200"


class TargetGroup(SpecModel):
    """The target group the NLB forwards to."""

    deregistration_delay_seconds: Annotated[int, Field(ge=0, le=3600)] = 30
    health_check: HealthCheck = Field(default_factory=HealthCheck)


class AlbRule(SpecModel):
    """One ALB listener rule."""

    path_pattern: Annotated[str, Field(min_length=1, max_length=128)]
    priority: Annotated[int, Field(ge=1, le=50000)]


class Alb(SpecModel):
    """Optional internal ALB tier behind the NLB (seeds 001, 003)."""

    listener_port: Port = 80
    rules: list[AlbRule] = Field(default_factory=lambda: [AlbRule(path_pattern="/*", priority=1)])


class LoadBalancer(SpecModel):
    """The NLB (and optional ALB tier)."""

    scheme: Literal["internal", "internet-facing"] = "internal"
    static_ips: bool = False
    cross_zone: bool = True
    listener: Listener = Field(default_factory=Listener)
    target_group: TargetGroup = Field(default_factory=TargetGroup)
    alb: Alb | None = None


class Throttle(SpecModel):
    """API Gateway throttle."""

    rate_limit: Annotated[float, Field(gt=0)]
    burst_limit: Annotated[int, Field(ge=0)]


class Quota(SpecModel):
    """Usage plan quota."""

    limit: Annotated[int, Field(ge=1)]
    period: Literal["DAY", "WEEK", "MONTH"]
    offset: Annotated[int, Field(ge=0)] = 0


ApiKeyName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]


class UsagePlan(SpecModel):
    """A usage plan with its throttle, quota and API keys (rule 5)."""

    name: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    ]
    throttle: Throttle | None = None
    quota: Quota | None = None
    api_keys: list[ApiKeyName] = Field(default_factory=list)


class Authorizer(SpecModel):
    """Lambda authorizer on the proxy method (seed 002)."""

    lambda_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:")]
    type: Literal["TOKEN", "REQUEST"] = "TOKEN"
    identity_source: str = "method.request.header.Authorization"
    result_ttl_seconds: Annotated[int, Field(ge=0, le=3600)] = 300


class CustomDomain(SpecModel):
    """Regional custom domain with a base path mapping (seed 004)."""

    domain_name: Annotated[
        str, Field(min_length=1, max_length=253, pattern=r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$")
    ]
    certificate_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:acm:")]
    base_path: Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9._~-]*$")] = ""


class Api(SpecModel):
    """API Gateway in front of the NLB."""

    type: Literal["REST", "HTTP"] = "REST"
    endpoint_type: Literal["REGIONAL", "PRIVATE"] = "REGIONAL"
    vpc_endpoint_ids: list[Annotated[str, Field(pattern=r"^vpce-[0-9a-f]+$")]] = Field(
        default_factory=list
    )
    # `$default` is the HTTP API stage served at the root of the invoke URL (rules: HTTP only)
    stage_name: Annotated[
        str, Field(min_length=1, max_length=128, pattern=r"^(\$default|[A-Za-z0-9_-]+)$")
    ] = "prod"
    api_key_required: bool = False
    throttle: Throttle | None = None
    usage_plans: list[UsagePlan] = Field(default_factory=list)
    authorizer: Authorizer | None = None
    custom_domain: CustomDomain | None = None


FieldPath = Annotated[str, Field(pattern=r"^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$")]


class Drift(SpecModel):
    """How drift is handled."""

    mode: Literal["Correct", "Alert", "Ignore"] = "Correct"
    resync_seconds: Annotated[int, Field(ge=5, le=86400)] = 60
    ignore_fields: list[FieldPath] = Field(default_factory=list)


class Alerts(SpecModel):
    """Where drift alerts go (besides the log)."""

    sns_topic_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:")] | None = None
    webhook_url: Annotated[str, Field(pattern=r"^https?://")] | None = None


class Spec(SpecModel):
    """The desired state of one private path."""

    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    network: Network
    container: Container
    service: Service
    load_balancer: LoadBalancer = Field(default_factory=LoadBalancer)
    api: Api | None = None
    drift: Drift = Field(default_factory=Drift)
    alerts: Alerts = Field(default_factory=Alerts)
    deletion_policy: Literal["Delete", "Retain"] = "Delete"
    tags: TagMap = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _no_reserved_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        reserved = [k for k in tags if k.startswith(("privateservice.io/", "aws:"))]
        if reserved:
            raise ValueError(
                f"tag keys {reserved} are reserved (privateservice.io/ and aws: prefixes)"
            )
        return tags


class PrivateService(SpecModel):
    """One PrivateService document."""

    api_version: Literal["privateservice.io/v1alpha1"]
    kind: Literal["PrivateService"]
    metadata: Metadata
    spec: Spec
    # A custom resource read back from Kubernetes carries its status; it is never input.
    status: dict[str, object] | None = None

    @property
    def owner(self) -> str:
        """`<namespace>/<name>`: the owner tag value and the key of this service everywhere."""
        return self.metadata.owner
