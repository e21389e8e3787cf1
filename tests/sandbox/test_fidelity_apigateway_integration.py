"""API Gateway v1 integrations and methods over HTTP: connectionId kept, Update* calls exist."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _vpc_link_integration(build, api_id: str, root_id: str, link_id: str) -> dict:
    return build.apigateway.put_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri="http://nlb.internal/",
        connectionType="VPC_LINK",
        connectionId=link_id,
    )


def test_get_integration_returns_vpc_link_connection(build):
    """AWS: GetIntegration returns connectionType VPC_LINK and the connectionId given to
    PutIntegration ("The ID of the VpcLink used for the integration")."""
    api_id, root_id = build.rest_api_method()
    put = _vpc_link_integration(build, api_id, root_id, "abc123")
    got = build.apigateway.get_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET")
    assert (put["connectionId"], got["connectionId"]) == ("abc123", "abc123")
    assert got["connectionType"] == "VPC_LINK"
    method = build.apigateway.get_method(restApiId=api_id, resourceId=root_id, httpMethod="GET")
    assert method["methodIntegration"]["connectionId"] == "abc123"


def test_integration_timeout_defaults_to_29_seconds(build):
    """AWS: timeoutInMillis "The default value is 29,000 milliseconds or 29 seconds"."""
    api_id, root_id = build.rest_api_method()
    _vpc_link_integration(build, api_id, root_id, "abc123")
    got = build.apigateway.get_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET")
    assert got["timeoutInMillis"] == 29000


def test_update_integration_replaces_fields(build):
    """AWS: UpdateIntegration applies patch operations to the integration's properties (uri,
    httpMethod, connectionId, connectionType, timeoutInMillis, requestParameters/{name}) and
    returns the updated Integration."""
    api_id, root_id = build.rest_api_method()
    _vpc_link_integration(build, api_id, root_id, "old")
    updated = build.apigateway.update_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        patchOperations=[
            {"op": "replace", "path": "/uri", "value": "http://other.internal/{proxy}"},
            {"op": "replace", "path": "/httpMethod", "value": "POST"},
            {"op": "replace", "path": "/connectionId", "value": "new"},
            {"op": "replace", "path": "/connectionType", "value": "VPC_LINK"},
            {"op": "replace", "path": "/timeoutInMillis", "value": "10000"},
            {
                "op": "add",
                "path": "/requestParameters/integration.request.path.proxy",
                "value": "method.request.path.proxy",
            },
        ],
    )
    got = build.apigateway.get_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET")
    for result in (updated, got):
        assert result["uri"] == "http://other.internal/{proxy}"
        assert result["httpMethod"] == "POST"
        assert result["connectionId"] == "new"
        assert result["timeoutInMillis"] == 10000
        assert result["requestParameters"] == {
            "integration.request.path.proxy": "method.request.path.proxy"
        }


def test_update_integration_removes_request_parameter(build):
    """AWS: a `remove` operation on /requestParameters/{name} drops that mapping."""
    api_id, root_id = build.rest_api_method()
    build.apigateway.put_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        type="HTTP_PROXY",
        integrationHttpMethod="GET",
        uri="http://x.internal/",
        requestParameters={
            "integration.request.header.a": "'1'",
            "integration.request.header.b": "'2'",
        },
    )
    updated = build.apigateway.update_integration(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        patchOperations=[
            {"op": "remove", "path": "/requestParameters/integration.request.header.a"}
        ],
    )
    assert updated["requestParameters"] == {"integration.request.header.b": "'2'"}


def test_update_integration_rejects_unknown_path(build):
    """AWS: a patch path that is no Integration property is a BadRequestException ("Invalid
    patch path"); the integration method's path is /httpMethod, not /integrationMethod."""
    api_id, root_id = build.rest_api_method()
    _vpc_link_integration(build, api_id, root_id, "abc123")
    with pytest.raises(ClientError) as caught:
        build.apigateway.update_integration(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="GET",
            patchOperations=[{"op": "replace", "path": "/integrationMethod", "value": "GET"}],
        )
    assert caught.value.response["Error"]["Code"] == "BadRequestException"


def test_update_integration_without_integration_is_not_found(build):
    """AWS: UpdateIntegration on a method without an integration is a NotFoundException."""
    api_id, root_id = build.rest_api_method()
    with pytest.raises(ClientError) as caught:
        build.apigateway.update_integration(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="GET",
            patchOperations=[{"op": "replace", "path": "/uri", "value": "http://y/"}],
        )
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_update_method_replaces_auth_fields(build):
    """AWS: UpdateMethod applies patch operations on /apiKeyRequired, /authorizationType and
    /authorizerId and returns the updated Method."""
    api_id, root_id = build.rest_api_method()
    updated = build.apigateway.update_method(
        restApiId=api_id,
        resourceId=root_id,
        httpMethod="GET",
        patchOperations=[
            {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
            {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
            {"op": "replace", "path": "/authorizerId", "value": "auth1"},
        ],
    )
    got = build.apigateway.get_method(restApiId=api_id, resourceId=root_id, httpMethod="GET")
    for result in (updated, got):
        assert result["apiKeyRequired"] is True
        assert result["authorizationType"] == "CUSTOM"
        assert result["authorizerId"] == "auth1"


def test_update_method_on_missing_method_is_not_found(build):
    """AWS: UpdateMethod on a method that does not exist is a NotFoundException."""
    api_id, root_id = build.rest_api_method()
    with pytest.raises(ClientError) as caught:
        build.apigateway.update_method(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="POST",
            patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
        )
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
