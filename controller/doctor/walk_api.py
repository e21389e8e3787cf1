"""Following one chain from its API: REST (stage -> methods and integrations -> VPC link v1 ->
NLB) or HTTP (stage -> integrations -> VPC link v2, listener ARN -> load balancer), with what
decides who gets through: authorizers and their Lambda functions, usage plans and their keys,
custom domains mapped to the API, deployments.

What each collection holds: `usage_plans` the plans naming this API (all of the account's when
a method requires an API key, so a plan on no stage shows); `usage_plan_keys` the keys of the
plans naming this API and of the spec's own plans; `api_keys` the metadata (never the value) of
those keys and of the spec's own keys; `domains` the custom domains with a mapping to this API
(and the spec's own domain). Neighbours: `walk` (the `Walk` it fills, the load balancer side),
`discover` (the forms of the command), `controller.aws.doctor_reads`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

from controller.doctor.facts import Shape
from controller.doctor.walk import ChainUnreadableError, Walk

LAMBDA_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>arn:[^/]+)/invocations")
STAGE_VARIABLE = re.compile(r"^\$\{stageVariables\.(?P<name>[A-Za-z0-9_]+)\}$")


@dataclass
class Owned:
    """What a spec's plan already found (ids of its own usage plans, keys and domain)."""

    usage_plans: list[str] = field(default_factory=list)
    api_keys: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)


def authorizer_function(uri: str) -> str | None:
    """The Lambda ARN inside an authorizer's URI (REST `authorizerUri`, HTTP `AuthorizerUri`)."""
    match = LAMBDA_URI.search(uri or "")
    return match.group("arn") if match else None


def _function(walk: Walk, auth_id: str, uri: str) -> None:
    arn = authorizer_function(uri)
    if arn is None or arn in walk.facts.functions:
        return
    with walk.guard("authorizer", auth_id):
        walk.facts.functions[arn] = walk.reads.function_configuration(arn)
    with walk.guard("authorizer", auth_id):
        walk.facts.function_policies[arn] = walk.reads.function_policy(arn)


# ---------------------------------------------------------------------------- REST (v1)
def rest_api(walk: Walk, api: Shape, stage: str | None, owned: Owned | None = None) -> list[str]:
    """Fill the REST API's side of the chain; the NLB ARNs its VPC links target."""
    facts, reads = walk.facts, walk.reads
    api_id = api["id"]
    facts.rest_apis[api_id] = api
    walk.hop("api", api_id)
    with walk.guard("stage", api_id):
        stages = reads.stages(api_id)
        if stage is not None:
            stages = [s for s in stages if s.get("stageName") == stage]
            if not stages:
                raise ChainUnreadableError(f"REST API {api_id} has no stage {stage!r}")
        facts.stages[api_id] = stages
        for st in stages:
            walk.hop("stage", st["stageName"])
    with walk.guard("api", api_id):
        if api_id not in facts.resources:  # already read when found upstream of a link
            facts.resources[api_id] = reads.resources(api_id)
    with walk.guard("stage", api_id):
        facts.deployments[api_id] = reads.deployments(api_id)
        for st in facts.stages.get(api_id, []):
            dep = st.get("deploymentId")
            if dep and dep not in facts.deployment_snapshots:
                summary = reads.deployment_summary(api_id, dep)
                if summary is not None:
                    facts.deployment_snapshots[dep] = summary
    with walk.guard("authorizer", api_id):
        facts.authorizers[api_id] = reads.authorizers(api_id)
        for auth in facts.authorizers[api_id]:
            walk.hop("authorizer", auth["id"])
            _function(walk, auth["id"], auth.get("authorizerUri", ""))
    _plans_and_keys(walk, api_id, owned or Owned())
    _domains_v1(walk, api_id, owned or Owned())
    return _vpc_links_v1(walk, api_id)


def _methods(walk: Walk, api_id: str) -> list[Shape]:
    return [
        method
        for res in walk.facts.resources.get(api_id, [])
        for method in (res.get("resourceMethods") or {}).values()
    ]


def _vpc_links_v1(walk: Walk, api_id: str) -> list[str]:
    """Each VPC link an integration names (stage variables resolved per stage); the load
    balancers behind them. A REST integration may also use a VPC link V2, naming its load
    balancer (NLB or ALB) in `integrationTarget`
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html):
    that link is read as a v2 one and the load balancer is the integration's."""
    ids: list[str] = []
    v2: list[str] = []
    lbs: list[str] = []
    for method in _methods(walk, api_id):
        integration = method.get("methodIntegration") or {}
        if integration.get("connectionType") != "VPC_LINK":
            continue
        link = str(integration.get("connectionId", ""))
        variable = STAGE_VARIABLE.match(link)
        names = (
            [
                st.get("variables", {}).get(variable.group("name"), "")
                for st in walk.facts.stages.get(api_id, [])
            ]
            if variable
            else [link]
        )
        target = str(integration.get("integrationTarget") or "")
        chosen = v2 if target else ids
        chosen += [n for n in names if n and n not in chosen]
        if target and target not in lbs:
            lbs.append(target)
    for link_id in ids:
        walk.hop("vpc-link", link_id)
        with walk.guard("vpc-link", link_id):
            got = walk.reads.vpc_link(link_id)
            if got is not None:
                walk.facts.vpc_links[link_id] = got
                lbs += [a for a in got.get("targetArns", []) if a not in lbs]
    for link_id in v2:
        walk.hop("vpc-link", link_id)
        with walk.guard("vpc-link", link_id):
            got = walk.reads.vpc_link_v2(link_id)
            if got is not None:
                walk.facts.vpc_links_v2[link_id] = got
    return lbs


