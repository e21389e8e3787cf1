"""Unit tests of the `apigw` doctor checks on hand-written boto3 shapes (apigw_shapes): per code,
the case that finds it, and the cases that must not (healthy, unknown, absent). This module:
VPC links, listener ports, stale stages, API keys and usage plans; `test_checks_apigw_auth` and
`test_checks_apigw_private` hold the others.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from apigw_shapes import (
    API,
    DEPLOYMENT,
    HTTP_API,
    KEY,
    LINK,
    LINK_V2,
    LISTENER,
    NLB,
    OTHER_NLB,
    PLAN,
    STAGE,
    VPC,
    http,
    rest,
    unknown,
)

from controller.doctor.checks import apigw, run_checks
from controller.doctor.checks.apigw_links import vpc_link_not_available, vpc_link_wrong_target
from controller.doctor.checks.apigw_ports import listener_port_mismatch
from controller.doctor.checks.apigw_stage import (
    api_key_not_in_plan,
    no_plan_for_required_key,
    plan_not_on_stage,
    stage_stale,
)
from controller.doctor.facts import Facts
from controller.doctor.model import CODES, Finding

Mutate = Callable[[Facts], object]


def _set(path: Callable[[Facts], dict[str, object]], key: str, value: object) -> Mutate:
    return lambda f: path(f).__setitem__(key, value)


def _method(f: Facts) -> dict[str, object]:
    return f.resources[API][1]["resourceMethods"]["ANY"]  # type: ignore[no-any-return]


def _integration(f: Facts) -> dict[str, object]:
    return _method(f)["methodIntegration"]  # type: ignore[return-value]


def _drop_plan_stage(f: Facts) -> Facts:
    f.usage_plans[0]["apiStages"] = []
    return f


def _delete_plan(f: Facts) -> Facts:
    f.usage_plans, f.usage_plan_keys = [], {}
    return f


def _plan_for_dev(f: Facts) -> Facts:
    f.usage_plans[0]["apiStages"] = [{"apiId": API, "stage": "dev"}]
    f.usage_plans[0]["tags"] = {}
    return f


def _orphan_key(f: Facts) -> Facts:
    f.usage_plan_keys[PLAN] = []
    return f


def _v2_other_vpc(f: Facts) -> Facts:
    f.subnets["subnet-0z"] = {"SubnetId": "subnet-0z", "VpcId": "vpc-0other"}
    f.vpc_links_v2[LINK_V2]["SubnetIds"] = ["subnet-0z"]
    return f


def _v2_listener_gone(f: Facts) -> Facts:
    other = LISTENER.rsplit("/", 1)[0] + "/0000000000000000"
    f.listeners[NLB] = [{"ListenerArn": other, "LoadBalancerArn": NLB, "Port": 8080}]
    return f


CASES = [
    # --- vpc-link-not-available
    pytest.param(
        vpc_link_not_available,
        rest,
        _set(lambda f: f.vpc_links[LINK], "status", "FAILED"),
        [LINK, "FAILED", "no status message"],
        id="link-v1-failed",
    ),
    pytest.param(
        vpc_link_not_available,
        http,
        _set(lambda f: f.vpc_links_v2[LINK_V2], "VpcLinkStatus", "PENDING"),
        [LINK_V2, "PENDING", "get-vpc-link"],
        id="link-v2-pending",
    ),
    pytest.param(vpc_link_not_available, rest, None, [], id="link-available"),
    pytest.param(
        vpc_link_not_available,
        rest,
        lambda f: (unknown(f, "vpc-link"), f.vpc_links[LINK].update(status="FAILED")),
        [],
        id="link-unknown",
    ),
    pytest.param(vpc_link_not_available, rest, lambda f: f.vpc_links.clear(), [], id="link-absent"),
    # --- vpc-link-wrong-target
    pytest.param(
        vpc_link_wrong_target,
        rest,
        lambda f: (
            f.vpc_links[LINK].update(targetArns=[OTHER_NLB]),
            f.load_balancers.__setitem__(OTHER_NLB, {"LoadBalancerArn": OTHER_NLB}),
        ),
        [LINK, OTHER_NLB, "not the chain's NLB", "create-vpc-link", "--target-arns " + NLB],
        id="link-targets-other-nlb",
    ),
    pytest.param(
        vpc_link_wrong_target,
        rest,
        lambda f: (
            f.owned_resources.update(nlb=OTHER_NLB),
            f.load_balancers.__setitem__(OTHER_NLB, {"LoadBalancerArn": OTHER_NLB}),
        ),
        [LINK, NLB, "not the chain's NLB", "--target-arns " + OTHER_NLB],
        id="link-not-to-the-spec-nlb",
    ),
    pytest.param(
        vpc_link_wrong_target,
        http,
        lambda f: f.owned_resources.update(listener=LISTENER.replace("orders-nlb", "new-nlb")),
        ["int0", "not of new-nlb"],
        id="link-v2-not-to-the-spec-listener",
    ),
    pytest.param(
        vpc_link_wrong_target,
        rest,
        lambda f: (f.load_balancers.clear(), f.hops.__setitem__(slice(None), [])),
        [LINK, "no longer exists"],
        id="link-targets-deleted-nlb",
    ),
    pytest.param(
        vpc_link_wrong_target,
        http,
        _v2_other_vpc,
        [LINK_V2, "vpc-0other", VPC, "update-integration"],
        id="link-v2-other-vpc",
    ),
    pytest.param(
        listener_port_mismatch,
        http,
        lambda f: (f.load_balancers.clear(), f.listeners.clear(), f.hops.clear()),
        ["int0", "which does not exist", NLB],
        id="v2-listener-not-found",
    ),
    pytest.param(
        vpc_link_wrong_target,
        http,
        lambda f: (f.load_balancers.clear(), f.listeners.clear(), f.hops.clear()),
        [],
        id="link-v2-listener-not-found-is-not-wrong-target",
    ),
    pytest.param(vpc_link_wrong_target, rest, None, [], id="target-healthy"),
    pytest.param(vpc_link_wrong_target, http, None, [], id="target-v2-healthy"),
    pytest.param(
        vpc_link_wrong_target,
        rest,
        lambda f: (unknown(f, "nlb"), f.load_balancers.clear()),
        [],
        id="target-nlb-unknown",
    ),
    pytest.param(
        vpc_link_wrong_target, rest, lambda f: f.vpc_links.clear(), [], id="target-absent"
    ),
    # --- listener-port-mismatch
    pytest.param(
        listener_port_mismatch,
        rest,
        _set(_integration, "uri", "http://orders.internal:8080/{proxy}"),
        ["port 8080", "listens on 80", "path=/uri,value=http://orders.internal:80/{proxy}"],
        id="uri-port-8080",
    ),
    pytest.param(
        listener_port_mismatch,
        rest,
        _set(_integration, "uri", "https://orders.internal/{proxy}"),
        ["port 443"],
        id="uri-https-default-443",
    ),
    pytest.param(
        listener_port_mismatch, http, _v2_listener_gone, [LISTENER, "8080"], id="v2-listener-gone"
    ),
    pytest.param(listener_port_mismatch, rest, None, [], id="port-healthy"),
    pytest.param(listener_port_mismatch, http, None, [], id="port-v2-healthy"),
    pytest.param(
        listener_port_mismatch,
        rest,
        lambda f: (unknown(f, "nlb-listener"), _integration(f).update(uri="http://x:81/")),
        [],
        id="port-unknown",
    ),
    pytest.param(
        listener_port_mismatch,
        rest,
        lambda f: (f.listeners.clear(), _integration(f).update(uri="http://x:81/")),
        [],
        id="port-listeners-absent",
    ),
    # --- stage-stale
    pytest.param(
        stage_stale,
        rest,
        _set(_method, "apiKeyRequired", False),
        [DEPLOYMENT, "apiKeyRequired True -> False", "create-deployment"],
        id="stale-key-flag-changed",
    ),
    pytest.param(
        stage_stale,
        rest,
        lambda f: f.deployment_snapshots.__setitem__(DEPLOYMENT, {}),
        ["ANY /{proxy+} added"],
        id="stale-deployed-before-methods",
    ),
    pytest.param(
        stage_stale,
        http,
        lambda f: f.deployments[HTTP_API][0].update(
            DeploymentStatus="FAILED", DeploymentStatusMessage="Integration int0 is invalid"
        ),
        ["FAILED", "Integration int0 is invalid", "apigatewayv2 create-deployment"],
        id="stale-v2-deploy-failed",
    ),
    pytest.param(stage_stale, rest, None, [], id="stale-healthy"),
    pytest.param(stage_stale, http, None, [], id="stale-v2-healthy"),
    pytest.param(
        stage_stale, rest, lambda f: f.deployment_snapshots.clear(), [], id="stale-no-snapshot"
    ),
    pytest.param(
        stage_stale,
        rest,
        lambda f: (unknown(f, "stage"), _method(f).update(apiKeyRequired=False)),
        [],
        id="stale-unknown",
    ),
    # --- plan-not-on-stage
    pytest.param(
        plan_not_on_stage,
        rest,
        _drop_plan_stage,
        [PLAN, KEY, f"value={API}:{STAGE}"],
        id="own-plan-off-stage",
    ),
    pytest.param(plan_not_on_stage, rest, None, [], id="plan-healthy"),
    pytest.param(plan_not_on_stage, rest, _plan_for_dev, [], id="plan-for-other-stage-not-ours"),
    pytest.param(
        plan_not_on_stage,
        rest,
        lambda f: (unknown(f, "stage"), _drop_plan_stage(f)),
        [],
        id="plan-unknown",
    ),
    # --- no-plan-for-required-key
    pytest.param(
        no_plan_for_required_key,
        rest,
        _delete_plan,
        ["ANY /{proxy+}", "no usage plan", "create-usage-plan"],
        id="no-plan",
    ),
    pytest.param(no_plan_for_required_key, rest, _drop_plan_stage, [], id="no-plan-but-stranded"),
    pytest.param(no_plan_for_required_key, rest, None, [], id="no-plan-healthy"),
    pytest.param(
        no_plan_for_required_key,
        rest,
        lambda f: (_delete_plan(f), _method(f).update(apiKeyRequired=False)),
        [],
        id="no-plan-no-key-required",
    ),
    pytest.param(
        no_plan_for_required_key,
        rest,
        lambda f: (unknown(f, "stage"), _delete_plan(f)),
        [],
        id="no-plan-unknown",
    ),
    # --- api-key-not-in-plan
    pytest.param(
        api_key_not_in_plan,
        rest,
        _orphan_key,
        [KEY, "no usage plan", f"--usage-plan-id {PLAN} --key-id {KEY}"],
        id="key-orphaned",
    ),
    pytest.param(api_key_not_in_plan, rest, None, [], id="key-healthy"),
    pytest.param(
        api_key_not_in_plan,
        rest,
        lambda f: (_orphan_key(f), f.api_keys[KEY].update(enabled=False)),
        [],
        id="key-disabled",
    ),
    pytest.param(
        api_key_not_in_plan,
        rest,
        lambda f: (_orphan_key(f), f.usage_plan_keys.clear()),
        [],
        id="key-plan-keys-absent",
    ),
    pytest.param(
        api_key_not_in_plan,
        rest,
        lambda f: (unknown(f, "stage"), _orphan_key(f)),
        [],
        id="key-unknown",
    ),
]


@pytest.mark.parametrize(("check", "build", "mutate", "expected"), CASES)
def test_check(
    check: Callable[[Facts], list[Finding]],
    build: Callable[[], Facts],
    mutate: Mutate | None,
    expected: list[str],
) -> None:
    """Each check finds its code exactly when the shapes show it, naming the ids in its message
    and fix; healthy, unknown and absent facts give nothing."""
    facts = build()
    if mutate is not None:
        mutate(facts)
    found = check(facts)
    if not expected:
        assert found == []
        return
    assert len(found) == 1, found
    f = found[0]
    assert f.code == check.__name__.replace("_", "-")
    assert f.severity == CODES[f.code]
    text = f"{f.message} {f.fix_cli}"
    for part in expected:
        assert part in text, (part, text)
    assert f.why
    assert f.fix_spec
    assert f.fix_cli


@pytest.mark.parametrize("build", [rest, http])
def test_healthy_chains_give_no_apigw_finding(build: Callable[[], Facts]) -> None:
    """The whole family is quiet on a healthy REST and a healthy HTTP chain (no false alarm)."""
    assert run_checks(build(), apigw.CHECKS) == []


def test_family_lists_every_apigw_code_once() -> None:
    """CHECKS holds one function per code of the family, each named after its code."""
    names = [c.__name__.replace("_", "-") for c in apigw.CHECKS]
    assert len(names) == len(set(names)) == 11
    assert set(names) <= set(CODES)


def test_stage_variable_names_the_vpc_link() -> None:
    """A connectionId given as ${stageVariables.x} is resolved per stage before it is judged."""
    facts = rest()
    _integration(facts)["connectionId"] = "${stageVariables.link}"
    facts.stages[API][0]["variables"] = {"link": LINK}
    facts.vpc_links[LINK]["targetArns"] = [OTHER_NLB]
    found = vpc_link_wrong_target(facts)
    assert [f.code for f in found] == ["vpc-link-wrong-target"]
    assert "ANY /{proxy+}" in found[0].message


def test_stage_findings_name_the_stage_hop() -> None:
    """Findings about a whole stage carry the stage's name, the resource of its hop, so the
    picture marks that stage (not every stage of the chain)."""
    stale, no_plan = rest(), _delete_plan(rest())
    _method(stale)["apiKeyRequired"] = False
    for found in (stage_stale(stale), no_plan_for_required_key(no_plan)):
        assert [(f.hop, f.resource) for f in found] == [("stage", STAGE)]
