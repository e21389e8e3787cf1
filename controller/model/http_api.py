"""The HTTP API part of the desired stack (rule 6): VPC Link v2 -> HTTP API -> integration ->
routes -> auto-deployed stage. Pure, like `build`.

The VPC Link v2 puts its network interfaces in the spec's subnets, behind a security group of its
own (`vpc-link-sg`, egress to the VPC on the listener port only); the load balancer's group (the
NLB's, or the ALB's when there is an ALB tier) admits that port from it (`extend_ingress`). The
integration is HTTP_PROXY over the link on the listener ARN (NLB `listener`, or `alb-listener`),
payload format 1.0, with the path overwritten by `$request.path` (the path without the stage:
a named stage is otherwise forwarded as a path prefix, unlike REST APIs). Two routes:
`ANY /{proxy+}` for every path and `$default` for what it does not match, the stage root above
all (`/{proxy+}` needs one path segment). The stage deploys itself (`autoDeploy`: HTTP APIs need
no deployment resource) and carries the spec's throttle as its default route settings.
Keys differ from the REST layer's (`vpc-link-v2`, `http-api`, `http-stage`...) so that the
sweep removes the REST resources when a spec switches type, and the other way round.
Neighbours: `controller.model.build` (calls `add_http_api`), `controller.model.load_balancer`
(`nlb-sg`, `listener`), the ALB layer (`alb-sg`, `alb-listener`), `controller.handlers.apigwv2_*`.
"""

from __future__ import annotations

from controller.model import kinds, names
from controller.model.common import extend_ingress, tcp_from
from controller.model.network import Network
from controller.model.props import SecurityGroup
from controller.model.props_api import HttpApi, HttpStage, Integration, Route, Throttle, VpcLinkV2
from controller.model.stack import Lazy, Ref, Resource, Stack
from controller.spec.models import Api, PrivateService

ROUTE_KEYS = {"proxy": "ANY /{proxy+}", "default": "$default"}
PATH_WITHOUT_STAGE = {"overwrite:path": "$request.path"}


def _target(ps: PrivateService) -> tuple[str, str, int]:
    """(security group key, listener key, listener port) of what the link reaches."""
    lb = ps.spec.load_balancer
    if lb.alb is not None:
        return "alb-sg", "alb-listener", lb.alb.listener_port
    return "nlb-sg", "listener", lb.listener.port


def throttle_props(api: Api) -> Throttle | None:
    """The stage's default route throttle in the handler's shape, or None."""
    if api.throttle is None:
        return None
    return {"rateLimit": api.throttle.rate_limit, "burstLimit": api.throttle.burst_limit}


def add_http_api(stack: Stack, ps: PrivateService, net: Network, api: Api) -> None:
    """VPC Link v2 (and its group), HTTP API, integration, routes and stage (rule 6)."""
    ns, nm = ps.metadata.namespace, ps.metadata.name
    group_key, listener_key, port = _target(ps)
    link_sg = stack.add(
        Resource(
            "vpc-link-sg",
            kinds.EC2_SECURITY_GROUP,
            "vpc-link-sg",
            SecurityGroup[Lazy](
                {
                    "name": names.aws_name(ns, nm, "vpclink", 255),
                    "description": f"privateservice {ps.owner}: API Gateway VPC link",
                    "vpcId": net.vpc_id,
                    "ingress": [],  # nothing connects to the link's interfaces
                    "egress": [
                        {"protocol": "tcp", "fromPort": port, "toPort": port, "cidr": net.cidr}
                    ],
                    # an old listener port stays open while our old listener still serves on it
                    "keepPortsListenedBy": names.aws_name(
                        ns, nm, "alb" if listener_key == "alb-listener" else "nlb", 32
                    ),
                }
            ),
        )
    )
    extend_ingress(
        stack, group_key, tcp_from(port, group=link_sg, why="listener from the API's VPC link")
    )
    link = stack.add(
        Resource(
            "vpc-link-v2",
            kinds.APIGWV2_VPC_LINK,
            "vpc-link",
            VpcLinkV2[Lazy](
                {
                    "name": names.api_object_name(ns, nm),
                    "subnetIds": sorted(net.subnet_ids),
                    "securityGroupIds": [link_sg],
                }
            ),
        )
    )
    http_api = stack.add(
        Resource(
            "http-api",
            kinds.APIGWV2_API,
            "http-api",
            HttpApi(
                {
                    "name": names.api_object_name(ns, nm),
                    "description": f"privateservice {ps.owner}",
                    "protocolType": "HTTP",
                    "disableExecuteApiEndpoint": False,  # the status endpoint is the default one
                }
            ),
        )
    )
    integration = stack.add(
        Resource(
            "http-integration",
            kinds.APIGWV2_INTEGRATION,
            "http-api",
            Integration[Lazy](
                {
                    "apiId": http_api,
                    "integrationType": "HTTP_PROXY",
                    "integrationMethod": "ANY",
                    "connectionType": "VPC_LINK",
                    "connectionId": link,
                    "integrationUri": Ref(listener_key, "arn"),
                    "payloadFormatVersion": "1.0",
                    "requestParameters": dict(PATH_WITHOUT_STAGE),
                }
            ),
        )
    )
    for suffix, route_key in ROUTE_KEYS.items():
        stack.add(
            Resource(
                f"http-route/{suffix}",
                kinds.APIGWV2_ROUTE,
                "http-api",
                Route[Lazy](
                    {
                        "apiId": http_api,
                        "routeKey": route_key,
                        "integrationId": integration,
                        "authorizationType": "NONE",
                    }
                ),
            )
        )
    stack.add(
        Resource(
            "http-stage",
            kinds.APIGWV2_STAGE,
            "stage",
            HttpStage[Lazy](
                {
                    "apiId": http_api,
                    "stageName": api.stage_name,
                    "autoDeploy": True,
                    "throttle": throttle_props(api),
                }
            ),
            {"throttle": "api.throttle"},
            # auto-deploy snapshots the routes: create the stage once they exist
            extra_deps=tuple(f"http-route/{suffix}" for suffix in ROUTE_KEYS),
        )
    )
