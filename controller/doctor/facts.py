"""Everything doctor read about one chain, as AWS answered it: the input of every check.

Values are boto3 response shapes (plain dicts, keys as AWS spells them), so checks can be unit
tested on recorded or hand-written shapes without AWS. `discover` fills a `Facts` per chain; a
collection holds only what belongs to (or surrounds) that chain. Something doctor tried to read
and could not is in `unknown` (a check that needs it returns no finding for it: the hop is then
`unknown`, never `ok`); something that does not exist is absent (or `None` where noted).
Neighbours: `model` (HopRef, Unknown), `discover` (fills it), `checks` (read it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from controller.doctor.model import HopRef, Unknown

Shape = dict[str, Any]


@dataclass
class Facts:
    """One chain's AWS state. Keys: ids for API Gateway and EC2, ARNs for ELB, ECS, Lambda."""

    target: str
    """What was diagnosed: "namespace/name" of a spec, or "rest-api/ID", "http-api/ID",
    "load-balancer/NAME", "ecs-service/CLUSTER/SERVICE"."""
    owned: bool
    """True when a PrivateService owns the chain (fixes are spec changes), else AWS CLI."""
    region: str = ""
    hops: list[HopRef] = field(default_factory=list)
    """The chain as discovered, in request order (see `model.HOPS`)."""
    owned_resources: dict[str, str] = field(default_factory=dict)
    """For a chain a spec owns (`owned`): the spec's own resources as the engine's dry pass
    (`Reconciler.plan()` outputs) found them, by stack key ("nlb", "listener", "vpc-link",
    "rest-api", "stage", ...) -> ARN, else id; empty for any other chain. Filled by
    `discover.spec`; lets a check tell the spec's NLB from one the chain was re-pointed at."""

    # --- API Gateway (REST, v1) -------------------------------------------------------------
    rest_apis: dict[str, Shape] = field(default_factory=dict)
    """GetRestApi by id (`endpointConfiguration.types`, `policy` as a JSON string)."""
    stages: dict[str, list[Shape]] = field(default_factory=dict)
    """API id -> the stages diagnosed (GetStages `item`s, or apigatewayv2 GetStages `Items`)."""
    resources: dict[str, list[Shape]] = field(default_factory=dict)
    """REST API id -> GetResources(embed=["methods"]) items (methods with their integrations)."""
    deployments: dict[str, list[Shape]] = field(default_factory=dict)
    """API id -> GetDeployments items (id, createdDate), for stage-stale."""
    deployment_snapshots: dict[str, Shape] = field(default_factory=dict)
    """deployment id -> GetDeployment(embed=["apisummary"]) `apiSummary`, when read."""
    authorizers: dict[str, list[Shape]] = field(default_factory=dict)
    """API id -> GetAuthorizers items (v1) / apigatewayv2 GetAuthorizers Items (v2)."""
    usage_plans: list[Shape] = field(default_factory=list)
    """GetUsagePlans items naming one of this chain's stages, or all when a key check needs them."""
    usage_plan_keys: dict[str, list[Shape]] = field(default_factory=dict)
    """usage plan id -> GetUsagePlanKeys items."""
    api_keys: dict[str, Shape] = field(default_factory=dict)
    """API key id -> GetApiKeys item (includeValues=False: never the value)."""
    domains: dict[str, Shape] = field(default_factory=dict)
    """custom domain name -> GetDomainName (v1) or apigatewayv2 GetDomainName."""
    base_path_mappings: dict[str, list[Shape]] = field(default_factory=dict)
    """domain name -> GetBasePathMappings items (v1) / GetApiMappings Items (v2)."""
    vpc_links: dict[str, Shape] = field(default_factory=dict)
    """v1 VPC link id -> GetVpcLink (`targetArns`, `status`, `statusMessage`)."""

    # --- API Gateway (HTTP, v2) -------------------------------------------------------------
    http_apis: dict[str, Shape] = field(default_factory=dict)
    """apigatewayv2 GetApi by id."""
    integrations: dict[str, list[Shape]] = field(default_factory=dict)
    """HTTP API id -> apigatewayv2 GetIntegrations Items (IntegrationUri = listener ARN)."""
    routes: dict[str, list[Shape]] = field(default_factory=dict)
    """HTTP API id -> apigatewayv2 GetRoutes Items."""
    vpc_links_v2: dict[str, Shape] = field(default_factory=dict)
    """v2 VPC link id -> apigatewayv2 GetVpcLink (SubnetIds, SecurityGroupIds, VpcLinkStatus)."""

    # --- Lambda (authorizers) ---------------------------------------------------------------
    functions: dict[str, Shape | None] = field(default_factory=dict)
    """function ARN -> GetFunctionConfiguration; None when the function does not exist."""
    function_policies: dict[str, Shape | None] = field(default_factory=dict)
    """function ARN -> GetPolicy's `Policy` parsed from JSON; None when it has no policy."""

    # --- Elastic Load Balancing -------------------------------------------------------------
    load_balancers: dict[str, Shape] = field(default_factory=dict)
    """ARN -> DescribeLoadBalancers item (Type, Scheme, SecurityGroups, AvailabilityZones with
    SubnetId and LoadBalancerAddresses, EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic)."""
    lb_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    """LB ARN -> DescribeLoadBalancerAttributes as {Key: Value}."""
    listeners: dict[str, list[Shape]] = field(default_factory=dict)
    """LB ARN -> DescribeListeners items."""
    rules: dict[str, list[Shape]] = field(default_factory=dict)
    """listener ARN -> DescribeRules items (ALB listeners)."""
    target_groups: dict[str, Shape] = field(default_factory=dict)
    """ARN -> DescribeTargetGroups item (TargetType, Port, HealthCheckPort, LoadBalancerArns)."""
    tg_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    """TG ARN -> DescribeTargetGroupAttributes as {Key: Value} (preserve_client_ip.enabled,
    deregistration_delay.timeout_seconds)."""
    target_health: dict[str, list[Shape]] = field(default_factory=dict)
    """TG ARN -> DescribeTargetHealth TargetHealthDescriptions."""

    # --- ECS -------------------------------------------------------------------------------
    services: dict[str, Shape] = field(default_factory=dict)
    """service ARN -> DescribeServices item (loadBalancers, networkConfiguration, events,
    desiredCount, runningCount, launchType/capacityProviderStrategy, taskDefinition)."""
    task_definitions: dict[str, Shape] = field(default_factory=dict)
    """task definition ARN -> DescribeTaskDefinition `taskDefinition`."""
    stopped_tasks: dict[str, list[Shape]] = field(default_factory=dict)
    """service ARN -> DescribeTasks items of its recently stopped tasks (stoppedReason,
    containers[].reason)."""
    container_instances: dict[str, list[Shape]] = field(default_factory=dict)
    """cluster ARN -> DescribeContainerInstances items (ec2InstanceId)."""
    instances: dict[str, Shape] = field(default_factory=dict)
    """EC2 instance id -> DescribeInstances instance (SecurityGroups, SubnetId)."""

    # --- EC2 networking ---------------------------------------------------------------------
    vpcs: dict[str, Shape] = field(default_factory=dict)
    """VPC id -> DescribeVpcs item (CidrBlock, CidrBlockAssociationSet)."""
    subnets: dict[str, Shape] = field(default_factory=dict)
    """subnet id -> DescribeSubnets item (VpcId, CidrBlock, MapPublicIpOnLaunch)."""
    security_groups: dict[str, Shape] = field(default_factory=dict)
    """group id -> DescribeSecurityGroups item (IpPermissions, IpPermissionsEgress)."""
    route_tables: list[Shape] = field(default_factory=list)
    """DescribeRouteTables items of the chain's VPC(s) (Associations incl. Main, Routes)."""
    network_acls: list[Shape] = field(default_factory=list)
    """DescribeNetworkAcls items of the chain's VPC(s) (Associations, Entries)."""
    vpc_endpoints: list[Shape] = field(default_factory=list)
    """DescribeVpcEndpoints items of the chain's VPC(s) (ServiceName, VpcEndpointType,
    PrivateDnsEnabled, Groups, SubnetIds, RouteTableIds, State)."""
    addresses: list[Shape] = field(default_factory=list)
    """DescribeAddresses items (Elastic IPs) of the chain's load balancers."""

    # --- what could not be read, and the cost -----------------------------------------------
    unknown: list[Unknown] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    """AWS calls made for this chain, by "service:Operation"."""

    def unknown_on(self, hop: str) -> bool:
        """Whether something on `hop` could not be read."""
        return any(u.hop == hop for u in self.unknown)

    def vpc_cidrs(self, vpc_id: str) -> list[str]:
        """The VPC's IPv4 CIDRs (primary and associated), [] when the VPC was not read."""
        vpc = self.vpcs.get(vpc_id)
        if vpc is None:
            return []
        cidrs = [
            a["CidrBlock"]
            for a in vpc.get("CidrBlockAssociationSet", [])
            if a.get("CidrBlockState", {}).get("State", "associated") == "associated"
        ]
        primary = vpc.get("CidrBlock")
        if primary and primary not in cidrs:
            cidrs.insert(0, primary)
        return cidrs
