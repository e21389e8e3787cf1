"""A create whose answer is lost after AWS carried it out makes nothing twice (issue 11, item 1).

`LoseAnswer` plays a proxy that drops one answer: on botocore's per-attempt `before-send` it
sends the request to the sandbox itself (AWS acts on it) and then raises `ConnectionClosedError`,
as a connection reset before the answer would. botocore's retry would resend the request; the
controller must end with exactly one resource per name for every create it cannot deduplicate
by a client token, and the sweep must delete a second owned instance left by an older version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from botocore.exceptions import ConnectionClosedError
from chain import EXAMPLES, apply, orders, spec

from controller.aws import session as aws_session
from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.handlers.apigw_rest_api import RestApiHandler
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

HTTP_API = {"type": "HTTP", "stageName": "prod"}


class LoseAnswer:
    """Send the request of one operation, then lose its answer (`times` times)."""

    def __init__(self, ctx: AwsContext, service: str, operation: str, times: int = 1) -> None:
        client = ctx.client(service)
        self.send = client._endpoint.http_session.send
        self.left = times
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service_id}.{operation}", self)

    def __call__(self, request: Any, **_: Any) -> None:
        """Let the request reach AWS; raise as if the connection broke before the answer."""
        if self.left <= 0:
            return
        self.left -= 1
        self.send(request)
        raise ConnectionClosedError(endpoint_url=request.url)


def _owned(items: list[dict[str, Any]], owner: str, tags: Callable[[dict[str, Any]], Any]) -> list:
    return [i for i in items if dict(tags(i) or {}).get(ownership.OWNER) == owner]


def _names(aws: Any, operation: str, owner: str) -> Counter[str]:
    """How many resources of what `operation` creates carry `owner`'s tag, by name."""
    apigw, v2 = aws.client("apigateway"), aws.client("apigatewayv2")
    if operation == "RegisterTaskDefinition":
        arns = aws.client("ecs").list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
        return Counter(a.rsplit("/", 1)[-1].rsplit(":", 1)[0] for a in arns)
    if operation == "CreateSecurityGroup":
        groups = aws.client("ec2").describe_security_groups()["SecurityGroups"]
        owned = _owned(groups, owner, lambda g: ownership.from_list(g.get("Tags")))
        return Counter(g["GroupName"] for g in owned)
    if operation == "CreateRule":
        elb = aws.client("elbv2")
        counts: Counter[str] = Counter()
        for lb in elb.describe_load_balancers()["LoadBalancers"]:
            for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
                rules = elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
                counts.update(f"{li['ListenerArn']} {r['Priority']}" for r in rules)
        return counts
    if operation == "AllocateAddress":
        found = aws.client("ec2").describe_addresses()["Addresses"]
        owned = [ownership.from_list(a.get("Tags")) for a in found]
        return Counter(t.get("Name", "") for t in owned if t.get(ownership.OWNER) == owner)
    listing: dict[str, tuple[list[dict[str, Any]], str, str]] = {
        "CreateRestApi": (apigw.get_rest_apis()["items"], "name", "tags"),
        "CreateApiKey": (apigw.get_api_keys()["items"], "name", "tags"),
        "CreateUsagePlan": (apigw.get_usage_plans()["items"], "name", "tags"),
        "CreateVpcLink": (apigw.get_vpc_links()["items"], "name", "tags"),
        "CreateVpcLinkV2": (v2.get_vpc_links()["Items"], "Name", "Tags"),
        "CreateApi": (v2.get_apis()["Items"], "Name", "Tags"),
    }
    items, name, tags = listing[operation]
    return Counter(i[name] for i in _owned(items, owner, lambda i: i.get(tags)))


def _orders() -> Any:
    return spec(orders())


def _http_orders() -> Any:
    return spec(orders(spec__api=HTTP_API))


def _catalog() -> Any:
    return spec(yaml.safe_load((EXAMPLES / "catalog-nlb-alb.yaml").read_text()))


def _storefront() -> Any:
    return spec(yaml.safe_load((EXAMPLES / "storefront-public-nlb.yaml").read_text()))


