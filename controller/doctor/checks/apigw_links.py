"""Doctor checks on the API -> VPC Link hops: `vpc-link-not-available` and
`vpc-link-wrong-target` (REST APIs over VPC links v1, HTTP APIs over VPC links v2), and which
REST methods go through which link (`rest_link_uses`, shared with `apigw_ports`). Pure
functions of `Facts`.

AWS rules they follow:
- VPC link v1 `status` is AVAILABLE, PENDING, DELETING or FAILED; "Deploying an API will wait if
  the status is PENDING and will fail if the status is DELETING" (API Gateway API reference,
  VpcLink, https://docs.aws.amazon.com/apigateway/latest/api/API_VpcLink.html). VPC links v2
  go PENDING -> AVAILABLE (API Gateway developer guide, "Set up VPC links V2 in API Gateway",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html).
- A REST private integration reaches the NLB of its VPC link (`targetArns`), and the NLB "must
  have a listener that routes requests to resources in your VPC"; each service is a listener on
  its own port, chosen by the port of the integration URI (developer guide, "Private integration
  using VPC links V1 (legacy)" and "Set up a Network Load Balancer for API Gateway private
  integrations (legacy)", https://docs.aws.amazon.com/apigateway/latest/developerguide/vpc-links-v1.html).
- An HTTP API private integration names the listener itself (`IntegrationUri` = listener ARN)
  and reaches it from the VPC link v2's subnets ("Create private integrations for HTTP APIs").
Neighbours: `apigw_common` (reading), `apigw_ports` (listener ports),
`controller.doctor.checks.apigw` (CHECKS).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from controller.doctor.checks.apigw_common import (
    hop_resources,
    lb_name,
    listener_lb_arn,
    resolve,
    rest_methods,
    rest_stages,
)
from controller.doctor.facts import Facts, Shape
from controller.doctor.model import Finding, finding

BAD_V1 = ("PENDING", "FAILED", "DELETING")
BAD_V2 = ("PENDING", "FAILED", "DELETING")


@dataclass(frozen=True)
class LinkUse:
    """A REST method whose integration goes through a VPC link v1."""

    api: str
    stage: str
    resource_id: str
    path: str
    method: str
    link: str
    uri: str | None


def rest_link_uses(facts: Facts) -> Iterator[LinkUse]:
    """Every (stage, method) whose integration is VPC_LINK, with its link id resolved."""
    for api, stage in rest_stages(facts):
        name = str(stage.get("stageName", ""))
        for m in rest_methods(facts, api):
            if m.integration.get("connectionType") != "VPC_LINK":
                continue
            link = resolve(str(m.integration.get("connectionId") or ""), stage)
            if not link:
                continue
            raw_uri = m.integration.get("uri")
            uri = resolve(str(raw_uri), stage) if raw_uri else None
            yield LinkUse(api, name, m.resource_id, m.path, m.method, link, uri)


def redeploy(api: str, stage: str) -> str:
    return f"aws apigateway create-deployment --rest-api-id {api} --stage-name {stage}"


def new_link_v1(name: str, target: str, uses: list[LinkUse]) -> str:
    """Commands that create a VPC link to `target`, move the methods in `uses` onto it (the
    new id in $LINK) and redeploy their stages."""
    create = (
        f"LINK=$(aws apigateway create-vpc-link --name {name} --target-arns {target} "
        "--query id --output text)"
    )
    moves = [
        f"aws apigateway update-integration --rest-api-id {u.api} --resource-id {u.resource_id} "
        f"--http-method {u.method} --patch-operations op=replace,path=/connectionId,value=$LINK"
        for u in uses
    ] or [
        "aws apigateway update-integration --rest-api-id API_ID --resource-id RESOURCE_ID "
        "--http-method ANY --patch-operations op=replace,path=/connectionId,value=$LINK"
    ]
    stages = sorted({(u.api, u.stage) for u in uses})
    return " && ".join([create, *moves, *(redeploy(a, s) for a, s in stages)])


def _new_link_v2(facts: Facts, link_id: str, link: Shape) -> str:
    """Commands that create a VPC link v2 like `link` and move its integrations onto it."""
    subnets = " ".join(map(str, link.get("SubnetIds") or [])) or "SUBNET_IDS"
    groups = " ".join(map(str, link.get("SecurityGroupIds") or [])) or "SECURITY_GROUP_IDS"
    create = (
        f"LINK=$(aws apigatewayv2 create-vpc-link --name {link.get('Name') or link_id} "
        f"--subnet-ids {subnets} --security-group-ids {groups} --query VpcLinkId --output text)"
    )
    moves = [
        f"aws apigatewayv2 update-integration --api-id {api} --integration-id "
        f"{i.get('IntegrationId')} --connection-id $LINK"
        for api, items in sorted(facts.integrations.items())
        for i in items
        if i.get("ConnectionId") == link_id
    ]
    return " && ".join([create, *moves])


def vpc_link_not_available(facts: Facts) -> list[Finding]:
    """`vpc-link-not-available`: a VPC link (v1 or v2) of the chain is PENDING, FAILED or
    DELETING; its status message says why. Requests through it fail until it is AVAILABLE."""
    if facts.unknown_on("vpc-link"):
        return []
    found: list[Finding] = []
    uses: dict[str, list[LinkUse]] = {}
    for use in rest_link_uses(facts):
        uses.setdefault(use.link, []).append(use)
    for link_id, link in sorted(facts.vpc_links.items()):
        status = str(link.get("status", ""))
        if status not in BAD_V1:
            continue
        message = str(link.get("statusMessage") or "no status message")
        targets = " ".join(link.get("targetArns") or []) or "NLB_ARN"
        recreate = new_link_v1(f"{link.get('name') or link_id}-new", targets, uses.get(link_id, []))
        found.append(
            finding(
                "vpc-link-not-available",
                "vpc-link",
                link_id,
                f"VPC link {link_id} is {status}: {message}",
                why=_why(status),
                fix_spec=(
                    "no spec field: wait while it is PENDING; a FAILED or DELETING link is "
                    "deleted and `psctl apply` creates it again (fix the cause in the status "
                    "message first, e.g. the NLB in spec.loadBalancer)"
                ),
                fix_cli=(
                    f"aws apigateway get-vpc-link --vpc-link-id {link_id}"
                    if status == "PENDING"
                    else recreate
                ),
            )
        )
    for link_id, link in sorted(facts.vpc_links_v2.items()):
        status = str(link.get("VpcLinkStatus", ""))
        if status not in BAD_V2:
            continue
        message = str(link.get("VpcLinkStatusMessage") or "no status message")
        recreate = _new_link_v2(facts, link_id, link)
        found.append(
            finding(
                "vpc-link-not-available",
                "vpc-link",
                link_id,
                f"VPC link (v2) {link_id} is {status}: {message}",
                why=_why(status),
                fix_spec=(
                    "no spec field: wait while it is PENDING; a FAILED link is deleted and "
                    "`psctl apply` creates it again in spec.network's subnets"
                ),
                fix_cli=(
                    f"aws apigatewayv2 get-vpc-link --vpc-link-id {link_id}"
                    if status == "PENDING"
                    else recreate
                ),
            )
        )
    return found


def _why(status: str) -> str:
    if status == "PENDING":
        return (
            "API Gateway is still creating the link's network interfaces (minutes): until it is "
            "AVAILABLE no request reaches the load balancer, and deployments wait."
        )
    if status == "DELETING":
        return "The link is being deleted: requests through it fail and deploying the API fails."
    return (
        "API Gateway could not set the link up, so every request through it fails with a 500 "
        "before reaching the load balancer."
    )


def vpc_link_wrong_target(facts: Facts) -> list[Finding]:
    """`vpc-link-wrong-target`: a REST integration's VPC link targets an NLB that is not the
    chain's (the spec's own NLB for a chain a spec owns, else the `nlb` hop), or one that no
    longer exists; an HTTP API integration names a listener of a load balancer that is not the
    chain's front one (the spec's listener's, else the `nlb`/`alb` hop) or no longer exists, or
    its VPC link v2 sits in another VPC than that load balancer.

    "No longer exists" relies on discovery having described every target it met: a target
    that could not be read is an Unknown on the `nlb` hop, and then this check says nothing.
    """
    if facts.unknown_on("vpc-link") or facts.unknown_on("nlb"):
        return []
    found: list[Finding] = []
    own = facts.owned_resources.get("nlb")
    chain_nlbs = [own] if own else hop_resources(facts, "nlb")
    uses: dict[str, list[LinkUse]] = {}
    for use in rest_link_uses(facts):
        uses.setdefault(use.link, []).append(use)
    for link_id, link in sorted(facts.vpc_links.items()):
        targets = [str(t) for t in link.get("targetArns") or []]
        if not targets:
            continue
        where = uses.get(link_id, [])
        api = where[0].api if where else "API_ID"
        gone = [t for t in targets if t not in facts.load_balancers]
        if gone:
            what = f"targets {', '.join(gone)}, which no longer exists"
            want = chain_nlbs[0] if chain_nlbs and chain_nlbs[0] not in gone else "NLB_ARN"
        elif chain_nlbs and not set(targets) & set(chain_nlbs):
            what = f"targets {', '.join(targets)}, not the chain's NLB {chain_nlbs[0]}"
            want = chain_nlbs[0]
        else:
            continue
        methods = ", ".join(f"{u.method} {u.path}" for u in where)
        found.append(
            finding(
                "vpc-link-wrong-target",
                "vpc-link",
                link_id,
                f"VPC link {link_id} {what}"
                + (f" (used by {methods} of API {api})" if methods else ""),
                why=(
                    "A REST API's private integration reaches whatever NLB its VPC link "
                    "targets: requests go to the wrong service, or fail with a 500 when that "
                    "NLB is gone."
                ),
                fix_spec=(
                    "no spec field: `psctl apply -f` points the spec's VPC link at "
                    "the spec's own NLB again (rule 6)"
                ),
                fix_cli=new_link_v1(f"{link.get('name') or link_id}-fixed", want, where),
            )
        )
    found.extend(_v2_wrong_target(facts))
    return found


def _v2_wrong_target(facts: Facts) -> list[Finding]:
    """HTTP API integrations whose listener belongs to the wrong load balancer, or whose VPC
    link v2 is in another VPC (a listener that no longer exists is `listener-port-mismatch`)."""
    found: list[Finding] = []
    front = v2_front(facts)
    for api, integrations in sorted(facts.integrations.items()):
        for integ in integrations:
            if integ.get("ConnectionType") != "VPC_LINK":
                continue
            listener = str(integ.get("IntegrationUri") or "")
            lb = listener_lb_arn(listener)
            if lb is None:
                continue
            integ_id = str(integ.get("IntegrationId", ""))
            link_id = str(integ.get("ConnectionId", ""))
            want = front[0] if front else None
            if front and lb not in front:
                what = (
                    f"names listener {listener} of {lb_name(facts, lb)}, "
                    f"not of {lb_name(facts, front[0])}"
                )
            elif lb not in facts.load_balancers:
                continue  # the listener is gone (or its load balancer): listener-port-mismatch
            else:
                what = _v2_link_vpc_mismatch(facts, link_id, lb)
                if not what:
                    continue
            listeners = facts.listeners.get(want or "", [])
            target = str(listeners[0]["ListenerArn"]) if listeners else "LISTENER_ARN"
            found.append(
                finding(
                    "vpc-link-wrong-target",
                    "vpc-link",
                    link_id or integ_id,
                    f"HTTP API {api} integration {integ_id} (VPC link {link_id}) {what}",
                    why=(
                        "An HTTP API's private integration sends each request to the listener "
                        "it names, through its VPC link: the wrong load balancer serves it, or "
                        "the request fails with a 500 (503 when nothing answers)."
                    ),
                    fix_spec=(
                        "no spec field: `psctl apply -f` sets the integration back to the "
                        "spec's listener (rule 6)"
                    ),
                    fix_cli=(
                        f"aws apigatewayv2 update-integration --api-id {api} --integration-id "
                        f"{integ_id} --integration-uri {target}"
                    ),
                )
            )
    return found


def v2_front(facts: Facts) -> list[str]:
    """The load balancer(s) an HTTP API integration should reach: the spec's listener's for a
    chain a spec owns, else the discovered `nlb`/`alb` hops."""
    own = facts.owned_resources
    expected = listener_lb_arn(own.get("alb-listener") or own.get("listener") or "")
    return [expected] if expected else hop_resources(facts, "nlb", "alb")


def _v2_link_vpc_mismatch(facts: Facts, link_id: str, lb: str) -> str:
    """Why the v2 link cannot reach the load balancer's VPC ("" when it can or it is unknown)."""
    link = facts.vpc_links_v2.get(link_id)
    shape = facts.load_balancers.get(lb)
    if link is None or shape is None or not shape.get("VpcId"):
        return ""
    vpcs = {
        str(facts.subnets[s]["VpcId"])
        for s in link.get("SubnetIds") or []
        if s in facts.subnets and facts.subnets[s].get("VpcId")
    }
    if not vpcs or shape["VpcId"] in vpcs:
        return ""
    return (
        f"uses a VPC link whose subnets are in {', '.join(sorted(vpcs))}, while "
        f"{lb_name(facts, lb)} is in {shape['VpcId']}"
    )
