"""`api.type: HTTP` end to end over HTTP: HTTP API -> VPC Link v2 -> internal NLB -> Fargate.

The orders example with an HTTP API (no usage plans, no API keys). Every assertion reads AWS
back through its own clients, never through the controller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chain import OWNER, apply, delete, keep, mutating_since, orders, owned_everywhere, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler
from controller.spec.models import PrivateService

API = {"type": "HTTP", "stageName": "prod", "throttle": {"rateLimit": 100, "burstLimit": 200}}
LINK_SG = "ps-shop-orders-vpclink"


def http_orders() -> PrivateService:
    """examples/orders-rest-nlb.yaml with an HTTP API in front."""
    return spec(orders(spec__api=API))


@pytest.fixture
def kept_chain(kept: Any) -> Iterator[Any]:
    """The HTTP orders chain applied, kept by the worker's sandbox across tests (`chain.keep`)."""
    yield from keep(kept, "functional: orders with an HTTP API", http_orders)


@pytest.fixture
def http_applied(kept_chain: Any, ctx: AwsContext) -> AwsContext:
    """The HTTP orders chain applied and converged (`kept_chain`: `aws` and `ctx` are its
    sandbox)."""
    del kept_chain
    return ctx


def _planned(ctx: AwsContext) -> dict[str, list[str]]:
    """key -> changed paths (or the action) for every resource the plan would touch."""
    outcome = Reconciler(http_orders(), ctx).plan()
    assert not outcome.errors, outcome.errors
    return {
        c.key: [d.path for d in c.deltas] or [str(c.action)]
        for c in outcome.changes
        if c.action is not Action.NOOP
    }


def _owned(tags: dict[str, str], component: str) -> bool:
    return (
        tags.get(ownership.OWNER) == OWNER
        and tags.get(ownership.COMPONENT) == component
        and tags.get("team") == "shop"
    )


def _group(aws: Any, name: str) -> dict[str, Any]:
    (group,) = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return dict(group)


def test_apply_builds_the_http_api_chain(aws: Any, http_applied: AwsContext):
    """Link v2 in the private subnets behind its group, the NLB group admitting it, the HTTP
    API with its integration on the NLB listener through the link, routes, throttled stage."""
    v2, ec2, elb = (aws.client(s) for s in ("apigatewayv2", "ec2", "elbv2"))
    link_sg = _group(aws, LINK_SG)
    assert _owned(ownership.from_list(link_sg["Tags"]), "vpc-link-sg")

    (link,) = v2.get_vpc_links()["Items"]
    assert link["VpcLinkStatus"] == "AVAILABLE"
    assert sorted(link["SubnetIds"]) == sorted(aws.network.private_subnet_ids)
    assert link["SecurityGroupIds"] == [link_sg["GroupId"]]
    assert _owned(link["Tags"], "vpc-link")

    (nlb,) = elb.describe_load_balancers(Names=["ps-shop-orders-nlb"])["LoadBalancers"]
    assert nlb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": nlb["SecurityGroups"]}]
    )["SecurityGroupRules"]
    sources = {
        (r["FromPort"], r.get("CidrIpv4") or r["ReferencedGroupInfo"]["GroupId"])
        for r in rules
        if not r["IsEgress"]
    }
    assert sources == {(80, aws.network.cidr), (80, link_sg["GroupId"])}
    (listener,) = elb.describe_listeners(LoadBalancerArn=nlb["LoadBalancerArn"])["Listeners"]

    (api,) = v2.get_apis()["Items"]
    assert api["ProtocolType"] == "HTTP"
    assert _owned(api["Tags"], "http-api")
    (integration,) = v2.get_integrations(ApiId=api["ApiId"])["Items"]
    assert integration["IntegrationType"] == "HTTP_PROXY"
    assert integration["ConnectionType"] == "VPC_LINK"
    assert integration["ConnectionId"] == link["VpcLinkId"]
    assert integration["IntegrationUri"] == listener["ListenerArn"]
    assert integration["PayloadFormatVersion"] == "1.0"
    routes = {r["RouteKey"]: r["Target"] for r in v2.get_routes(ApiId=api["ApiId"])["Items"]}
    target = f"integrations/{integration['IntegrationId']}"
    assert routes == {"ANY /{proxy+}": target, "$default": target}
    stage = v2.get_stage(ApiId=api["ApiId"], StageName="prod")
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 100
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 200
    assert _owned(stage["Tags"], "stage")

    outputs = Reconciler(http_orders(), http_applied).plan().outputs
    assert outputs["http-stage"]["invokeUrl"] == (
        f"https://{api['ApiId']}.execute-api.{aws.region}.amazonaws.com/prod"
    )
    assert outputs["http-api"]["apiEndpoint"] == api["ApiEndpoint"]


def test_second_apply_makes_no_mutating_call(http_applied: AwsContext):
    """Converged means converged: nothing to plan, nothing to change."""
    assert _planned(http_applied) == {}
    before = http_applied.counter.mutating()
    result = apply(http_orders(), http_applied)
    assert result.converged, result.reason
    assert mutating_since(http_applied, before) == {}


