"""A recreated VPC link is deployed (issue 11, item 5): the deployment's fingerprint is taken over
resolved values, so the link's new id gives a new deployment and the stage serves through the
new link, not the deleted one."""

from __future__ import annotations

from typing import Any

from chain import apply, orders, spec

from controller.aws.session import AwsContext

API_NAME = "shop/orders"


def _api(aws: Any) -> dict[str, Any]:
    (api,) = [a for a in aws.client("apigateway").get_rest_apis()["items"] if a["name"] == API_NAME]
    return dict(api)


def test_a_vpc_link_recreated_behind_our_back_is_redeployed(aws: Any, ctx: AwsContext) -> None:
    """Delete the link; apply makes a new one, points the integration at it, makes a new
    deployment and moves the stage to it."""
    assert apply(spec(orders()), ctx).converged
    apigw = aws.client("apigateway")
    api_id = _api(aws)["id"]
    (old_link,) = [link for link in apigw.get_vpc_links()["items"] if link["name"] == API_NAME]
    before = apigw.get_stage(restApiId=api_id, stageName="prod")["deploymentId"]

    apigw.delete_vpc_link(vpcLinkId=old_link["id"])
    result = apply(spec(orders()), ctx)
    assert result.converged, result.reason

    (new_link,) = [link for link in apigw.get_vpc_links()["items"] if link["name"] == API_NAME]
    assert new_link["id"] != old_link["id"]
    resources = apigw.get_resources(restApiId=api_id)["items"]
    proxy = next(r for r in resources if r["path"] == "/{proxy+}")
    integration = apigw.get_integration(restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY")
    assert integration["connectionId"] == new_link["id"]
    after = apigw.get_stage(restApiId=api_id, stageName="prod")["deploymentId"]
    assert after != before
    described = {
        d["id"]: d.get("description", "") for d in apigw.get_deployments(restApiId=api_id)["items"]
    }
    assert described[after].startswith("privateservice fingerprint=")
    assert described[after] != described.get(before)