def _plans_and_keys(walk: Walk, api_id: str, owned: Owned) -> None:
    facts, reads, memo = walk.facts, walk.reads, walk.memo
    required = any(m.get("apiKeyRequired") for m in _methods(walk, api_id))
    with walk.guard("stage", api_id):
        every = memo.get(("usage_plans",), reads.usage_plans)
        naming = [
            p
            for p in every
            if any(s.get("apiId") == api_id for s in p.get("apiStages", []))
            or p["id"] in owned.usage_plans
        ]
        facts.usage_plans = list(every) if required else naming
        for plan in naming:
            facts.usage_plan_keys[plan["id"]] = memo.get(
                ("plan_keys", plan["id"]), partial(reads.usage_plan_keys, plan["id"])
            )
    wanted = {k["id"] for keys in facts.usage_plan_keys.values() for k in keys}
    wanted |= set(owned.api_keys)
    if not wanted:
        return
    with walk.guard("stage", api_id):
        keys = memo.get(("api_keys",), reads.api_keys)
        facts.api_keys = {k["id"]: _no_value(k) for k in keys if k["id"] in wanted}


def _no_value(key: Shape) -> Shape:
    """An API key's metadata without its value, whatever the answer held."""
    return {k: v for k, v in key.items() if k != "value"}


def _domains_v1(walk: Walk, api_id: str, owned: Owned) -> None:
    facts, reads, memo = walk.facts, walk.reads, walk.memo
    with walk.guard("domain", api_id):
        for domain in memo.get(("domains",), reads.domain_names):
            name = domain["domainName"]
            mappings = memo.get(("mappings", name), partial(reads.base_path_mappings, name))
            if name in owned.domains or any(m.get("restApiId") == api_id for m in mappings):
                facts.domains[name] = domain
                facts.base_path_mappings[name] = mappings
                walk.hop("domain", name)


# ---------------------------------------------------------------------------- HTTP (v2)
def http_api(walk: Walk, api: Shape, owned: Owned | None = None) -> list[str]:
    """Fill the HTTP API's side of the chain; the load balancer ARNs its integrations name."""
    facts, reads, memo = walk.facts, walk.reads, walk.memo
    api_id = api["ApiId"]
    facts.http_apis[api_id] = api
    walk.hop("api", api_id)
    with walk.guard("stage", api_id):
        facts.stages[api_id] = reads.http_stages(api_id)
        for st in facts.stages[api_id]:
            walk.hop("stage", st["StageName"])
        facts.deployments[api_id] = reads.http_deployments(api_id)
    with walk.guard("api", api_id):
        facts.integrations[api_id] = reads.integrations(api_id)
        facts.routes[api_id] = reads.routes(api_id)
    with walk.guard("authorizer", api_id):
        facts.authorizers[api_id] = reads.http_authorizers(api_id)
        for auth in facts.authorizers[api_id]:
            walk.hop("authorizer", auth["AuthorizerId"])
            _function(walk, auth["AuthorizerId"], auth.get("AuthorizerUri", ""))
    with walk.guard("domain", api_id):
        for domain in memo.get(("domains_v2",), reads.domain_names_v2):
            name = domain["DomainName"]
            mappings = memo.get(("mappings_v2", name), partial(reads.api_mappings, name))
            if name in (owned or Owned()).domains or any(
                m.get("ApiId") == api_id for m in mappings
            ):
                facts.domains[name] = domain
                facts.base_path_mappings[name] = mappings
                walk.hop("domain", name)
    listeners: list[str] = []
    for integration in facts.integrations.get(api_id, []):
        if integration.get("ConnectionType") != "VPC_LINK":
            continue
        link_id = integration.get("ConnectionId", "")
        if link_id and link_id not in facts.vpc_links_v2:
            walk.hop("vpc-link", link_id)
            with walk.guard("vpc-link", link_id):
                got = reads.vpc_link_v2(link_id)
                if got is not None:
                    facts.vpc_links_v2[link_id] = got
        uri = integration.get("IntegrationUri", "")
        if ":listener/" in uri and uri not in listeners:
            listeners.append(uri)
    lbs: list[str] = []
    with walk.guard("vpc-link", api_id):
        for listener in reads.listeners_by_arn(listeners) if listeners else []:
            if listener["LoadBalancerArn"] not in lbs:
                lbs.append(listener["LoadBalancerArn"])
    return lbs


def private_endpoints(walk: Walk, api: Shape) -> None:
    """A PRIVATE REST API's execute-api interface endpoints (of the VPC, or named by the API)."""
    config = api.get("endpointConfiguration") or {}
    if "PRIVATE" not in config.get("types", []):
        return
    named = set(config.get("vpcEndpointIds") or [])
    for ep in walk.facts.vpc_endpoints:
        if ep["VpcEndpointId"] in named or str(ep.get("ServiceName", "")).endswith(".execute-api"):
            walk.hop("vpc-endpoint", ep["VpcEndpointId"])
