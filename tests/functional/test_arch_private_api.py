"""Field report 002 end to end over HTTP: a PRIVATE REST API behind the VPC's execute-api
endpoint, a REQUEST Lambda authorizer on both proxy methods, API keys in their usage plan.

Every assertion reads AWS back through its own clients, never through the controller.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chain import EXAMPLES, apply, delete, keep, mutating_since, owned_everywhere, spec

from controller.aws import tags as ownership
from controller.aws.session import AwsContext
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler

OWNER = "finance/ledger"
FUNCTION = "ledger-authorizer"
EXECUTE_API = "com.amazonaws.us-east-1.execute-api"


def ledger(**changes: Any) -> dict[str, Any]:
    """examples/ledger-private-api.yaml as a dict, with `a__b` dotted-path overrides."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "ledger-private-api.yaml").read_text())
    for path, value in changes.items():
        node = doc
        *head, last = path.split("__")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    return doc


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => ({});")
    return buf.getvalue()


@pytest.fixture
def function(aws: Any) -> str:
    """The authorizer function (not ours: the platform team deploys it), on a deprecated runtime."""
    return _function(aws)


def _function(aws: Any) -> str:
    role = aws.client("iam").create_role(
        RoleName="ledger-authorizer", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    made = aws.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="nodejs12.x",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
    )
    return str(made["FunctionArn"])


@pytest.fixture
def kept_chain(kept: Any) -> Iterator[Any]:
    """The ledger example applied with its authorizer function, kept by the worker's sandbox
    across tests (`chain.keep`)."""
    yield from keep(
        kept, "functional: examples/ledger-private-api.yaml", lambda: spec(ledger()), _function
    )


@pytest.fixture
def ledger_applied(kept_chain: Any, ctx: AwsContext) -> AwsContext:
    """The ledger example applied and converged (`kept_chain`: `aws` and `ctx` are its
    sandbox)."""
    del kept_chain
    return ctx


def _api(aws: Any) -> dict[str, Any]:
    (api,) = aws.client("apigateway").get_rest_apis()["items"]
    return dict(api)


def _endpoints(aws: Any) -> list[dict[str, Any]]:
    found = aws.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [EXECUTE_API]}]
    )["VpcEndpoints"]
    return [e for e in found if e["State"] not in ("deleted", "deleting")]


def _statements(aws: Any) -> list[dict[str, Any]]:
    try:
        policy = aws.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"]
    except aws.client("lambda").exceptions.ResourceNotFoundException:
        return []
    return list(json.loads(policy)["Statement"])


