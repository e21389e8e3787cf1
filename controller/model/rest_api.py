"""The REST API part of the desired stack: VPC Link v1 -> REST API -> proxy -> deployment ->
stage -> usage plans -> API keys -> usage-plan keys (rules 5 and 6). Pure, like `build`.
Neighbours: `controller.model.build` (calls `add_rest_api`), `controller.handlers.apigw_*`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from controller.model import names
from controller.model.stack import Ref, Resource, Stack
from controller.spec.models import Api, PrivateService


def add_rest_api(stack: Stack, ps: PrivateService, api: Api) -> None:
    """VPC Link v1 -> REST API -> proxy -> deployment -> stage -> plans -> keys (rules 5, 6)."""
    ns, nm = ps.metadata.namespace, ps.metadata.name
    lb = ps.spec.load_balancer
    stack.add(
        Resource(
            "vpc-link",
            "apigw.vpc_link",
            "vpc-link",
            {
                "name": names.api_object_name(ns, nm),
                "targetArns": [Ref("nlb", "arn")],
            },
        )
    )
    rest = stack.add(
        Resource(
            "rest-api",
            "apigw.rest_api",
            "rest-api",
            {
                "name": names.api_object_name(ns, nm),
                "description": f"privateservice {ps.owner}",
                "endpointType": api.endpoint_type,
                "apiKeySource": "HEADER",
            },
        )
    )
    proxy: dict[str, Any] = {
        "restApiId": rest,
        "apiKeyRequired": api.api_key_required,
        "authorizationType": "NONE",
        "integration": {
            "type": "HTTP_PROXY",
            "httpMethod": "ANY",
            "uri": {
                "nlbDnsName": Ref("nlb", "dnsName"),
                "port": lb.listener.port,
                "scheme": "https" if lb.listener.protocol == "TLS" else "http",
            },
            "connectionType": "VPC_LINK",
            "connectionId": Ref("vpc-link"),
        },
    }
    stack.add(
        Resource(
            "proxy", "apigw.proxy", "rest-api", proxy, {"apiKeyRequired": "api.apiKeyRequired"}
        )
    )
    # A deployment snapshots the API: a new one only when what it snapshots changes.
    fingerprint = hashlib.sha256(
        json.dumps(
            {k: v for k, v in proxy.items() if k != "restApiId"}, default=str, sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    stack.add(
        Resource(
            "deployment",
            "apigw.deployment",
            "rest-api",
            {
                "restApiId": rest,
                "fingerprint": fingerprint,
            },
            extra_deps=("proxy",),
        )
    )
    throttle = (
        {"rateLimit": api.throttle.rate_limit, "burstLimit": api.throttle.burst_limit}
        if api.throttle
        else None
    )
    stack.add(
        Resource(
            "stage",
            "apigw.stage",
            "stage",
            {
                "restApiId": rest,
                "stageName": api.stage_name,
                "deploymentId": Ref("deployment"),
                "throttle": throttle,
            },
            {"throttle": "api.throttle"},
        )
    )
    for plan in api.usage_plans:
        plan_ref = stack.add(
            Resource(
                f"usage-plan/{plan.name}",
                "apigw.usage_plan",
                "usage-plan",
                {
                    "name": names.api_object_name(ns, nm, plan.name),
                    "throttle": (
                        {
                            "rateLimit": plan.throttle.rate_limit,
                            "burstLimit": plan.throttle.burst_limit,
                        }
                        if plan.throttle
                        else None
                    ),
                    "quota": (
                        {
                            "limit": plan.quota.limit,
                            "period": plan.quota.period,
                            "offset": plan.quota.offset,
                        }
                        if plan.quota
                        else None
                    ),
                    "apiStages": [{"apiId": rest, "stage": Ref("stage", "name")}],
                },
                {"throttle": "api.usagePlans.throttle", "quota": "api.usagePlans.quota"},
            )
        )
        for key_name in plan.api_keys:
            key_key = f"api-key/{key_name}"
            if key_key not in stack.resources:
                stack.add(
                    Resource(
                        key_key,
                        "apigw.api_key",
                        "api-key",
                        {
                            "name": names.api_object_name(ns, nm, key_name),
                            "enabled": True,
                        },
                    )
                )
            stack.add(
                Resource(
                    f"usage-plan-key/{plan.name}/{key_name}",
                    "apigw.usage_plan_key",
                    "usage-plan-key",
                    {
                        "usagePlanId": plan_ref,
                        "keyId": Ref(key_key),
                    },
                )
            )
