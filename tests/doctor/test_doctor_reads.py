"""The doctor's reader (controller/aws/doctor_reads.py) on stubbed answers: a refused read is a
`ReadDeniedError` naming the call and the IAM permission, a missing thing is None or [], paging
follows the token to the end, and a mutating call is refused before it is sent. On the sandbox:
a refused read deep in the chain is an `unknown` hop, never `ok`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from boto3_chain import build
from botocore.stub import Stubber

from controller.aws.doctor_reads import DoctorReads, ReadDeniedError, permission
from controller.aws.session import AwsContext, AwsSettings
from controller.doctor.discover import Discovery
from controller.doctor.report import Diagnosis, statuses

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef"


@pytest.fixture
def reads() -> DoctorReads:
    """A reader on a context that never reaches a network (every call is stubbed)."""
    return DoctorReads(
        AwsContext(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9"))
    )


@pytest.mark.parametrize(
    ("service", "method", "read", "code", "call", "perm"),
    [
        pytest.param(
            "elbv2",
            "describe_target_health",
            lambda r: r.target_health(TG),
            "AccessDenied",
            "elbv2:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTargetHealth",
            id="elb",
        ),
        pytest.param(
            "apigateway",
            "get_stages",
            lambda r: r.stages("abc"),
            "AccessDeniedException",
            "apigateway:GetStages",
            "apigateway:GET",
            id="apigateway",
        ),
        pytest.param(
            "ecs",
            "list_clusters",
            lambda r: r.clusters(),
            "AccessDeniedException",
            "ecs:ListClusters",
            "ecs:ListClusters",
            id="ecs",
        ),
        pytest.param(
            "ec2",
            "describe_network_acls",
            lambda r: r.network_acls(["vpc-1"]),
            "UnauthorizedOperation",
            "ec2:DescribeNetworkAcls",
            "ec2:DescribeNetworkAcls",
            id="ec2",
        ),
    ],
)
def test_a_refused_read_names_the_call_and_the_permission(
    reads: DoctorReads,
    service: str,
    method: str,
    read: Callable[[DoctorReads], object],
    code: str,
    call: str,
    perm: str,
) -> None:
    """Each service's refusal code becomes ReadDeniedError(call, IAM action), not a crash."""
    with Stubber(reads.aws.client(service)) as stub:
        stub.add_client_error(method, service_error_code=code, http_status_code=403)
        with pytest.raises(ReadDeniedError) as err:
            read(reads)
    assert err.value.call == call
    assert err.value.permission == perm


@pytest.mark.parametrize(
    ("service", "operation", "expected"),
    [
        ("apigateway", "GetStages", "apigateway:GET"),
        ("apigatewayv2", "GetIntegrations", "apigateway:GET"),
        ("elbv2", "DescribeRules", "elasticloadbalancing:DescribeRules"),
        ("lambda", "GetPolicy", "lambda:GetPolicy"),
    ],
)
def test_permissions_are_iam_actions(service: str, operation: str, expected: str) -> None:
    """API Gateway reads are apigateway:GET; ELB's prefix is elasticloadbalancing."""
    assert permission(service, operation) == expected


def test_not_found_is_none_or_empty(reads: DoctorReads) -> None:
    """NotFoundException (API Gateway), LoadBalancerNotFound (ELB): None / [], not an error."""
    with Stubber(reads.aws.client("apigateway")) as api:
        api.add_client_error("get_rest_api", service_error_code="NotFoundException")
        assert reads.rest_api("abc") is None
    with Stubber(reads.aws.client("elbv2")) as stub:
        stub.add_client_error("describe_load_balancers", service_error_code="LoadBalancerNotFound")
        assert reads.load_balancers(names=["x"]) == []


def test_pages_are_followed_to_the_end(reads: DoctorReads) -> None:
    """GetUsagePlans answered in two pages: both read, the token sent back."""
    with Stubber(reads.aws.client("apigateway")) as api:
        api.add_response(
            "get_usage_plans", {"items": [{"id": "a"}], "position": "p2"}, {"limit": 500}
        )
        api.add_response(
            "get_usage_plans", {"items": [{"id": "b"}]}, {"limit": 500, "position": "p2"}
        )
        assert [p["id"] for p in reads.usage_plans()] == ["a", "b"]


def test_api_keys_are_read_without_their_values(reads: DoctorReads) -> None:
    """GetApiKeys is sent with includeValues=False."""
    with Stubber(reads.aws.client("apigateway")) as api:
        api.add_response(
            "get_api_keys", {"items": [{"id": "k"}]}, {"includeValues": False, "limit": 500}
        )
        assert reads.api_keys() == [{"id": "k"}]


def test_a_mutating_call_is_refused_before_it_is_sent(reads: DoctorReads) -> None:
    """The reader's one door refuses anything but Describe/Get/List (nothing is stubbed: a
    call that went out would fail differently)."""
    client = reads.aws.client("ec2")
    with pytest.raises(AssertionError, match="doctor never sends ec2:RevokeSecurityGroupIngress"):
        reads._call(client.revoke_security_group_ingress, GroupId="sg-1")
    assert reads.calls() == {}


def test_a_refused_read_on_the_sandbox_is_an_unknown_hop(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Target health refused: the target group hop is `unknown` with the permission to add;
    the rest of the chain is still read."""
    chain = build(aws)

    def refuse(self: DoctorReads, arn: str) -> list[dict[str, Any]]:
        raise ReadDeniedError(
            "elbv2:DescribeTargetHealth", "elasticloadbalancing:DescribeTargetHealth", "no"
        )

    monkeypatch.setattr(DoctorReads, "target_health", refuse)
    ctx = AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))
    facts = Discovery(ctx).rest_api(chain.api_id)
    (unknown,) = facts.unknown
    assert (unknown.hop, unknown.resource) == ("nlb-target-group", chain.tg_arn)
    assert unknown.permission == "elasticloadbalancing:DescribeTargetHealth"
    marks = {h.hop: s for h, s in statuses(Diagnosis(facts, []))}
    assert marks["nlb-target-group"] == "unknown"
    assert marks["service"] == "ok"
    assert not Diagnosis(facts, []).healthy
