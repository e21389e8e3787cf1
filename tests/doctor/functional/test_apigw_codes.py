"""Functional tests of the `apigw` doctor checks on the sandbox: apply an example with psctl, break
one API Gateway or Lambda thing behind psctl's back with boto3, and expect exactly that finding
code from `psctl doctor ... -o json` (`controller.cli.main`): a spec change as the fix for the
chain a spec owns (`-f`), an AWS CLI command for the same chain seen from `--rest-api`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kept_chains import apply_doc

from controller.cli import main
from controller.sandbox import examples as sandbox_examples
from controller.sandbox.fidelity import apigateway_vpclink

EXAMPLES = Path(__file__).parents[3] / "examples"
APIGW_CODES = {
    "vpc-link-not-available",
    "vpc-link-wrong-target",
    "listener-port-mismatch",
    "stage-stale",
    "api-key-not-in-plan",
    "plan-not-on-stage",
    "no-plan-for-required-key",
    "authorizer-not-invokable",
    "authorizer-runtime-deprecated",
    "private-api-unreachable",
    "domain-mapping-missing",
}


# --- helpers ---------------------------------------------------------------------------------


def _apply(aws: Any, name: str, tmp_path: Path | None, source: Path | None = None) -> Path:
    """Apply examples/`name` (or `source`) until converged on the sandbox; its file for
    `doctor -f` (in `tmp_path`; the example's own without one)."""
    doc = yaml.safe_load((source or EXAMPLES / name).read_text())
    apply_doc(aws, doc)
    if tmp_path is None:
        return source or EXAMPLES / name
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def _doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """`psctl doctor ARGV -o json`: the exit status and the JSON document."""
    capsys.readouterr()
    status = main(["doctor", *argv, "-o", "json"])
    out = capsys.readouterr()
    assert out.out, out.err
    return status, json.loads(out.out)


def _codes(doc: dict[str, Any]) -> list[str]:
    return sorted(f["code"] for chain in doc["chains"] for f in chain["findings"])


def _only(doc: dict[str, Any], code: str) -> dict[str, Any]:
    """The one finding of the document, which must have `code`."""
    assert _codes(doc) == [code], json.dumps(doc["chains"][0]["findings"], indent=1)
    found: dict[str, Any] = doc["chains"][0]["findings"][0]
    return found


def _rest_api(aws: Any, name: str) -> str:
    apis = aws.client("apigateway").get_rest_apis(limit=500)["items"]
    return str(next(a["id"] for a in apis if a["name"] == name))


def _proxy(aws: Any, api: str) -> dict[str, Any]:
    """The proxy resource (with its method) psctl made on the API."""
    items = aws.client("apigateway").get_resources(restApiId=api, embed=["methods"])["items"]
    found: dict[str, Any] = next(r for r in items if r["path"] == "/{proxy+}")
    return found


def _patch_integration(aws: Any, api: str, path: str, value: str) -> None:
    """Replace `path` of every method's integration (psctl makes `ANY /` and `ANY /{proxy+}`);
    a `/uri` value's `{proxy}` is dropped on the root method, as psctl does."""
    apigw = aws.client("apigateway")
    for resource in apigw.get_resources(restApiId=api, embed=["methods"])["items"]:
        for method in resource.get("resourceMethods") or {}:
            new = value.replace("{proxy}", "") if resource["path"] == "/" else value
            apigw.update_integration(
                restApiId=api,
                resourceId=resource["id"],
                httpMethod=method,
                patchOperations=[{"op": "replace", "path": path, "value": new}],
            )


def _orders_plan(aws: Any) -> dict[str, Any]:
    plans = aws.client("apigateway").get_usage_plans(limit=500)["items"]
    found: dict[str, Any] = next(p for p in plans if "orders" in p["name"])
    return found


def _nlb(aws: Any, owner: str) -> str:
    elb = aws.client("elbv2")
    arns = [lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
    for desc in elb.describe_tags(ResourceArns=arns)["TagDescriptions"]:
        tags = {t["Key"]: t["Value"] for t in desc["Tags"]}
        if (
            tags.get("privateservice.io/owner") == owner
            and tags.get("privateservice.io/component") == "nlb"
        ):
            return str(desc["ResourceArn"])
    raise AssertionError(f"no NLB of {owner}")


def _wait_link(aws: Any, link: str, status: str) -> None:
    deadline = time.monotonic() + 60  # 0.5 s here; generous for a loaded machine
    while aws.client("apigateway").get_vpc_link(vpcLinkId=link)["status"] != status:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def _registered(aws: Any, tg_arn: str, count: int) -> list[dict[str, Any]]:
    """The `count` task targets the sandbox's ECS agent registers in the group (waited for)."""
    deadline = time.monotonic() + 60
    while True:
        found = aws.client("elbv2").describe_target_health(TargetGroupArn=tg_arn)
        targets = [
            {"Id": d["Target"]["Id"], "Port": d["Target"]["Port"]}
            for d in found["TargetHealthDescriptions"]
        ]
        if len(targets) >= count:
            return targets
        assert time.monotonic() < deadline, found
        time.sleep(0.2)


def _copy(name: str, tmp_path: Path) -> Path:
    """examples/`name` in `tmp_path`, for `doctor -f`."""
    path = tmp_path / name
    path.write_text((EXAMPLES / name).read_text())
    return path


@pytest.fixture
def orders(orders_chain: Any, tmp_path: Path) -> Path:
    """examples/orders-rest-nlb.yaml: REST, methods require a key, plan `standard`, two keys
    (applied once and kept by the worker's sandbox, put back after the test: `orders_chain`)."""
    return _copy("orders-rest-nlb.yaml", tmp_path)


@pytest.fixture
def orders_spent(orders_chain_spent: Any, tmp_path: Path) -> Path:
    """`orders` for a test that leaves resources of its own behind (rebuilt after)."""
    return _copy("orders-rest-nlb.yaml", tmp_path)


LEDGER_KEY = "doctor: examples/ledger-private-api.yaml applied, authorizer on python3.13"


def _ledger(access: Any) -> None:
    """The ledger example with its authorizer function, moved off the example's deprecated
    runtime so that only a test's break shows."""
    sandbox_examples.authorizer_function(access)
    _apply(access, "ledger-private-api.yaml", None)
    _current_runtime(access)


def _current_runtime(access: Any) -> None:
    access.client("lambda").update_function_configuration(
        FunctionName=sandbox_examples.AUTHORIZER, Runtime="python3.13"
    )


@pytest.fixture
def ledger_chain(kept: Any) -> Iterator[Any]:
    """The sandbox holding the ledger example (`_ledger`), kept by the worker's sandbox: after
    a test that changed anything, psctl applies it again (putting back what it owns) and the
    authorizer's runtime is set back."""
    access = kept.hold(LEDGER_KEY, _ledger)
    yield access
    if kept.changed():
        _apply(access, "ledger-private-api.yaml", None)
        _current_runtime(access)
    kept.release(LEDGER_KEY)


@pytest.fixture
def ledger(ledger_chain: Any, tmp_path: Path) -> Path:
    """examples/ledger-private-api.yaml (PRIVATE API, Lambda authorizer) with its authorizer
    function, moved off the example's deprecated runtime so that only a test's break shows."""
    return _copy("ledger-private-api.yaml", tmp_path)


# --- the applied examples are clean ---------------------------------------------------------


def test_applied_orders_and_ledger_have_no_apigw_finding(
    capsys: pytest.CaptureFixture[str], orders_chain_spent: Any, orders_spent: Path, tmp_path: Path
) -> None:
    """As psctl builds them, doctor finds nothing of the apigw family on either chain (ledger
    applied beside the kept orders chain, which the next test gets rebuilt)."""
    _ledger(orders_chain_spent)
    orders, ledger = orders_spent, _copy("ledger-private-api.yaml", tmp_path)
    _, doc = _doctor(capsys, "-f", str(orders), "-f", str(ledger))
    assert [c for c in _codes(doc) if c in APIGW_CODES] == []


# --- keys and usage plans (field report 000) --------------------------------------------------


def test_key_removed_from_its_plan_is_api_key_not_in_plan(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: Path
) -> None:
    """A key taken out of its usage plan: exactly `api-key-not-in-plan`, fixed in the spec."""
    aws = orders_chain
    apigw = aws.client("apigateway")
    plan = _orders_plan(aws)
    key = apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"][0]
    apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    status, doc = _doctor(capsys, "-f", str(orders))
    found = _only(doc, "api-key-not-in-plan")
    assert status == 1
    assert found["resource"] == key["id"]
    assert "spec.api.usagePlans" in found["fix"]


def test_plan_detached_from_stage_is_plan_not_on_stage(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: Path
) -> None:
    """The plan's stage removed from it: exactly `plan-not-on-stage`; seen from --rest-api the
    fix is the update-usage-plan command with the ids filled in."""
    aws = orders_chain
    apigw = aws.client("apigateway")
    plan = _orders_plan(aws)
    api = _rest_api(aws, "shop/orders")
    apigw.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[{"op": "remove", "path": "/apiStages", "value": f"{api}:prod"}],
    )
    status, doc = _doctor(capsys, "-f", str(orders))
    assert _only(doc, "plan-not-on-stage")["resource"] == plan["id"]
    assert status == 1
    _, doc = _doctor(capsys, "--rest-api", api, "--stage", "prod")
    assert _codes(doc) == ["no-plan-for-required-key"]


def test_plan_deleted_is_no_plan_for_required_key_with_a_cli_fix(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: Path
) -> None:
    """No plan left on the stage, seen from --rest-api (a chain doctor does not own): exactly
    `no-plan-for-required-key`, fixed by the create-usage-plan command for this API and stage."""
    aws = orders_chain
    apigw = aws.client("apigateway")
    plan = _orders_plan(aws)
    for key in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]:
        apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    apigw.delete_usage_plan(usagePlanId=plan["id"])
    api = _rest_api(aws, "shop/orders")
    status, doc = _doctor(capsys, "--rest-api", api)
    found = _only(doc, "no-plan-for-required-key")
    assert status == 1
    assert f"--api-stages apiId={api},stage=prod" in found["fix"]


