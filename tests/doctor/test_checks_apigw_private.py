"""Unit tests of `private-api-unreachable` (PRIVATE REST API: resource policy vs the VPC's
execute-api endpoints, private DNS) and `domain-mapping-missing` (custom domain mappings), on
hand-written shapes (apigw_shapes).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from apigw_shapes import (
    API,
    DOMAIN,
    REGION,
    STAGE,
    VPC,
    VPCE,
    private,
    private_policy,
    rest,
    unknown,
)

from controller.doctor.checks.apigw_common import load_policy
from controller.doctor.checks.apigw_private import domain_mapping_missing, private_api_unreachable
from controller.doctor.facts import Facts

OTHER_VPCE = "vpce-0elsewhere"


def _policy(f: Facts, doc: dict[str, object]) -> None:
    f.rest_apis[API]["policy"] = json.dumps(doc)


def _by_source_vpc(vpc: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
                "Condition": {"StringEquals": {"aws:SourceVpc": vpc}},
            }
        ],
    }


PRIVATE = [
    pytest.param(
        lambda f: f.rest_apis[API].__setitem__("policy", private_policy([OTHER_VPCE])),
        ["admits none", VPCE, "update-rest-api", '\\"aws:SourceVpce\\": [\\"' + VPCE],
        "api",
        id="policy-names-another-endpoint",
    ),
    pytest.param(
        lambda f: _policy(f, _by_source_vpc("vpc-0other")),
        ["admits none", f"on stage {STAGE}"],
        "api",
        id="policy-names-another-vpc",
    ),
    pytest.param(
        lambda f: f.rest_apis[API].pop("policy"),
        ["has no resource policy"],
        "api",
        id="no-policy",
    ),
    pytest.param(
        lambda f: f.vpc_endpoints[0].update(PrivateDnsEnabled=False),
        ["private DNS off", f"modify-vpc-endpoint --vpc-endpoint-id {VPCE} --private-dns-enabled"],
        "vpc-endpoint",
        id="private-dns-off",
    ),
    pytest.param(
        lambda f: f.vpc_endpoints.clear(),
        ["no available execute-api", f"--vpc-id {VPC}", f"com.amazonaws.{REGION}.execute-api"],
        "vpc-endpoint",
        id="no-endpoint",
    ),
    pytest.param(None, [], "", id="healthy"),
    pytest.param(lambda f: _policy(f, _by_source_vpc(VPC)), [], "", id="admitted-by-source-vpc"),
    pytest.param(
        lambda f: _policy(
            f,
            {
                "Statement": {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:*",
                    "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                }
            },
        ),
        [],
        "",
        id="unmodelled-condition-admits",
    ),
    pytest.param(
        lambda f: f.rest_apis[API].update(
            endpointConfiguration={"types": ["REGIONAL"]}, policy=None
        ),
        [],
        "",
        id="regional-api",
    ),
    pytest.param(
        lambda f: (unknown(f, "network"), f.vpc_endpoints.clear()), [], "", id="endpoints-unknown"
    ),
    pytest.param(lambda f: (f.vpcs.clear(), f.vpc_endpoints.clear()), [], "", id="vpc-not-read"),
]


@pytest.mark.parametrize(("mutate", "expected", "hop"), PRIVATE)
def test_private_api_unreachable(
    mutate: Callable[[Facts], object] | None, expected: list[str], hop: str
) -> None:
    """Found when a PRIVATE API's policy admits none of the VPC's execute-api endpoints (or it has
    no policy, or the VPC no endpoint, or the admitted ones no private DNS); quiet otherwise."""
    facts = private()
    if mutate is not None:
        mutate(facts)
    found = private_api_unreachable(facts)
    if not expected:
        assert found == []
        return
    assert [f.code for f in found] == ["private-api-unreachable"]
    assert found[0].hop == hop
    text = f"{found[0].message} {found[0].fix_cli}"
    for part in expected:
        assert part in text, (part, text)


def test_policy_with_escaped_quotes_parses() -> None:
    """GetRestApi's policy string with escaped quotes is read as the policy it is."""
    doc = load_policy(private_policy([VPCE]))
    assert doc is not None
    assert doc["Statement"][1]["Effect"] == "Allow"
    assert load_policy(None) is None
    assert load_policy("not json") is None


DOMAINS = [
    pytest.param(
        lambda f: f.base_path_mappings[DOMAIN].__setitem__(
            0, {"basePath": "(none)", "restApiId": API, "stage": "old"}
        ),
        [
            DOMAIN,
            f"{API}/old",
            f"create-base-path-mapping --domain-name {DOMAIN} --rest-api-id {API}",
        ],
        id="mapped-to-old-stage",
    ),
    pytest.param(lambda f: f.base_path_mappings[DOMAIN].clear(), ["maps nothing"], id="no-mapping"),
    pytest.param(None, [], id="healthy"),
    pytest.param(
        lambda f: f.base_path_mappings[DOMAIN].__setitem__(0, {"basePath": "v1", "restApiId": API}),
        [],
        id="mapping-without-stage-covers-all",
    ),
    pytest.param(
        lambda f: (unknown(f, "domain"), f.base_path_mappings[DOMAIN].clear()), [], id="unknown"
    ),
    pytest.param(lambda f: f.base_path_mappings.clear(), [], id="mappings-not-read"),
]


@pytest.mark.parametrize(("mutate", "expected"), DOMAINS)
def test_domain_mapping_missing(
    mutate: Callable[[Facts], object] | None, expected: list[str]
) -> None:
    """Found when the chain's custom domain maps no diagnosed stage of its API; quiet otherwise."""
    facts = rest()
    if mutate is not None:
        mutate(facts)
    found = domain_mapping_missing(facts)
    if not expected:
        assert found == []
        return
    assert [f.code for f in found] == ["domain-mapping-missing"]
    text = f"{found[0].message} {found[0].fix_cli}"
    for part in expected:
        assert part in text, (part, text)
