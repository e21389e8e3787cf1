"""Field report 004's custom domain over HTTP: a REGIONAL domain name with its certificate and a
base path mapping to the stage; the DNS target is exposed. (ECS on EC2 is another layer: the
orders chain carries the domain here.)"""

from __future__ import annotations

from typing import Any

import pytest
from chain import apply, delete, mutating_since, orders, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

DOMAIN = "api.example.com"


@pytest.fixture
def certificate(aws: Any) -> str:
    """An ACM certificate for the domain (API Gateway needs one in the region)."""
    return str(
        aws.client("acm").request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")[
            "CertificateArn"
        ]
    )


def _doc(certificate: str, base_path: str = "billing") -> dict[str, Any]:
    api = orders()["spec"]["api"] | {
        "customDomain": {
            "domainName": DOMAIN,
            "certificateArn": certificate,
            "basePath": base_path,
        }
    }
    return orders(spec__api=api)


def test_custom_domain_maps_the_stage_and_exposes_the_dns_target(
    aws: Any, ctx: AwsContext, certificate: str
):
    """Domain (REGIONAL, our certificate, our tags), mapping to our stage; converged twice."""
    doc = _doc(certificate)
    assert apply(spec(doc), ctx).converged
    apigw = aws.client("apigateway")
    domain = apigw.get_domain_name(domainName=DOMAIN)
    assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert domain["regionalCertificateArn"] == certificate
    assert domain["tags"][ownership.OWNER] == "shop/orders"
    (api,) = apigw.get_rest_apis()["items"]
    (mapping,) = apigw.get_base_path_mappings(domainName=DOMAIN)["items"]
    assert mapping == {"basePath": "billing", "restApiId": api["id"], "stage": "prod"}

    outcome = Reconciler(spec(doc), ctx).plan()
    assert outcome.outputs["domain-name"]["regionalDomainName"] == domain["regionalDomainName"]
    assert outcome.outputs["base-path-mapping"]["url"] == f"https://{DOMAIN}/billing"
    before = ctx.counter.mutating()
    assert apply(spec(doc), ctx).converged
    assert mutating_since(ctx, before) == {}


def test_changed_base_path_and_certificate_are_updated_in_place(
    aws: Any, ctx: AwsContext, certificate: str
):
    """A new base path is an UpdateBasePathMapping, a certificate put back an UpdateDomainName."""
    assert apply(spec(_doc(certificate)), ctx).converged
    apigw = aws.client("apigateway")
    apigw.update_domain_name(
        domainName=DOMAIN,
        patchOperations=[
            {"op": "replace", "path": "/regionalCertificateArn", "value": certificate + "-other"}
        ],
    )
    doc = _doc(certificate, base_path="v2")
    outcome = Reconciler(spec(doc), ctx).plan()
    planned = {
        c.key: [d.path for d in c.deltas] for c in outcome.changes if c.action is not Action.NOOP
    }
    assert planned == {"domain-name": ["certificateArn"], "base-path-mapping": ["basePath"]}
    before = ctx.counter.mutating()
    assert apply(spec(doc), ctx).converged
    assert set(mutating_since(ctx, before)) == {
        ("apigateway", "UpdateDomainName"),
        ("apigateway", "UpdateBasePathMapping"),
    }
    assert [m["basePath"] for m in apigw.get_base_path_mappings(domainName=DOMAIN)["items"]] == [
        "v2"
    ]


def test_delete_removes_domain_and_mapping(aws: Any, ctx: AwsContext, certificate: str):
    """deletionPolicy Delete: the domain name (ours by tag) goes with its mapping."""
    doc = _doc(certificate)
    assert apply(spec(doc), ctx).converged
    assert delete(spec(doc), ctx).converged
    assert aws.client("apigateway").get_domain_names()["items"] == []
