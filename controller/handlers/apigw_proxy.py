"""The proxy methods of the REST API: `ANY /{proxy+}` and `ANY /`, through the VPC Link (rule 6).

Both methods carry the same settings (API key, authorization: NONE, or CUSTOM with the Lambda
authorizer's id) and an HTTP_PROXY integration
over the VPC Link to the NLB: `/{proxy+}` forwards to `{scheme}://{nlb}:{port}/{proxy}` with
the path mapped from `method.request.path.proxy`, `/` forwards to `{scheme}://{nlb}:{port}/`.
The props report one method in the desired shape (the integration URI parsed back into
{nlbDnsName, port, scheme}): the proxy method, or the root one when only the root differs.
Changes go through UpdateMethod / UpdateIntegration patches; a missing method or integration
(or a changed integration type) is put whole. Methods carry no tags: ownership is the REST
API's. Neighbours: `apigw_rest_api` (the API, `fmt_bool`), `apigw_common` (paging),
`apigw_vpc_link` (connectionId), `apigw_stage` (the deployment that snapshots these methods).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from controller.errors import TemporaryError
from controller.handlers.apigw_common import PAGE
from controller.handlers.apigw_rest_api import fmt_bool, rest_api_tags
from controller.handlers.base import Delta, Desired, Handler, Observed, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import Proxy

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        MethodTypeDef,
        PatchOperationTypeDef,
        PutMethodRequestTypeDef,
    )

PROXY_PART = "{proxy+}"
METHOD = "ANY"
METHOD_PARAM = "method.request.path.proxy"
INTEGRATION_PARAM = "integration.request.path.proxy"
ROOT_SUFFIX = "/"
PROXY_SUFFIX = "/{proxy}"


@dataclass
class _Api:
    """What the REST API holds for us: resource ids and the ANY methods (with integrations)."""

    root_id: str
    proxy_id: str | None = None
    methods: dict[str, MethodTypeDef] = field(default_factory=dict)  # resource id -> ANY


def integration_uri(uri: Mapping[str, Any], suffix: str) -> str:
    """`{scheme}://{nlbDnsName}:{port}` + suffix."""
    return f"{uri['scheme']}://{uri['nlbDnsName']}:{uri['port']}{suffix}"


def parse_uri(uri: str | None, suffix: str) -> dict[str, Any] | str | None:
    """An integration URI back in the desired shape; the raw URI when its path is not `suffix`."""
    if not uri:
        return None
    parts = urlsplit(uri)
    host, sep, port = parts.netloc.rpartition(":")
    if parts.path != suffix or parts.query or not sep or not port.isdigit():
        return uri
    return {"nlbDnsName": host, "port": int(port), "scheme": parts.scheme}


def _method_props(method: MethodTypeDef | None, suffix: str, *, proxy: bool) -> dict[str, Any]:
    """One ANY method in the desired shape (without restApiId); missing parts are None."""
    if method is None:
        return {
            "apiKeyRequired": None,
            "authorizationType": None,
            "authorizerId": None,
            "integration": None,
        }
    integ = method.get("methodIntegration")
    integration: dict[str, Any] | None = None
    if integ is not None:
        uri: dict[str, Any] | str | None = parse_uri(integ.get("uri"), suffix)
        mapped = integ.get("requestParameters", {}).get(
            INTEGRATION_PARAM
        ) == METHOD_PARAM and METHOD_PARAM in method.get("requestParameters", {})
        if proxy and not mapped:
            uri = integ.get("uri")  # `{proxy}` is never filled in: report the URI as unusable
        integration = {
            "type": integ.get("type"),
            "httpMethod": integ.get("httpMethod"),
            "uri": uri,
            "connectionType": integ.get("connectionType", "INTERNET"),
            "connectionId": integ.get("connectionId"),
        }
    return {
        "apiKeyRequired": method.get("apiKeyRequired", False),
        "authorizationType": method.get("authorizationType"),
        "authorizerId": method.get("authorizerId"),
        "integration": integration,
    }


class ProxyHandler(Handler):
    """`apigw.proxy`: props {restApiId, apiKeyRequired, authorizationType, authorizerId | None,
    integration}."""

    kind = kinds.APIGW_PROXY
    service = "apigateway"
    identity = ("restApiId",)  # the NLB and the link may not exist yet
    client: APIGatewayClient

    def props_of(self, want: Desired) -> Proxy[Known]:
        """The desired props as `Proxy` (`controller.model.props_api`)."""
        return props_as(want, Proxy[Known])

    def _read(self, rest_api_id: str) -> _Api | None:
        """Resource ids and ANY methods with their integrations; None when the API is gone."""
        api: _Api | None = None
        proxy: str | None = None
        methods: dict[str, MethodTypeDef] = {}
        try:
            pages = self.client.get_paginator("get_resources").paginate(
                restApiId=rest_api_id, embed=["methods"], PaginationConfig=PAGE
            )
            for page in pages:
                for res in page.get("items", []):
                    if res.get("path") == "/":
                        api = _Api(root_id=res["id"])
                    elif res.get("path") == "/" + PROXY_PART:
                        proxy = res["id"]
                    method = res.get("resourceMethods", {}).get(METHOD)
                    if method is not None:
                        methods[res["id"]] = method
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        if api is None:
            return None
        api.proxy_id = proxy
        api.methods = {k: v for k, v in methods.items() if k in (api.root_id, proxy)}
        return api

    def observe(self, want: Desired) -> Observed | None:
        """Both ANY methods; None when the API or its `/{proxy+}` resource does not exist."""
        rest_api_id = self.props_of(want)["restApiId"]
        tags = rest_api_tags(self.client, rest_api_id)
        api = self._read(rest_api_id) if tags is not None else None
        if tags is None or api is None or api.proxy_id is None:
            return None
        wanted = {"authorizerId": None} | {k: v for k, v in want.props.items() if k != "restApiId"}
        reported = _method_props(api.methods.get(api.proxy_id), PROXY_SUFFIX, proxy=True)
        if reported == wanted:
            reported = _method_props(api.methods.get(api.root_id), ROOT_SUFFIX, proxy=False)
        return Observed(
            key=want.key,
            id=api.proxy_id,
            props={"restApiId": rest_api_id, **reported},
            tags=tags,
            outputs={"id": api.proxy_id},
        )

    def create(self, want: Desired) -> Observed:
        """Create `/{proxy+}` and both methods; whatever exists already is kept or aligned."""
        self.log_call("creating", want, restApiId=self.props_of(want)["restApiId"])
        have = self._converge(want)
        self.log_call("created", want, id=have.id)
        return have

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Align both methods with the desired props, one aspect at a time."""
        del have, deltas  # the props report one method; both are compared afresh
        return self._converge(want)

    def _converge(self, want: Desired) -> Observed:
        rest_api_id = self.props_of(want)["restApiId"]
        api = self._read(rest_api_id)
        if api is None:
            msg = f"rest api {rest_api_id} not found"
            raise TemporaryError(msg)
        if api.proxy_id is None:
            self.log_call("creating resource", want, path="/" + PROXY_PART)
            res = self.client.create_resource(
                restApiId=rest_api_id, parentId=api.root_id, pathPart=PROXY_PART
            )
            api.proxy_id = res["id"]
        self._converge_method(want, api.proxy_id, api.methods.get(api.proxy_id), proxy=True)
        self._converge_method(want, api.root_id, api.methods.get(api.root_id), proxy=False)
        return self.reobserve(want)

    def _converge_method(
        self, want: Desired, resource_id: str, method: MethodTypeDef | None, *, proxy: bool
    ) -> None:
        """Put or patch one ANY method, then put or patch its integration."""
        p = self.props_of(want)
        rest_api_id = p["restApiId"]
        if method is None:
            self.log_call("putting method", want, resourceId=resource_id)
            request: PutMethodRequestTypeDef = {
                "restApiId": rest_api_id,
                "resourceId": resource_id,
                "httpMethod": METHOD,
                "authorizationType": p["authorizationType"],
                "apiKeyRequired": p["apiKeyRequired"],
                "requestParameters": {METHOD_PARAM: True} if proxy else {},
            }
            if authorizer := p.get("authorizerId"):
                request["authorizerId"] = authorizer
            self.client.put_method(**request)
        else:
            ops: list[PatchOperationTypeDef] = []
            if method.get("apiKeyRequired", False) != p["apiKeyRequired"]:
                ops.append(
                    {
                        "op": "replace",
                        "path": "/apiKeyRequired",
                        "value": fmt_bool(p["apiKeyRequired"]),
                    }
                )
            if method.get("authorizationType") != p["authorizationType"]:
                ops.append(
                    {"op": "replace", "path": "/authorizationType", "value": p["authorizationType"]}
                )
            authorizer = p.get("authorizerId")
            if method.get("authorizerId") != authorizer:
                ops.append(
                    {"op": "replace", "path": "/authorizerId", "value": authorizer}
                    if authorizer
                    else {"op": "remove", "path": "/authorizerId"}
                )
            if proxy and METHOD_PARAM not in method.get("requestParameters", {}):
                ops.append(
                    {"op": "add", "path": f"/requestParameters/{METHOD_PARAM}", "value": "true"}
                )
            if ops:
                self.log_call(
                    "updating method",
                    want,
                    resourceId=resource_id,
                    paths=[op["path"] for op in ops],
                )
                self.client.update_method(
                    restApiId=rest_api_id,
                    resourceId=resource_id,
                    httpMethod=METHOD,
                    patchOperations=ops,
                )
        self._converge_integration(want, resource_id, method, proxy=proxy)

    def _converge_integration(
        self, want: Desired, resource_id: str, method: MethodTypeDef | None, *, proxy: bool
    ) -> None:
        """Put the integration when missing or of another type, else patch what differs."""
        rest_api_id = self.props_of(want)["restApiId"]
        i = self.props_of(want)["integration"]
        uri = integration_uri(i["uri"], PROXY_SUFFIX if proxy else ROOT_SUFFIX)
        params = {INTEGRATION_PARAM: METHOD_PARAM} if proxy else {}
        integ = method.get("methodIntegration") if method is not None else None
        if integ is None or integ.get("type") != i["type"]:
            self.log_call("putting integration", want, resourceId=resource_id, uri=uri)
            self.client.put_integration(
                restApiId=rest_api_id,
                resourceId=resource_id,
                httpMethod=METHOD,
                type=i["type"],
                integrationHttpMethod=i["httpMethod"],
                uri=uri,
                connectionType=i["connectionType"],
                connectionId=i["connectionId"],
                requestParameters=params,
            )
            return
        ops: list[PatchOperationTypeDef] = [
            {"op": "replace", "path": f"/{name}", "value": value}
            for name, have, value in (
                ("uri", integ.get("uri"), uri),
                ("httpMethod", integ.get("httpMethod"), i["httpMethod"]),
                ("connectionType", integ.get("connectionType", "INTERNET"), i["connectionType"]),
                ("connectionId", integ.get("connectionId"), i["connectionId"]),
            )
            if have != value
        ]
        if proxy and integ.get("requestParameters", {}).get(INTEGRATION_PARAM) != METHOD_PARAM:
            ops.append(
                {
                    "op": "add",
                    "path": f"/requestParameters/{INTEGRATION_PARAM}",
                    "value": METHOD_PARAM,
                }
            )
        if ops:
            self.log_call(
                "updating integration",
                want,
                resourceId=resource_id,
                paths=[op["path"] for op in ops],
            )
            self.client.update_integration(
                restApiId=rest_api_id,
                resourceId=resource_id,
                httpMethod=METHOD,
                patchOperations=ops,
            )

    def delete(self, have: Observed) -> None:
        """Delete the root ANY method and the `/{proxy+}` resource (with its method)."""
        rest_api_id = have.props["restApiId"]
        api = self._read(rest_api_id)
        if api is None:
            return
        self.log_call("deleting", have, id=have.id)
        if api.root_id in api.methods:
            with self._missing_ok():
                self.client.delete_method(
                    restApiId=rest_api_id, resourceId=api.root_id, httpMethod=METHOD
                )
        if api.proxy_id is not None:
            with self._missing_ok():
                self.client.delete_resource(restApiId=rest_api_id, resourceId=api.proxy_id)

    @contextmanager
    def _missing_ok(self) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            if not self.is_not_found(exc):
                raise
