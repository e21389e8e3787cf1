"""Doctor check `listener-port-mismatch`: the port (REST) or listener (HTTP API) an integration
connects to is not a listener of the load balancer its VPC link reaches. Pure function of `Facts`.

AWS rules it follows: a REST private integration reaches the NLB its VPC link v1 targets on the
port of the integration URI (the scheme's default when none); each service is "a specific
listener on the NLB" chosen by that port (developer guide, "Set up a Network Load Balancer for
API Gateway private integrations (legacy)",
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-nlb-for-vpclink-using-console.html).
An HTTP API private integration names the listener ARN itself (`IntegrationUri`; "Create
private integrations for HTTP APIs"). The NLB refuses a connection on a port it does not listen
on: API Gateway answers 500 (REST) or 503 (HTTP API).
Neighbours: `apigw_links` (`rest_link_uses`, `redeploy`), `apigw_common`, `apigw` (CHECKS).
"""

from __future__ import annotations

from controller.doctor.checks.apigw_common import lb_name, listener_lb_arn, uri_port
from controller.doctor.checks.apigw_links import LinkUse, redeploy, rest_link_uses, v2_front
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, finding


def listener_port_mismatch(facts: Facts) -> list[Finding]:
    """`listener-port-mismatch`: a REST integration's URI port is not a listener port of the
    NLB its VPC link targets, or an HTTP API integration names a listener its load balancer no
    longer has. The NLB refuses the connection: API Gateway answers 500 (REST) / 503 (HTTP)."""
    if facts.unknown_on("nlb-listener") or facts.unknown_on("nlb"):
        return []
    groups: dict[tuple[str, str, str, int], list[LinkUse]] = {}
    for use in rest_link_uses(facts):
        link = facts.vpc_links.get(use.link)
        port = uri_port(use.uri) if use.uri else None
        if link is None or port is None:
            continue
        for nlb in link.get("targetArns") or []:
            if nlb not in facts.load_balancers or nlb not in facts.listeners:
                continue
            ports = {int(lst["Port"]) for lst in facts.listeners[nlb] if "Port" in lst}
            if port not in ports:
                groups.setdefault((use.api, use.stage, nlb, port), []).append(use)
    found = [_rest_finding(facts, key, uses) for key, uses in sorted(groups.items())]
    found.extend(_v2_listener_missing(facts))
    return found


def _rest_finding(facts: Facts, key: tuple[str, str, str, int], uses: list[LinkUse]) -> Finding:
    """One finding per (API, stage, NLB, port), naming every method that uses that port."""
    api, stage, nlb, port = key
    ports = sorted({int(lst["Port"]) for lst in facts.listeners[nlb] if "Port" in lst})
    methods = sorted({f"{u.method} {u.path}" for u in uses})
    verb = "connects" if len(methods) == 1 else "connect"
    updates = " && ".join(
        f"aws apigateway update-integration --rest-api-id {api} --resource-id {u.resource_id} "
        f"--http-method {u.method} --patch-operations op=replace,path=/uri,"
        f"value={_with_port(u.uri or '', ports[0]) if ports else 'URI_WITH_LISTENER_PORT'}"
        for u in sorted(uses, key=lambda u: (u.path, u.method))
        if u.stage == stage
    )
    return finding(
        "listener-port-mismatch",
        "nlb-listener",
        nlb,
        f"{', '.join(methods)} of API {api} {verb} to port {port} ({uses[0].uri}), but NLB "
        f"{lb_name(facts, nlb)} listens on {', '.join(map(str, ports)) or 'no port'}",
        why=(
            "The VPC link hands the connection to the NLB on the URI's port; with no listener "
            "there the NLB refuses it and API Gateway returns 500."
        ),
        fix_spec=(
            "no spec field: `psctl apply -f` puts the integration URI back on "
            "spec.loadBalancer.listener.port (or change that port to the one the integration "
            "uses)"
        ),
        fix_cli=f"{updates} && {redeploy(api, stage)}",
    )


def _v2_listener_missing(facts: Facts) -> list[Finding]:
    """HTTP API integrations naming a listener their load balancer does not have, or one that
    discovery could not find at all (DescribeListeners by ARN: deleted, perhaps with its load
    balancer; AWS does not say which)."""
    found: list[Finding] = []
    front = v2_front(facts)
    for api, integrations in sorted(facts.integrations.items()):
        for integ in integrations:
            if integ.get("ConnectionType") != "VPC_LINK":
                continue
            listener = str(integ.get("IntegrationUri") or "")
            lb = listener_lb_arn(listener)
            if lb is None or (front and lb not in front):
                continue  # another load balancer's listener: vpc-link-wrong-target
            integ_id = str(integ.get("IntegrationId", ""))
            if lb in facts.load_balancers and lb in facts.listeners:
                have = facts.listeners[lb]
                if any(lst.get("ListenerArn") == listener for lst in have):
                    continue
                ports = ", ".join(str(lst.get("Port")) for lst in have) or "no port"
                what = f"which {lb_name(facts, lb)} does not have (its listeners: {ports})"
            elif lb not in facts.load_balancers and not facts.unknown_on("vpc-link"):
                have = facts.listeners.get(front[0], []) if front else []
                what = f"which does not exist (deleted, or its load balancer {lb} with it)"
            else:
                continue
            target = str(have[0]["ListenerArn"]) if have else "LISTENER_ARN"
            found.append(
                finding(
                    "listener-port-mismatch",
                    "nlb-listener",
                    lb,
                    f"HTTP API {api} integration {integ_id} names listener {listener}, {what}",
                    why=(
                        "An HTTP API private integration connects to the listener it names; "
                        "a deleted listener leaves nothing to connect to and API Gateway "
                        "returns 503."
                    ),
                    fix_spec=(
                        "no spec field: `psctl apply -f` recreates the listener on "
                        "spec.loadBalancer.listener.port and points the integration at it"
                    ),
                    fix_cli=(
                        f"aws apigatewayv2 update-integration --api-id {api} --integration-id "
                        f"{integ_id} --integration-uri {target}"
                    ),
                )
            )
    return found


def _with_port(uri: str, port: int) -> str:
    """The URI with its port replaced (or added)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    host, slash, path = rest.partition("/")
    hostname = host.rsplit(":", 1)[0] if ":" in host else host
    return f"{scheme}://{hostname}:{port}{slash}{path}"
