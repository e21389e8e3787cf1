"""API Gateway custom domains over HTTP: UpdateDomainName, and mappings of a domain with none."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/one"


@pytest.fixture
def domain(build) -> str:
    build.apigateway.create_domain_name(
        domainName="api.example.com",
        regionalCertificateArn=CERT,
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    return "api.example.com"


def test_update_domain_name_replaces_the_certificate(build, domain):
    """AWS: UpdateDomainName applies `replace` on /regionalCertificateArn and /securityPolicy."""
    other = CERT.replace("one", "two")
    updated = build.apigateway.update_domain_name(
        domainName=domain,
        patchOperations=[
            {"op": "replace", "path": "/regionalCertificateArn", "value": other},
            {"op": "replace", "path": "/securityPolicy", "value": "TLS_1_2"},
        ],
    )
    assert updated["regionalCertificateArn"] == other
    got = build.apigateway.get_domain_name(domainName=domain)
    assert (got["regionalCertificateArn"], got["securityPolicy"]) == (other, "TLS_1_2")


def test_update_domain_name_refuses_an_unknown_path(build, domain):
    """AWS: an unknown patch path is a BadRequestException."""
    with pytest.raises(ClientError) as caught:
        build.apigateway.update_domain_name(
            domainName=domain, patchOperations=[{"op": "replace", "path": "/nope", "value": "x"}]
        )
    assert caught.value.response["Error"]["Code"] == "BadRequestException"


def test_a_domain_without_mappings_lists_none(build, domain):
    """AWS: GetBasePathMappings of a domain without mappings is an empty collection."""
    assert build.apigateway.get_base_path_mappings(domainName=domain).get("items", []) == []
