"""API Gateway v1 GetTags / TagResource / UntagResource on every taggable resource ARN.

Restores (AWS API reference, TagResource: "Adds or updates a tag on a given resource";
GetTags: "Gets the Tags collection for a given resource"): the `resourceArn` may name a rest API
(`arn:aws:apigateway:REGION::/restapis/ID`), a stage (`.../restapis/ID/stages/NAME`), a usage plan
(`::/usageplans/ID`), an API key (`::/apikeys/ID`), a VPC link (`::/vpclinks/ID`) or a domain name
(`::/domainnames/NAME`), and the tags are the same ones GetRestApi, GetStage, GetUsagePlan,
GetApiKey and GetVpcLink return. moto routes only stage ARNs (others are HTML 404s) and has no
GetTags for anything but stages.
Neighbours: `patching`, `apigateway_integration`, `apigateway_vpclink`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from moto.apigateway import responses as apigw_responses
from moto.apigateway import urls as apigw_urls
from moto.apigateway.exceptions import InvalidArn

from controller.sandbox.fidelity.patching import add, add_item

_ARN = re.compile(r"^arn:[^:]+:apigateway:[^:]*::/(?P<path>.+)$")


def apply() -> None:
    """Route every `/tags/{arn}` to moto's API Gateway handler and install the tag operations."""
    dispatch = apigw_responses.APIGatewayResponse.dispatch
    add_item(apigw_urls.url_paths, "{0}/tags/(?P<any_resource_arn>.+)$", dispatch)
    add(apigw_responses.APIGatewayResponse, "get_tags", _get_tags)
    add(apigw_responses.APIGatewayResponse, "tag_resource", _tag_resource)
    add(apigw_responses.APIGatewayResponse, "untag_resource", _untag_resource)


def _get_tags(self: Any) -> tuple[int, dict[str, Any], str]:
    resource = _resource(self)
    return 200, {}, json.dumps({"tags": dict(resource.tags or {})})


def _tag_resource(self: Any) -> tuple[int, dict[str, Any], str]:
    resource = _resource(self)
    resource.tags = {**(resource.tags or {}), **(self._get_param("tags") or {})}
    return 204, {"status": 204}, ""


def _untag_resource(self: Any) -> tuple[int, dict[str, Any], str]:
    resource = _resource(self)
    keys = set(self.querystring.get("tagKeys") or [])
    resource.tags = {k: v for k, v in (resource.tags or {}).items() if k not in keys}
    return 204, {"status": 204}, ""


def _resource(response: Any) -> Any:
    arn = unquote(response.path.split("/tags/", 1)[1])
    match = _ARN.match(arn)
    if match is None:
        raise InvalidArn()
    backend = response.backend
    match match.group("path").split("/"):
        case ["restapis", api_id]:
            return backend.get_rest_api(api_id)
        case ["restapis", api_id, "stages", stage_name]:
            return backend.get_stage(api_id, stage_name)
        case ["usageplans", plan_id]:
            return backend.get_usage_plan(plan_id)
        case ["apikeys", key_id]:
            return backend.get_api_key(key_id)
        case ["vpclinks", link_id]:
            return backend.get_vpc_link(link_id)
        case ["domainnames", domain_name]:
            return backend.get_domain_name(domain_name)
    raise InvalidArn()
