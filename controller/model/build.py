"""spec + discovered network -> the desired Stack (pure: no boto3, no I/O).

The rules of the contract hold here by construction: the target group is `ip` (rule 1), the task
security group admits the container port from the NLB's group and the VPC CIDR and nothing from
anywhere (rule 2), an NLB behind a VPC Link has PrivateLink enforcement off and admits the
listener port from the VPC CIDR (rule 3), tasks never get a public IP (rule 4), every API key is
in its plan and every plan on the stage (rule 5), REST APIs go through a VPC Link v1 to the NLB
(rule 6), and a grace period and a short deregistration delay are always set (rule 7).
Each layer has its module: `load_balancer`, `service`, `rest_api`. Neighbours: `controller.spec`
(input), `controller.model.stack` (output types).
"""

from __future__ import annotations

from controller.model import kinds, names
from controller.model.http_api import add_http_api
from controller.model.load_balancer import add_load_balancer, add_old_listeners, attach_service
from controller.model.network import Network
from controller.model.props import Cluster, LogGroup
from controller.model.rest_api import add_rest_api
from controller.model.service import add_service
from controller.model.stack import Resource, Stack
from controller.spec.models import PrivateService


def build_stack(ps: PrivateService, net: Network) -> Stack:
    """The desired resources for `ps` in `net`, with their dependencies."""
    meta, spec = ps.metadata, ps.spec
    ns, nm = meta.namespace, meta.name
    stack = Stack(owner=ps.owner, tags=dict(spec.tags))
    c, svc = spec.container, spec.service
    stack.add(
        Resource(
            "log-group",
            kinds.LOGS_LOG_GROUP,
            "log-group",
            LogGroup(
                {
                    "name": names.log_group_name(ns, nm),
                    "retentionDays": c.log_retention_days,
                }
            ),
            {"retentionDays": "container.logRetentionDays"},
        )
    )

    stack.add(
        Resource("ecs-cluster", kinds.ECS_CLUSTER, "ecs-cluster", Cluster({"name": svc.cluster}))
    )
    add_load_balancer(stack, ps, net)
    add_service(stack, ps, net)
    attach_service(stack, ps)  # the ALB tier, when there is one, stands between
    if spec.api is not None and spec.api.type == "HTTP":
        add_http_api(stack, ps, net, spec.api)
    elif spec.api is not None:
        add_rest_api(stack, ps, spec.api, net)
    add_old_listeners(stack, ps)  # after the API's stage: a listener port change's old listener
    return stack
