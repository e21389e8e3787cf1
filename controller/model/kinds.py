"""Every resource kind's name, written once: the model builds `Resource`s with these and each
handler's `kind` is one of them, so that a misspelt kind is a NameError (and a mypy error)
instead of a resource no handler deploys.

A kind is `<service>.<what>`; the value is what plans, logs, status and the replacement table
show, so it never changes. Pure data. Neighbours: `controller.model.stack` (`Resource.kind`),
`controller.handlers.registry` (one handler per kind), `controller.handlers.replacements`.
"""

from __future__ import annotations

from typing import Final

APIGW_API_KEY: Final = "apigw.api_key"
APIGW_AUTHORIZER: Final = "apigw.authorizer"
APIGW_BASE_PATH_MAPPING: Final = "apigw.base_path_mapping"
APIGW_DEPLOYMENT: Final = "apigw.deployment"
APIGW_DOMAIN_NAME: Final = "apigw.domain_name"
APIGW_PROXY: Final = "apigw.proxy"
APIGW_REST_API: Final = "apigw.rest_api"
APIGW_STAGE: Final = "apigw.stage"
APIGW_USAGE_PLAN: Final = "apigw.usage_plan"
APIGW_USAGE_PLAN_KEY: Final = "apigw.usage_plan_key"
APIGW_VPC_LINK: Final = "apigw.vpc_link"

APIGWV2_API: Final = "apigwv2.api"
APIGWV2_INTEGRATION: Final = "apigwv2.integration"
APIGWV2_ROUTE: Final = "apigwv2.route"
APIGWV2_STAGE: Final = "apigwv2.stage"
APIGWV2_VPC_LINK: Final = "apigwv2.vpc_link"

EC2_ELASTIC_IP: Final = "ec2.elastic_ip"
EC2_SECURITY_GROUP: Final = "ec2.security_group"
EC2_SG_RULES: Final = "ec2.sg_rules"
EC2_VPC_ENDPOINT: Final = "ec2.vpc_endpoint"

ECS_CLUSTER: Final = "ecs.cluster"
ECS_SERVICE: Final = "ecs.service"
ECS_TASK_DEFINITION: Final = "ecs.task_definition"

ELBV2_LISTENER: Final = "elbv2.listener"
ELBV2_LISTENER_RULES: Final = "elbv2.listener_rules"
ELBV2_LOAD_BALANCER: Final = "elbv2.load_balancer"
ELBV2_OLD_LISTENERS: Final = "elbv2.old_listeners"
ELBV2_TARGET_GROUP: Final = "elbv2.target_group"
ELBV2_TARGETS: Final = "elbv2.targets"

IAM_ROLE: Final = "iam.role"
LAMBDA_PERMISSION: Final = "lambda.permission"
LOGS_LOG_GROUP: Final = "logs.log_group"
SERVICEDISCOVERY_NAMESPACE: Final = "servicediscovery.namespace"

ALL: Final = (
    APIGW_API_KEY,
    APIGW_AUTHORIZER,
    APIGW_BASE_PATH_MAPPING,
    APIGW_DEPLOYMENT,
    APIGW_DOMAIN_NAME,
    APIGW_PROXY,
    APIGW_REST_API,
    APIGW_STAGE,
    APIGW_USAGE_PLAN,
    APIGW_USAGE_PLAN_KEY,
    APIGW_VPC_LINK,
    APIGWV2_API,
    APIGWV2_INTEGRATION,
    APIGWV2_ROUTE,
    APIGWV2_STAGE,
    APIGWV2_VPC_LINK,
    EC2_ELASTIC_IP,
    EC2_SECURITY_GROUP,
    EC2_SG_RULES,
    EC2_VPC_ENDPOINT,
    ECS_CLUSTER,
    ECS_SERVICE,
    ECS_TASK_DEFINITION,
    ELBV2_LISTENER,
    ELBV2_LISTENER_RULES,
    ELBV2_LOAD_BALANCER,
    ELBV2_OLD_LISTENERS,
    ELBV2_TARGET_GROUP,
    ELBV2_TARGETS,
    IAM_ROLE,
    LAMBDA_PERMISSION,
    LOGS_LOG_GROUP,
    SERVICEDISCOVERY_NAMESPACE,
)
"""Every kind, each once (a test checks one handler per kind)."""
