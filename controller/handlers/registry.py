"""Which handler deploys which resource kind, and the one global order of kinds.

`HANDLERS` lists every handler class, producers before consumers: apply walks the stack by its
dependency levels, and the orphan sweep and whole-service deletion walk this order backwards
(listeners before load balancers, plan keys before plans). A new handler goes into this list, at
its place; a test checks that every handler module's classes are in it exactly once.
Neighbours: every `controller.handlers.*` module, `controller.reconcile.engine`.
"""

from __future__ import annotations

from controller.aws.session import AwsContext
from controller.handlers.apigw_authorizer import AuthorizerHandler
from controller.handlers.apigw_domain import BasePathMappingHandler, DomainNameHandler
from controller.handlers.apigw_proxy import ProxyHandler
from controller.handlers.apigw_rest_api import RestApiHandler
from controller.handlers.apigw_stage import DeploymentHandler, StageHandler
from controller.handlers.apigw_usage import ApiKeyHandler, UsagePlanHandler, UsagePlanKeyHandler
from controller.handlers.apigw_vpc_link import VpcLinkHandler
from controller.handlers.apigwv2_api import HttpApiHandler
from controller.handlers.apigwv2_integration import IntegrationHandler
from controller.handlers.apigwv2_route import RouteHandler
from controller.handlers.apigwv2_stage import HttpStageHandler
from controller.handlers.apigwv2_vpc_link import VpcLinkV2Handler
from controller.handlers.base import Handler
from controller.handlers.ec2_elastic_ip import ElasticIpHandler
from controller.handlers.ec2_security_group import SecurityGroupHandler
from controller.handlers.ec2_sg_rules import SecurityGroupRulesHandler
from controller.handlers.ec2_vpc_endpoint import VpcEndpointHandler
from controller.handlers.ecs_cluster import ClusterHandler
from controller.handlers.ecs_service import ServiceHandler
from controller.handlers.ecs_task_definition import TaskDefinitionHandler
from controller.handlers.elbv2_listener import ListenerHandler
from controller.handlers.elbv2_load_balancer import LoadBalancerHandler
from controller.handlers.elbv2_old_listeners import OldListenersHandler
from controller.handlers.elbv2_rules import ListenerRulesHandler
from controller.handlers.elbv2_target_group import TargetGroupHandler
from controller.handlers.elbv2_targets import TargetsHandler
from controller.handlers.iam_role import RoleHandler
from controller.handlers.lambda_permission import LambdaPermissionHandler
from controller.handlers.logs_log_group import LogGroupHandler
from controller.handlers.servicediscovery_namespace import NamespaceHandler

HANDLERS: tuple[type[Handler], ...] = (
    LogGroupHandler,
    ClusterHandler,
    NamespaceHandler,
    TargetGroupHandler,  # before the task group, which keeps ports its targets still serve
    SecurityGroupHandler,
    SecurityGroupRulesHandler,
    ElasticIpHandler,
    LoadBalancerHandler,
    ListenerHandler,
    ListenerRulesHandler,
    TargetsHandler,
    RoleHandler,
    TaskDefinitionHandler,
    ServiceHandler,
    VpcEndpointHandler,
    VpcLinkHandler,
    VpcLinkV2Handler,
    HttpApiHandler,
    IntegrationHandler,
    RouteHandler,
    HttpStageHandler,
    RestApiHandler,
    DomainNameHandler,
    AuthorizerHandler,
    LambdaPermissionHandler,
    ProxyHandler,
    DeploymentHandler,
    StageHandler,
    BasePathMappingHandler,
    UsagePlanHandler,
    ApiKeyHandler,
    UsagePlanKeyHandler,
    OldListenersHandler,  # after the API's stages: an old listener goes once they moved off it
)


def handler_classes() -> tuple[type[Handler], ...]:
    """Every handler class, in dependency order."""
    return HANDLERS


def make_handlers(aws: AwsContext) -> dict[str, Handler]:
    """One handler instance per kind, sharing `aws`'s clients and call counter, in order."""
    return {cls.kind: cls(aws) for cls in HANDLERS}
