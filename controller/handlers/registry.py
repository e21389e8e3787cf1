"""Which handler deploys which resource kind, and the global order of kinds.

`KIND_ORDER` is a dependency order of every kind; the orphan sweep and whole-service deletion
walk it backwards. Neighbours: every `controller.handlers.*` module, `controller.reconcile.engine`.
"""

from __future__ import annotations

from controller.aws.session import AwsContext
from controller.handlers import (
    apigw_proxy,
    apigw_rest_api,
    apigw_stage,
    apigw_usage,
    apigw_vpc_link,
    ec2_security_group,
    ecs_cluster,
    ecs_service,
    ecs_task_definition,
    elbv2_listener,
    elbv2_load_balancer,
    iam_role,
    logs_log_group,
)
from controller.handlers.base import Handler

HANDLER_CLASSES: tuple[type[Handler], ...] = (
    logs_log_group.LogGroupHandler,
    ecs_cluster.ClusterHandler,
    ec2_security_group.SecurityGroupHandler,
    elbv2_load_balancer.TargetGroupHandler,
    elbv2_load_balancer.LoadBalancerHandler,
    elbv2_listener.ListenerHandler,
    iam_role.RoleHandler,
    ecs_task_definition.TaskDefinitionHandler,
    ecs_service.ServiceHandler,
    *apigw_vpc_link.HANDLERS,
    *apigw_rest_api.HANDLERS,
    *apigw_proxy.HANDLERS,
    *apigw_stage.HANDLERS,
    *apigw_usage.HANDLERS,
)

KIND_ORDER: tuple[str, ...] = tuple(h.kind for h in HANDLER_CLASSES)


def make_handlers(aws: AwsContext) -> dict[str, Handler]:
    """One handler instance per kind, sharing `aws`'s clients and call counter."""
    return {cls.kind: cls(aws) for cls in HANDLER_CLASSES}