CASES = [
    ("apigateway", "CreateRestApi", "CreateRestApi", _orders, "shop/orders"),
    ("apigateway", "CreateApiKey", "CreateApiKey", _orders, "shop/orders"),
    ("apigateway", "CreateUsagePlan", "CreateUsagePlan", _orders, "shop/orders"),
    ("apigateway", "CreateVpcLink", "CreateVpcLink", _orders, "shop/orders"),
    ("apigatewayv2", "CreateVpcLink", "CreateVpcLinkV2", _http_orders, "shop/orders"),
    ("apigatewayv2", "CreateApi", "CreateApi", _http_orders, "shop/orders"),
    ("ecs", "RegisterTaskDefinition", "RegisterTaskDefinition", _orders, "shop/orders"),
    ("ec2", "AllocateAddress", "AllocateAddress", _storefront, "web/storefront"),
    # creates AWS refuses to repeat: botocore resends, the "already exists" is adopted
    ("ec2", "CreateSecurityGroup", "CreateSecurityGroup", _orders, "shop/orders"),
    ("ec2", "AuthorizeSecurityGroupIngress", "CreateSecurityGroup", _orders, "shop/orders"),
    ("elbv2", "CreateRule", "CreateRule", _catalog, "shop/catalog"),
]


@pytest.mark.parametrize(
    ("service", "operation", "count", "make", "owner"), CASES, ids=[c[1] for c in CASES]
)
def test_a_lost_answer_makes_no_duplicate(
    aws: Any,
    ctx: AwsContext,
    service: str,
    operation: str,
    count: str,
    make: Callable[[], Any],
    owner: str,
) -> None:
    """The create reached AWS, its answer was lost: apply converges with one resource per name."""
    lose = LoseAnswer(ctx, service, operation)
    result = apply(make(), ctx)
    assert result.converged, result.reason
    assert lose.left == 0  # the answer was lost once
    names = _names(aws, count, owner)
    assert names, f"nothing made by {operation}"
    assert max(names.values()) == 1, names


def test_without_the_guard_botocore_resends_and_duplicates(
    aws: Any, ctx: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness is faithful: with every create resendable (and the sweep's duplicate check
    off), botocore's retry makes a second REST API, as the issue measured."""
    monkeypatch.setattr(aws_session, "UNSAFE_TO_RESEND", frozenset())
    monkeypatch.setattr(RestApiHandler, "single_instance", False)
    LoseAnswer(ctx, "apigateway", "CreateRestApi")
    result = apply(_orders(), ctx)
    assert result.converged, result.reason
    assert _names(aws, "CreateRestApi", "shop/orders") == Counter({"shop/orders": 2})


def test_the_sweep_deletes_a_second_owned_instance_and_keeps_the_one_in_use(
    aws: Any, ctx: AwsContext
) -> None:
    """A duplicate left by an older version (same name, our tags) is reported and deleted."""
    assert apply(_orders(), ctx).converged
    apigw = aws.client("apigateway")
    (api,) = [a for a in apigw.get_rest_apis()["items"] if a["name"] == "shop/orders"]
    (plan,) = [p for p in apigw.get_usage_plans()["items"] if p.get("tags")]
    extra_api = apigw.create_rest_api(name=api["name"], tags=api["tags"])["id"]
    extra_plan = apigw.create_usage_plan(name=plan["name"], tags=plan["tags"])["id"]

    outcome = Reconciler(_orders(), ctx).plan()
    swept = {c.id: c for c in outcome.changes if c.action is Action.DELETE}
    assert set(swept) == {extra_api, extra_plan}
    assert "second owned instance" in (swept[extra_api].message or "")

    assert apply(_orders(), ctx).converged
    ids = [a["id"] for a in apigw.get_rest_apis()["items"] if a["name"] == "shop/orders"]
    assert ids == [api["id"]]
    plans = [p["id"] for p in apigw.get_usage_plans()["items"] if p["name"] == plan["name"]]
    assert plans == [plan["id"]]
