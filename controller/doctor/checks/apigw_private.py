"""Doctor checks for how clients reach the API: `private-api-unreachable` (PRIVATE REST APIs)
and `domain-mapping-missing` (custom domains). Pure functions of `Facts`.

AWS rules they follow:
- "You can only invoke a private API from within a VPC using a VPC endpoint. Your private API
  must have a resource policy that allows specific VPCs and VPC endpoints to invoke your API"
  (developer guide, "Invoke a private API",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-test-invoke-url.html);
  such policies admit `execute-api:Invoke` on conditions `aws:SourceVpce` / `aws:SourceVpc`
  ("API Gateway resource policy examples"). `execute-api:/*` stands for every stage, method
  and path of the API. A condition key absent from the request makes the condition false
  (IAM User Guide, "Condition operators"). A statement with a condition doctor does not model
  is taken to admit (Allow) and not to refuse (Deny): never a false alarm.
- The API's default name `{api-id}.execute-api.{region}.amazonaws.com` resolves to the
  endpoint inside the VPC only when the `execute-api` interface endpoint has private DNS
  enabled; without it, callers must use the endpoint-specific hostname with a Host or
  `x-apigw-api-id` header (same page; AWS re:Post "api-gateway-vpc-connections").
- A custom domain name serves an API stage only through a base path mapping (v1) or API
  mapping (v2) to it: "The AWS::ApiGateway::BasePathMapping resource creates a base path that
  clients who call your API must use in the invocation URL" (CloudFormation reference;
  `stage` "(none)" maps every stage, the stage then being the first path segment).
Neighbours: `apigw_common` (policies, wildcards), `controller.doctor.checks.apigw` (CHECKS).
"""

from __future__ import annotations

import json
from typing import Any