# --- VPC link and listener ---------------------------------------------------------------------


def test_integration_on_another_port_is_listener_port_mismatch(
    orders_chain: Any, capsys: pytest.CaptureFixture[str], orders: Path
) -> None:
    """The integration URI moved to port 8080, where the NLB has no listener: exactly
    `listener-port-mismatch` on the nlb-listener hop."""
    aws = orders_chain
    api = _rest_api(aws, "shop/orders")
    uri = _proxy(aws, api)["resourceMethods"]["ANY"]["methodIntegration"]["uri"]
    _patch_integration(aws, api, "/uri", uri.replace(":80/", ":8080/"))
    status, doc = _doctor(capsys, "-f", str(orders))
    found = _only(doc, "listener-port-mismatch")
    assert (status, found["hop"]) == (1, "nlb-listener")
    assert "port 8080" in found["message"]


def test_integration_through_a_link_to_another_nlb_is_vpc_link_wrong_target(
    orders_chain_spent: Any, capsys: pytest.CaptureFixture[str], orders_spent: Path
) -> None:
    """The integration switched to a VPC link that targets another NLB (a working one: a
    listener on the same port, the same tasks healthy behind it): exactly
    `vpc-link-wrong-target`, naming the link, that NLB and the spec's."""
    aws = orders_chain_spent
    elb, apigw, net = aws.client("elbv2"), aws.client("apigateway"), aws.network
    other = elb.create_load_balancer(
        Name="legacy-nlb", Subnets=list(net.private_subnet_ids), Scheme="internal", Type="network"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name="legacy-tg", Protocol="TCP", Port=8000, VpcId=net.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    ours = elb.describe_target_groups(LoadBalancerArn=_nlb(aws, "shop/orders"))["TargetGroups"]
    targets = _registered(aws, ours[0]["TargetGroupArn"], 2)
    elb.register_targets(TargetGroupArn=tg, Targets=targets)
    elb.create_listener(
        LoadBalancerArn=other,
        Protocol="TCP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    link = apigw.create_vpc_link(name="legacy", targetArns=[other])["id"]
    _wait_link(aws, link, "AVAILABLE")
    api = _rest_api(aws, "shop/orders")
    _patch_integration(aws, api, "/connectionId", link)
    status, doc = _doctor(capsys, "-f", str(orders_spent))
    found = _only(doc, "vpc-link-wrong-target")
    assert status == 1
    assert found["resource"] == link
    assert other in found["message"]
    assert _nlb(aws, "shop/orders") in found["message"]


def test_integration_through_a_pending_link_is_vpc_link_not_available(
    orders_chain_spent: Any,
    capsys: pytest.CaptureFixture[str],
    orders_spent: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The integration switched to a new VPC link to the same NLB that is still PENDING (the
    sandbox keeps it so for a minute here): exactly `vpc-link-not-available`."""
    aws = orders_chain_spent
    monkeypatch.setattr(apigateway_vpclink.TIMING, "seconds", 60.0)
    apigw = aws.client("apigateway")
    link = apigw.create_vpc_link(name="second", targetArns=[_nlb(aws, "shop/orders")])["id"]
    api = _rest_api(aws, "shop/orders")
    _patch_integration(aws, api, "/connectionId", link)
    status, doc = _doctor(capsys, "-f", str(orders_spent))
    found = _only(doc, "vpc-link-not-available")
    assert (status, found["resource"]) == (1, link)
    assert "PENDING" in found["message"]


# --- authorizer and PRIVATE API (field report 002) --------------------------------------------


def test_example_authorizer_runtime_is_deprecated(
    ledger_chain: Any, capsys: pytest.CaptureFixture[str], ledger: Path
) -> None:
    """The ledger example's authorizer back on nodejs12.x (as the sandbox makes it): exactly
    `authorizer-runtime-deprecated`, a warning (exit 0)."""
    aws = ledger_chain
    aws.client("lambda").update_function_configuration(
        FunctionName=sandbox_examples.AUTHORIZER, Runtime="nodejs12.x"
    )
    status, doc = _doctor(capsys, "-f", str(ledger))
    found = _only(doc, "authorizer-runtime-deprecated")
    assert (status, found["severity"]) == (0, "warning")
    assert "nodejs12.x" in found["message"]


def test_permission_removed_is_authorizer_not_invokable(
    ledger_chain: Any, capsys: pytest.CaptureFixture[str], ledger: Path
) -> None:
    """The statement that lets API Gateway invoke the authorizer removed from the function's
    policy: exactly `authorizer-not-invokable`; from --rest-api the fix is add-permission."""
    aws = ledger_chain
    lam = aws.client("lambda")
    policy = json.loads(lam.get_policy(FunctionName=sandbox_examples.AUTHORIZER)["Policy"])
    for statement in policy["Statement"]:
        lam.remove_permission(
            FunctionName=sandbox_examples.AUTHORIZER, StatementId=statement["Sid"]
        )
    status, doc = _doctor(capsys, "-f", str(ledger))
    assert _only(doc, "authorizer-not-invokable")["hop"] == "authorizer"
    assert status == 1
    api = _rest_api(aws, "finance/ledger")
    _, doc = _doctor(capsys, "--rest-api", api)
    fix = _only(doc, "authorizer-not-invokable")["fix"]
    assert fix.startswith("aws lambda add-permission")
    assert f":{api}/authorizers/" in fix


def test_policy_admitting_another_endpoint_is_private_api_unreachable(
    ledger_chain: Any, capsys: pytest.CaptureFixture[str], ledger: Path
) -> None:
    """The PRIVATE API's resource policy rewritten to admit only an endpoint of another VPC:
    exactly `private-api-unreachable`, fixed through spec.api.vpcEndpointIds."""
    aws = ledger_chain
    api = _rest_api(aws, "finance/ledger")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0otheraccount"}},
            }
        ],
    }
    aws.client("apigateway").update_rest_api(
        restApiId=api,
        patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}],
    )
    status, doc = _doctor(capsys, "-f", str(ledger))
    found = _only(doc, "private-api-unreachable")
    assert status == 1
    assert "spec.api.vpcEndpointIds" in found["fix"]


def test_link_to_a_deleted_nlb_is_vpc_link_wrong_target_from_the_api(
    orders_chain_spent: Any, capsys: pytest.CaptureFixture[str], orders_spent: Path
) -> None:
    """The integration switched to a VPC link whose NLB was deleted since, seen from --rest-api:
    exactly `vpc-link-wrong-target` ("no longer exists"), fixed by commands naming the link."""
    aws = orders_chain_spent
    elb, apigw, net = aws.client("elbv2"), aws.client("apigateway"), aws.network
    gone = elb.create_load_balancer(
        Name="gone-nlb", Subnets=list(net.private_subnet_ids), Scheme="internal", Type="network"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    link = apigw.create_vpc_link(name="to-gone", targetArns=[gone])["id"]
    _wait_link(aws, link, "AVAILABLE")
    elb.delete_load_balancer(LoadBalancerArn=gone)
    api = _rest_api(aws, "shop/orders")
    _patch_integration(aws, api, "/connectionId", link)
    status, doc = _doctor(capsys, "--rest-api", api)
    found = _only(doc, "vpc-link-wrong-target")
    assert status == 1
    assert f"{gone}, which no longer exists" in found["message"]
    assert found["fix"].startswith("LINK=$(aws apigateway create-vpc-link")
    assert f"--rest-api-id {api}" in found["fix"]


# --- custom domain (field report 004) ---------------------------------------------------------


def test_mapping_deleted_is_domain_mapping_missing(
    aws: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The billing example's custom domain loses its base path mapping: the one new finding is
    `domain-mapping-missing`, on the domain hop, fixed in the spec's customDomain."""
    sandbox_examples.ec2_cluster(aws)
    path = _apply(aws, "billing-ec2-fixed-ports.yaml", tmp_path)
    _, before = _doctor(capsys, "-f", str(path))
    apigw = aws.client("apigateway")
    mapping = apigw.get_base_path_mappings(domainName="api.example.com")["items"][0]
    apigw.delete_base_path_mapping(domainName="api.example.com", basePath=mapping["basePath"])
    status, after = _doctor(capsys, "-f", str(path))
    assert "domain-mapping-missing" not in _codes(before)
    assert _codes(after) == sorted([*_codes(before), "domain-mapping-missing"])
    found = next(f for f in after["chains"][0]["findings"] if f["code"] == "domain-mapping-missing")
    assert (status, found["hop"], found["resource"]) == (1, "domain", "api.example.com")
    assert "spec.api.customDomain" in found["fix"]


# --- HTTP API (VPC link v2 on the NLB's listener) ----------------------------------------------


def test_http_api_on_a_deleted_listener_is_listener_port_mismatch(
    aws: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The orders example as an HTTP API, clean at first; its integration moved to a second
    listener of the NLB that is then deleted: exactly `listener-port-mismatch`, from -f (spec
    fix) and from --http-api (the update-integration command)."""
    doc = yaml.safe_load((EXAMPLES / "orders-rest-nlb.yaml").read_text())
    doc["spec"]["api"] = {"type": "HTTP", "stageName": "prod"}
    path = tmp_path / "orders-http.yaml"
    path.write_text(yaml.safe_dump(doc))
    _apply(aws, path.name, tmp_path, source=path)
    status, before = _doctor(capsys, "-f", str(path))
    assert (status, _codes(before)) == (0, [])
    v2, elb = aws.client("apigatewayv2"), aws.client("elbv2")
    api = v2.get_apis()["Items"][0]["ApiId"]
    integration = v2.get_integrations(ApiId=api)["Items"][0]["IntegrationId"]
    nlb = _nlb(aws, "shop/orders")
    tg = elb.describe_target_groups(LoadBalancerArn=nlb)["TargetGroups"][0]["TargetGroupArn"]
    second = elb.create_listener(
        LoadBalancerArn=nlb,
        Protocol="TCP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    v2.update_integration(ApiId=api, IntegrationId=integration, IntegrationUri=second)
    elb.delete_listener(ListenerArn=second)
    status, doc_f = _doctor(capsys, "-f", str(path))
    found = _only(doc_f, "listener-port-mismatch")
    assert status == 1
    assert second in found["message"]
    _, doc_api = _doctor(capsys, "--http-api", api)
    fix = _only(doc_api, "listener-port-mismatch")["fix"]
    assert fix.startswith(f"aws apigatewayv2 update-integration --api-id {api}")


# --- stage ------------------------------------------------------------------------------------


def test_method_added_without_redeploying_is_stage_stale(
    orders_chain_spent: Any, capsys: pytest.CaptureFixture[str], orders_spent: Path
) -> None:
    """A method added to the API by hand and never deployed: the stage's deployment snapshot
    (apiSummary) lacks it: exactly `stage-stale`, a warning (exit 0); from --rest-api the fix
    is create-deployment for that stage."""
    aws = orders_chain_spent
    apigw = aws.client("apigateway")
    api = _rest_api(aws, "shop/orders")
    root = next(r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    admin = apigw.create_resource(restApiId=api, parentId=root["id"], pathPart="admin")["id"]
    apigw.put_method(restApiId=api, resourceId=admin, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=admin, httpMethod="GET", type="MOCK")
    status, doc = _doctor(capsys, "-f", str(orders_spent))
    found = _only(doc, "stage-stale")
    assert (status, found["severity"]) == (0, "warning")
    assert "GET /admin added" in found["message"]
    _, doc = _doctor(capsys, "--rest-api", api)
    fix = _only(doc, "stage-stale")["fix"]
    assert fix == f"aws apigateway create-deployment --rest-api-id {api} --stage-name prod"
