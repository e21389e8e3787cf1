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
from controller.doctor.checks.apigw_links import redeploy, rest_link_uses
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, finding


def listener_port_mismatch(facts: Facts) -> list[Finding]:
    """`listener-port-mismatch`: a REST integration's URI port is not a listener port of the
    NLB its VPC link targets, or an HTTP API integration names a listener its load balancer no
    longer has. The NLB refuses the connection: API Gateway answers 500 (REST) / 503 (HTTP)."""
    if facts.unknown_on("nlb-listener") or facts.unknown_on("nlb"):
        return []
    found: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for use in rest_link_uses(facts):
        link = facts.vpc_links.get(use.link)
        port = uri_port(use.uri) if use.uri else None
        if link is None or port is None:
            continue
        for nlb in link.get("targetArns") or []:
            if nlb not in facts.load_balancers or nlb not in facts.listeners:
                continue
            ports = sorted({int(lst["Port"]) for lst in facts.listeners[nlb] if "Port" in lst})
            key = (use.api, use.resource_id + use.method, nlb)
            if port in ports or key in seen:
                continue
            seen.add(key)
            want = ports[0] if ports else None
            new_uri = _with_port(use.uri or "", want) if want else "URI_WITH_LISTENER_PORT"
            found.append(
                finding(
                    "listener-port-mismatch",
                    "nlb-listener",
                    nlb,
                    f"{use.method} {use.path} of API {use.api} connects to port {port} "
                    f"({use.uri}), but NLB {lb_name(facts, nlb)} listens on "
                    f"{', '.join(map(str, ports)) or 'no port'}",
                    why=(
                        "The VPC link hands the connection to the NLB on the URI's port; with "
                        "no listener there the NLB refuses it and API Gateway returns 500."
                    ),
                    fix_spec=(
                        "no spec field: `psctl apply -f` puts the integration URI back on "
                        "spec.loadBalancer.listener.port (or change that port to the one the "
                        "integration uses)"
                    ),
                    fix_cli=(
                        f"aws apigateway update-integration --rest-api-id {use.api} "
                        f"--resource-id {use.resource_id} --http-method {use.method} "
                        f"--patch-operations op=replace,path=/uri,value={new_uri} && "
                        f"{redeploy(use.api, use.stage)}"
                    ),
                )
            )
    found.extend(_v2_listener_missing(facts))
    return found


def _v2_listener_missing(facts: Facts) -> list[Finding]:
    """HTTP API integrations naming a listener their (existing) load balancer does not have."""
    found: list[Finding] = []
    for api, integrations in sorted(facts.integrations.items()):
        for integ in integrations:
            if integ.get("ConnectionType") != "VPC_LINK":
                continue
            listener = str(integ.get("IntegrationUri") or "")
            lb = listener_lb_arn(listener)
            if lb is None or lb not in facts.load_balancers or lb not in facts.listeners:
                continue
            have = facts.listeners[lb]
            if any(lst.get("ListenerArn") == listener for lst in have):
                continue
            integ_id = str(integ.get("IntegrationId", ""))
            ports = ", ".join(str(lst.get("Port")) for lst in have) or "no port"
            target = str(have[0]["ListenerArn"]) if have else "LISTENER_ARN"
            found.append(
                finding(
                    "listener-port-mismatch",
                    "nlb-listener",
                    lb,
                    f"HTTP API {api} integration {integ_id} names listener {listener}, which "
                    f"{lb_name(facts, lb)} does not have (its listeners: {ports})",
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