from controller.doctor.checks.apigw_common import (
    as_list,
    like,
    load_policy,
    rest_stages,
    statements,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, finding

INVOKE = "execute-api:Invoke"
MODELLED = ("aws:sourcevpce", "aws:sourcevpc")


def _execute_api_endpoints(facts: Facts) -> list[Shape]:
    """The chain's VPCs' execute-api interface endpoints that are available."""
    return [
        e
        for e in facts.vpc_endpoints
        if str(e.get("ServiceName", "")).endswith(".execute-api")
        and str(e.get("VpcEndpointType", "Interface")).lower() == "interface"
        and str(e.get("State", "available")).lower() == "available"
    ]


def _resource_matches(pattern: str, api: str, stage: str) -> bool:
    """Whether a policy Resource can cover some method of (api, stage)."""
    if pattern == "*":
        return True
    if pattern.startswith("execute-api:/"):
        first = pattern[len("execute-api:/") :].split("/", 1)[0] or "*"
        return like(first, stage)
    parts = pattern.split(":", 5)
    if len(parts) != 6 or not like(parts[2], "execute-api"):
        return False
    segments = parts[5].split("/")
    if not like(segments[0], api):
        return False
    return len(segments) < 2 or "*" in segments[0] or like(segments[1], stage)


def _holds(condition: dict[str, Any], context: dict[str, str]) -> bool | None:
    """True/False for conditions on modelled keys only; None when any key is not modelled."""
    modelled = True
    for raw_op, block in condition.items():
        op = raw_op.split(":")[-1].removesuffix("IfExists")
        for raw_key, raw_values in (block or {}).items():
            key = raw_key.lower()
            if key not in MODELLED:
                modelled = False
                continue
            value, values = context[key], as_list(raw_values)
            if op == "StringEquals":
                ok = value in values
            elif op == "StringNotEquals":
                ok = value not in values
            elif op == "StringEqualsIgnoreCase":
                ok = value.lower() in {v.lower() for v in values}
            elif op == "StringNotEqualsIgnoreCase":
                ok = value.lower() not in {v.lower() for v in values}
            elif op == "StringLike":
                ok = any(like(v, value) for v in values)
            elif op == "StringNotLike":
                ok = not any(like(v, value) for v in values)
            else:
                modelled = False
                continue
            if not ok:
                return False
    return True if modelled else None


def admits(policy: dict[str, Any], api: str, stage: str, endpoint: Shape) -> bool:
    """Whether the API's resource policy lets a call through `endpoint` invoke (api, stage)."""
    context = {
        "aws:sourcevpce": str(endpoint.get("VpcEndpointId", "")),
        "aws:sourcevpc": str(endpoint.get("VpcId", "")),
    }
    allowed = denied = False
    for st in statements(policy):
        effect = st.get("Effect")
        if "NotAction" in st or "NotResource" in st:
            allowed = allowed or effect == "Allow"  # not modelled: assume it admits
            continue
        if not any(like(a, INVOKE, ignore_case=True) for a in as_list(st.get("Action"))):
            continue
        if not any(_resource_matches(r, api, stage) for r in as_list(st.get("Resource")) or ["*"]):
            continue
        holds = _holds(st.get("Condition") or {}, context)
        if effect == "Allow" and holds is not False:
            allowed = True
        elif effect == "Deny" and holds is True:
            denied = True
    return allowed and not denied


def _policy_cli(api: str, stage: str, endpoint_ids: list[str]) -> str:
    """update-rest-api with a policy admitting the endpoints, then a redeploy."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": INVOKE,
                "Resource": "execute-api:/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": endpoint_ids or ["VPCE_ID"]}},
            }
        ],
    }
    ops = json.dumps([{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    return (
        f"aws apigateway update-rest-api --rest-api-id {api} --patch-operations '{ops}' && "
        f"aws apigateway create-deployment --rest-api-id {api} --stage-name {stage}"
    )


def private_api_unreachable(facts: Facts) -> list[Finding]:
    """`private-api-unreachable`: a PRIVATE REST API has no resource policy, its policy admits
    none of its VPC's execute-api endpoints, the VPC has no such endpoint, or none of the
    admitted endpoints has private DNS.

    Needs the endpoints read: the chain's VPC described (`facts.vpcs`) and nothing unknown on
    the `vpc-endpoint`, `network` or `api` hops.
    """
    if any(facts.unknown_on(h) for h in ("api", "vpc-endpoint", "network")) or not facts.vpcs:
        return []
    endpoints = _execute_api_endpoints(facts)
    vpcs = ", ".join(sorted(facts.vpcs))
    found: list[Finding] = []
    for api, shape in sorted(facts.rest_apis.items()):
        if "PRIVATE" not in (shape.get("endpointConfiguration") or {}).get("types", []):
            continue
        stages = [str(s.get("stageName", "")) for a, s in rest_stages(facts) if a == api]
        stage = stages[0] if stages else "STAGE"
        policy = load_policy(shape.get("policy"))
        ids = [str(e.get("VpcEndpointId")) for e in endpoints]
        service = f"com.amazonaws.{facts.region or 'REGION'}.execute-api"
        if not endpoints:
            message = (
                f"PRIVATE API {api}: VPC {vpcs} has no available execute-api interface endpoint"
            )
            fix_spec = "leave spec.api.vpcEndpointIds empty: `psctl apply -f` creates one"
            vpc = sorted(facts.vpcs)[0]
            fix_cli = (
                f"aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Interface "
                f"--service-name {service} --subnet-ids SUBNET_IDS --security-group-ids "
                "GROUP_ADMITTING_443_FROM_VPC --private-dns-enabled"
            )
            hop, resource = "vpc-endpoint", vpc
        elif policy is None:
            message = f"PRIVATE API {api} has no resource policy, so it admits no caller"
            fix_spec, fix_cli = _policy_fix(api, stage, ids)
            hop, resource = "api", api
        else:
            closed = [
                s for s in stages or ["*"] if not any(admits(policy, api, s, e) for e in endpoints)
            ]
            if closed:
                message = (
                    f"PRIVATE API {api}: its resource policy admits none of VPC {vpcs}'s "
                    f"execute-api endpoints ({', '.join(ids)}) on stage {', '.join(closed)}"
                )
                fix_spec, fix_cli = _policy_fix(api, closed[0], ids)
                hop, resource = "api", api
            else:
                usable = [
                    e for s in stages or ["*"] for e in endpoints if admits(policy, api, s, e)
                ]
                if any(e.get("PrivateDnsEnabled") for e in usable):
                    continue
                first = str(usable[0].get("VpcEndpointId"))
                message = (
                    f"PRIVATE API {api}: the execute-api endpoints its policy admits "
                    f"({', '.join(sorted({str(e.get('VpcEndpointId')) for e in usable}))}) "
                    "have private DNS off"
                )
                fix_spec = (
                    "list an endpoint with private DNS in spec.api.vpcEndpointIds (or leave "
                    "it empty: `psctl apply -f` creates one with private DNS)"
                )
                fix_cli = (
                    f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {first} --private-dns-enabled"
                )
                hop, resource = "vpc-endpoint", first
        found.append(
            finding(
                "private-api-unreachable",
                hop,
                resource,
                message,
                why=(
                    "A PRIVATE API answers only calls that come through an execute-api VPC "
                    "endpoint its resource policy admits, at a name that resolves to that "
                    "endpoint: anything else gets 403 Forbidden or does not resolve (field "
                    "report 002)."
                ),
                fix_spec=fix_spec,
                fix_cli=fix_cli,
            )
        )
    return found


def _policy_fix(api: str, stage: str, ids: list[str]) -> tuple[str, str]:
    return (
        f"set spec.api.vpcEndpointIds: [{', '.join(ids)}] (or leave it empty for the VPC's "
        "execute-api endpoints); `psctl apply -f` writes the policy and redeploys",
        _policy_cli(api, stage, ids),
    )


def _mapped(mapping: Shape) -> tuple[str, str]:
    """(API id, stage) of a v1 base path mapping or a v2 API mapping; stage "*" for all."""
    api = str(mapping.get("restApiId") or mapping.get("ApiId") or "")
    stage = str(mapping.get("stage") or mapping.get("Stage") or "*")
    return api, "*" if stage == "(none)" else stage


def domain_mapping_missing(facts: Facts) -> list[Finding]:
    """`domain-mapping-missing`: a custom domain of the chain has no base path mapping (v1) or
    API mapping (v2) to any diagnosed stage of the chain's APIs."""
    if facts.unknown_on("domain"):
        return []
    chain = {
        (api, str(s.get("stageName") or s.get("StageName") or ""))
        for api, stages in facts.stages.items()
        for s in stages
    }
    if not chain:
        return []
    api, stage = sorted(chain)[0]
    found: list[Finding] = []
    for domain in sorted(facts.domains):
        mappings = facts.base_path_mappings.get(domain)
        if mappings is None:
            continue
        mapped = [_mapped(m) for m in mappings]
        if any(a == c_api and s in ("*", c_stage) for a, s in mapped for c_api, c_stage in chain):
            continue
        elsewhere = ", ".join(f"{a}/{s}" for a, s in mapped) or "nothing"
        if api in facts.rest_apis:
            cli = (
                f"aws apigateway create-base-path-mapping --domain-name {domain} "
                f"--rest-api-id {api} --stage {stage}"
            )
        else:
            cli = (
                f"aws apigatewayv2 create-api-mapping --domain-name {domain} --api-id {api} "
                f"--stage {stage}"
            )
        found.append(
            finding(
                "domain-mapping-missing",
                "domain",
                domain,
                f"custom domain {domain} has no mapping to stage {stage} of API {api} "
                f"(it maps {elsewhere})",
                why=(
                    "A custom domain forwards a request only along a base path mapping; "
                    "without one to this stage, calls to the domain get 403 Forbidden and "
                    "never reach the API (field report 004)."
                ),
                fix_spec=(
                    "no spec field: `psctl apply -f` maps spec.api.customDomain.domainName "
                    "(basePath spec.api.customDomain.basePath) to spec.api.stageName again"
                ),
                fix_cli=cli,
            )
        )
    return found