def test_apply_builds_the_private_api_of_field_report_002(aws: Any, ledger_applied: AwsContext):
    """PRIVATE API, policy admitting only the (created, owned) endpoint, authorizer on both
    methods, the Lambda permission, keys in their plan; the deprecated runtime is reported."""
    apigw, ec2 = aws.client("apigateway"), aws.client("ec2")
    api = _api(aws)
    assert api["endpointConfiguration"]["types"] == ["PRIVATE"]

    (endpoint,) = _endpoints(aws)
    tags = ownership.from_list(endpoint["Tags"])
    assert tags[ownership.OWNER] == OWNER
    assert tags[ownership.COMPONENT] == "vpc-endpoint"
    assert endpoint["VpcEndpointType"] == "Interface"
    assert endpoint["PrivateDnsEnabled"] is True
    assert sorted(endpoint["SubnetIds"]) == sorted(aws.network.private_subnet_ids)
    (group,) = endpoint["Groups"]
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
    )["SecurityGroupRules"]
    assert {(r["FromPort"], r.get("CidrIpv4")) for r in rules if not r["IsEgress"]} == {
        (443, aws.network.cidr)
    }

    policy = json.loads(api["policy"])
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow
    for statement in allow:
        assert statement["Condition"]["StringEquals"]["aws:SourceVpce"] in (
            endpoint["VpcEndpointId"],
            [endpoint["VpcEndpointId"]],
        )
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] in (
        endpoint["VpcEndpointId"],
        [endpoint["VpcEndpointId"]],
    )

    (authorizer,) = apigw.get_authorizers(restApiId=api["id"])["items"]
    assert authorizer["type"] == "REQUEST"
    assert authorizer["identitySource"] == "method.request.header.x-api-key"
    assert authorizer["authorizerResultTtlInSeconds"] == 300
    assert authorizer["authorizerUri"].endswith(f"function:{FUNCTION}/invocations")
    resources = apigw.get_resources(restApiId=api["id"], embed=["methods"])["items"]
    methods = [
        r["resourceMethods"]["ANY"] for r in resources if "ANY" in r.get("resourceMethods", {})
    ]
    assert len(methods) == 2
    for method in methods:
        assert method["authorizationType"] == "CUSTOM"
        assert method["authorizerId"] == authorizer["id"]
        assert method["apiKeyRequired"] is True

    (statement,) = _statements(aws)
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{api['id']}/*"
    )

    (plan,) = apigw.get_usage_plans()["items"]
    assert len(apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]) == 1

    outcome = Reconciler(spec(ledger()), ledger_applied).plan()
    assert "nodejs12.x" in outcome.outputs["authorizer"]["runtimeWarning"]
    assert outcome.outputs["stage"]["invokeUrl"] == (
        f"https://{api['id']}.execute-api.us-east-1.amazonaws.com/prod"
    )
    assert outcome.outputs["vpc-endpoint"]["privateDnsEnabled"] is True


def test_second_apply_makes_no_mutating_call(ledger_applied: AwsContext):
    """Converged means converged: nothing to create, update or delete."""
    before = ledger_applied.counter.mutating()
    result = apply(spec(ledger()), ledger_applied)
    assert result.converged, result.reason
    assert mutating_since(ledger_applied, before) == {}


def test_an_existing_endpoint_is_used_not_owned(aws: Any, ctx: AwsContext, function: str):
    """The VPC's own execute-api endpoint is admitted by the policy; none is created, and delete
    leaves it."""
    del function
    theirs = aws.client("ec2").create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=aws.network.vpc_id,
        ServiceName=EXECUTE_API,
        SubnetIds=list(aws.network.private_subnet_ids),
        PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]
    doc = ledger(spec__deletionPolicy="Delete")
    assert apply(spec(doc), ctx).converged
    assert [e["VpcEndpointId"] for e in _endpoints(aws)] == [theirs]
    assert theirs in _api(aws)["policy"]
    assert delete(spec(doc), ctx).converged
    assert [e["VpcEndpointId"] for e in _endpoints(aws)] == [theirs]


def _edit_policy(aws: Any) -> None:
    api = _api(aws)
    aws.client("apigateway").update_rest_api(
        restApiId=api["id"],
        patchOperations=[
            {
                "op": "replace",
                "path": "/policy",
                "value": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "execute-api:Invoke",
                                "Resource": "execute-api:/*",
                            }
                        ],
                    }
                ),
            }
        ],
    )


def _change_ttl(aws: Any) -> None:
    apigw = aws.client("apigateway")
    api = _api(aws)
    (authorizer,) = apigw.get_authorizers(restApiId=api["id"])["items"]
    apigw.update_authorizer(
        restApiId=api["id"],
        authorizerId=authorizer["id"],
        patchOperations=[{"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"}],
    )


@pytest.mark.parametrize(
    ("drift", "planned"),
    [
        pytest.param(_edit_policy, {"rest-api": ["policy"]}, id="resource-policy-opened"),
        pytest.param(_change_ttl, {"authorizer": ["resultTtlSeconds"]}, id="authorizer-ttl"),
    ],
)
def test_a_change_behind_our_back_shows_in_plan_and_apply_undoes_it(
    aws: Any,
    ledger_applied: AwsContext,
    drift: Callable[[Any], None],
    planned: dict[str, list[str]],
):
    """Drift: plan finds it, apply puts it back, and the next plan is clean."""
    drift(aws)

    def plan() -> dict[str, list[str]]:
        outcome = Reconciler(spec(ledger()), ledger_applied).plan()
        return {
            c.key: [d.path for d in c.deltas] or [str(c.action)]
            for c in outcome.changes
            if c.action is not Action.NOOP
        }

    assert plan() == planned
    assert apply(spec(ledger()), ledger_applied).converged
    assert plan() == {}


def test_retain_keeps_everything(aws: Any, ledger_applied: AwsContext):
    """deletionPolicy: Retain: delete makes no mutating call; endpoint and permission stay."""
    before_owned = owned_everywhere(aws, OWNER)
    before = ledger_applied.counter.mutating()
    result = delete(spec(ledger()), ledger_applied)
    assert result.converged
    assert {c.action for c in result.outcome.changes} == {Action.RETAIN}
    assert mutating_since(ledger_applied, before) == {}
    assert owned_everywhere(aws, OWNER) == before_owned
    assert len(_endpoints(aws)) == 1
    assert len(_statements(aws)) == 1


def test_delete_leaves_nothing_owned_but_keeps_the_function(aws: Any, ctx: AwsContext, function):
    """deletionPolicy: Delete: API, endpoint, its group, the permission go; the function stays."""
    doc = ledger(spec__deletionPolicy="Delete")
    assert apply(spec(doc), ctx).converged
    result = delete(spec(doc), ctx)
    assert result.converged, result.reason
    assert owned_everywhere(aws, OWNER) == {}
    assert _endpoints(aws) == []
    assert _statements(aws) == []
    assert aws.client("lambda").get_function(FunctionName=function)["Configuration"]["Runtime"]


def test_a_missing_authorizer_function_is_a_permanent_error_naming_the_field(ctx: AwsContext):
    """The function is never created by the controller: apply fails, naming the field."""
    result = apply(spec(ledger()), ctx, timeout=90)  # returns at the error
    assert not result.converged
    assert "spec.api.authorizer.lambdaArn" in (result.reason or "")
    failed = next(c for c in result.outcome.changes if c.key == "authorizer")
    assert failed.action is Action.FAILED


def test_example_file_is_the_one_tested():
    """The example this file tests exists (the docs point at it)."""
    assert Path(EXAMPLES / "ledger-private-api.yaml").is_file()
