"""API Gateway v1 GetTags/TagResource/UntagResource over HTTP on every taggable resource ARN."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _resources(build) -> dict[str, tuple[str, object]]:
    """Resource kind -> (ARN, a function returning the tags the resource's own Get* shows)."""
    region = build.aws.region
    ag = build.apigateway
    api_id, root_id = build.rest_api_method()
    ag.put_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET", type="MOCK")
    deployment = ag.create_deployment(restApiId=api_id)["id"]
    ag.create_stage(restApiId=api_id, stageName="live", deploymentId=deployment, tags={"a": "1"})
    plan_id = ag.create_usage_plan(name="plan", tags={"a": "1"})["id"]
    key_id = ag.create_api_key(name="key", enabled=True, tags={"a": "1"})["id"]
    nlb_arn = build.nlb()["LoadBalancerArn"]
    link_id = ag.create_vpc_link(name="link", targetArns=[nlb_arn], tags={"a": "1"})["id"]
    base = f"arn:aws:apigateway:{region}::"
    return {
        "restapi": (f"{base}/restapis/{api_id}", lambda: ag.get_rest_api(restApiId=api_id)),
        "stage": (
            f"{base}/restapis/{api_id}/stages/live",
            lambda: ag.get_stage(restApiId=api_id, stageName="live"),
        ),
        "usageplan": (
            f"{base}/usageplans/{plan_id}",
            lambda: ag.get_usage_plan(usagePlanId=plan_id),
        ),
        "apikey": (f"{base}/apikeys/{key_id}", lambda: ag.get_api_key(apiKey=key_id)),
        "vpclink": (f"{base}/vpclinks/{link_id}", lambda: ag.get_vpc_link(vpcLinkId=link_id)),
    }


@pytest.mark.parametrize("kind", ["restapi", "stage", "usageplan", "apikey", "vpclink"])
def test_tags_round_trip_on_every_resource_arn(build, kind):
    """AWS: TagResource "Adds or updates a tag on a given resource", GetTags "Gets the Tags
    collection for a given resource", UntagResource removes tag keys; they work on rest API,
    stage, usage plan, API key and VPC link ARNs, and agree with the resource's own Get*."""
    arn, get_resource = _resources(build)[kind]
    ag = build.apigateway
    ag.tag_resource(resourceArn=arn, tags={"a": "2", "owner": "psctl"})
    assert ag.get_tags(resourceArn=arn)["tags"] == {"a": "2", "owner": "psctl"}
    assert get_resource()["tags"] == {"a": "2", "owner": "psctl"}
    ag.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ag.get_tags(resourceArn=arn)["tags"] == {"owner": "psctl"}
    assert get_resource()["tags"] == {"owner": "psctl"}


def test_get_tags_shows_tags_given_at_create(build):
    """AWS: tags given to CreateRestApi are the resource's tags, as GetTags reports them."""
    api_id = build.apigateway.create_rest_api(name="tagged", tags={"k": "v"})["id"]
    arn = f"arn:aws:apigateway:{build.aws.region}::/restapis/{api_id}"
    assert build.apigateway.get_tags(resourceArn=arn)["tags"] == {"k": "v"}


def test_get_tags_on_missing_resource_is_not_found(build):
    """AWS: GetTags on the ARN of a resource that does not exist is a NotFoundException."""
    arn = f"arn:aws:apigateway:{build.aws.region}::/restapis/doesnotexist"
    with pytest.raises(ClientError) as caught:
        build.apigateway.get_tags(resourceArn=arn)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
