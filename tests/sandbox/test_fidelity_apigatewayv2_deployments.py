"""API Gateway v2 GetDeployments on the sandbox: the list of an existing HTTP API, and
NotFoundException for an unknown one (AWS API reference, API Gateway v2 GetDeployments:
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments.html)."""

from __future__ import annotations

from typing import Any

import pytest


def test_an_http_apis_deployments_are_listed(aws: Any) -> None:
    """GetDeployments answers a list (moto records none), not an unparsable 404."""
    v2 = aws.client("apigatewayv2")
    api = v2.create_api(Name="d", ProtocolType="HTTP")
    assert v2.get_deployments(ApiId=api["ApiId"])["Items"] == []


def test_an_unknown_api_is_not_found(aws: Any) -> None:
    """As GetApi: NotFoundException."""
    v2 = aws.client("apigatewayv2")
    with pytest.raises(v2.exceptions.NotFoundException):
        v2.get_deployments(ApiId="nope")