def _api_id(aws: Any) -> str:
    (api,) = aws.client("apigatewayv2").get_apis()["Items"]
    return str(api["ApiId"])


def _stage_throttle(aws: Any) -> None:
    aws.client("apigatewayv2").update_stage(
        ApiId=_api_id(aws),
        StageName="prod",
        DefaultRouteSettings={"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1},
    )


def _route_deleted(aws: Any) -> None:
    v2 = aws.client("apigatewayv2")
    api_id = _api_id(aws)
    route = next(r for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] != "$default")
    v2.delete_route(ApiId=api_id, RouteId=route["RouteId"])


def _link_rule_revoked(aws: Any) -> None:
    ec2 = aws.client("ec2")
    link_sg = _group(aws, LINK_SG)["GroupId"]
    nlb_sg = _group(aws, "ps-shop-orders-nlb")["GroupId"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [nlb_sg]}])[
        "SecurityGroupRules"
    ]
    ids = [
        r["SecurityGroupRuleId"]
        for r in rules
        if r.get("ReferencedGroupInfo", {}).get("GroupId") == link_sg
    ]
    ec2.revoke_security_group_ingress(GroupId=nlb_sg, SecurityGroupRuleIds=ids)


def _integration_moved(aws: Any) -> None:
    v2 = aws.client("apigatewayv2")
    api_id = _api_id(aws)
    (integration,) = v2.get_integrations(ApiId=api_id)["Items"]
    v2.update_integration(
        ApiId=api_id,
        IntegrationId=integration["IntegrationId"],
        IntegrationUri="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/x/1/2",
    )


@pytest.mark.parametrize(
    ("drift", "planned", "calls"),
    [
        pytest.param(
            _stage_throttle,
            {"http-stage": ["throttle.rateLimit", "throttle.burstLimit"]},
            {("apigatewayv2", "UpdateStage")},
            id="stage-throttle",
        ),
        pytest.param(
            _route_deleted,
            {"http-route/proxy": ["create"]},
            {("apigatewayv2", "CreateRoute")},
            id="route-deleted",
        ),
        pytest.param(
            _link_rule_revoked,
            {"nlb-sg": ["ingress"]},
            {("ec2", "AuthorizeSecurityGroupIngress")},
            id="nlb-group-rule-revoked",
        ),
        pytest.param(
            _integration_moved,
            {"http-integration": ["integrationUri"]},
            {("apigatewayv2", "UpdateIntegration")},
            id="integration-uri",
        ),
    ],
)
def test_a_change_behind_our_back_shows_in_plan_and_apply_undoes_it(
    aws: Any,
    http_applied: AwsContext,
    drift: Callable[[Any], None],
    planned: dict[str, list[str]],
    calls: set[tuple[str, str]],
):
    """Drift: plan finds exactly it, apply makes only the calls that undo it, plan is clean."""
    drift(aws)
    assert _planned(http_applied) == planned
    before = http_applied.counter.mutating()
    result = apply(http_orders(), http_applied)
    assert result.converged, result.reason
    assert set(mutating_since(http_applied, before)) == calls
    assert _planned(http_applied) == {}


@pytest.mark.usefixtures("spent")
def test_delete_leaves_nothing_owned(aws: Any, http_applied: AwsContext):
    """Reverse order, waits included (the link's group is in use until the link is gone)."""
    result = delete(http_orders(), http_applied)
    assert result.converged, result.reason
    v2 = aws.client("apigatewayv2")
    assert v2.get_apis()["Items"] == []
    assert v2.get_vpc_links()["Items"] == []
    assert owned_everywhere(aws) == {}


def test_switching_from_rest_to_http_sweeps_the_rest_api(aws: Any, ctx: AwsContext):
    """A spec that changes `api.type` leaves no REST API or v1 link behind (distinct keys)."""
    result = apply(spec(orders()), ctx)
    assert result.converged, result.reason
    result = apply(http_orders(), ctx)
    assert result.converged, result.reason
    apigw = aws.client("apigateway")
    assert apigw.get_rest_apis()["items"] == []
    assert apigw.get_vpc_links()["items"] == []
    assert apigw.get_usage_plans()["items"] == []
    assert len(aws.client("apigatewayv2").get_apis()["Items"]) == 1


def test_default_stage_is_served_at_the_url_root(aws: Any, ctx: AwsContext):
    """`stageName: "$default"` (issue 15): the `$default` stage is created and the status
    endpoint is the API's base URL, with no stage prefix (AWS: "a $default stage that is served
    from the base of your API's URL", developerguide/http-api-stages.html)."""
    from controller.reconcile import status

    ps = spec(orders(spec__api=API | {"stageName": "$default"}))
    result = apply(ps, ctx)
    assert result.converged, result.reason
    v2 = aws.client("apigatewayv2")
    api_id = _api_id(aws)
    assert v2.get_stage(ApiId=api_id, StageName="$default")["AutoDeploy"] is True
    st = status.compute(ps, Reconciler(ps, ctx).plan(), ctx.region)
    assert status.document(ps, st)["status"]["endpoint"] == (
        f"https://{api_id}.execute-api.{aws.region}.amazonaws.com/"
    )
