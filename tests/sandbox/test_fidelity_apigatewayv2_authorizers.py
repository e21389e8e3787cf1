"""API Gateway v2 GetAuthorizers over HTTP (moto routes it but has no handler)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:auth/invocations"
)


def test_get_authorizers_lists_the_apis_authorizers(aws: Any) -> None:
    """AWS GetAuthorizers: "Gets the Authorizers for an API": each one, with its URI, and none
    of another API's."""
    v2 = aws.client("apigatewayv2")
    api = v2.create_api(Name="api", ProtocolType="HTTP")["ApiId"]
    other = v2.create_api(Name="other", ProtocolType="HTTP")["ApiId"]
    made = v2.create_authorizer(
        ApiId=api,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=URI,
        IdentitySource=["$request.header.Authorization"],
        AuthorizerPayloadFormatVersion="2.0",
    )["AuthorizerId"]
    items = v2.get_authorizers(ApiId=api)["Items"]
    assert [(a["AuthorizerId"], a["AuthorizerUri"]) for a in items] == [(made, URI)]
    assert v2.get_authorizers(ApiId=other)["Items"] == []


def test_get_authorizers_of_a_missing_api_is_not_found(aws: Any) -> None:
    """AWS: an unknown API is NotFoundException (404), not a server error."""
    v2 = aws.client("apigatewayv2")
    with pytest.raises(ClientError) as caught:
        v2.get_authorizers(ApiId="nope000000")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
