"""Discovery of a chain built without psctl (plain boto3, tests/doctor/boto3_chain.py) from each
starting point the contract names: every hop present, the facts the checks need filled, within
the call budget."""

from __future__ import annotations

from typing import Any

import pytest
from boto3_chain import Chain, build

from controller.aws.session import AwsContext, AwsSettings
from controller.doctor.discover import ChainUnreadableError, Discovery
from controller.doctor.facts import Facts

DOWNSTREAM = ["vpc-link", "nlb", "nlb-listener", "nlb-target-group", "service", "tasks", "network"]


def _discovery(aws: Any) -> Discovery:
    return Discovery(AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url)))


def _kinds(facts: Facts) -> list[str]:
    return list(dict.fromkeys(h.hop for h in facts.hops))


def _assert_downstream(facts: Facts, chain: Chain) -> None:
    hops = {(h.hop, h.resource) for h in facts.hops}
    assert ("vpc-link", chain.vpc_link_id) in hops
    assert ("nlb", chain.nlb_arn) in hops
    assert ("nlb-listener", chain.listener_arn) in hops
    assert ("nlb-target-group", chain.tg_arn) in hops
    assert ("service", chain.service_arn) in hops
    assert chain.task_sg in facts.security_groups
    assert facts.security_groups[chain.task_sg]["IpPermissions"] == []
    svc = facts.services[chain.service_arn]
    assert svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [chain.task_sg]
    assert facts.tg_attributes[chain.tg_arn]
    assert chain.tg_arn in facts.target_health
    assert facts.lb_attributes[chain.nlb_arn]
    assert set(facts.task_definitions) == {svc["taskDefinition"]}
    assert facts.vpcs
    assert facts.subnets
    assert facts.route_tables
    assert facts.network_acls
    assert facts.unknown == []


def test_a_rest_api_chain_is_found_hop_by_hop(aws: Any) -> None:
    """--rest-api: API, stage, VPC link, NLB, listener, target group, service, tasks, network,
    in request order, in at most 60 reads."""
    chain = build(aws)
    facts = _discovery(aws).rest_api(chain.api_id)
    assert _kinds(facts) == ["api", "stage", *DOWNSTREAM]
    assert facts.target == f"rest-api/{chain.api_id}"
    assert not facts.owned
    _assert_downstream(facts, chain)
    assert [s["stageName"] for s in facts.stages[chain.api_id]] == ["prod"]
    methods = facts.resources[chain.api_id][0]["resourceMethods"]
    assert methods["ANY"]["methodIntegration"]["connectionId"] == chain.vpc_link_id
    assert 0 < sum(facts.calls.values()) <= 60
    assert all(call.split(":")[1].startswith(("Get", "Describe", "List")) for call in facts.calls)


@pytest.mark.parametrize("by", ["arn", "name"])
def test_a_load_balancer_leads_up_to_its_vpc_link_and_down_to_the_service(
    aws: Any, by: str
) -> None:
    """--load-balancer ARN or NAME: the VPC link targeting it upstream, the service downstream."""
    chain = build(aws)
    facts = _discovery(aws).load_balancer(chain.nlb_arn if by == "arn" else chain.nlb_name)
    assert _kinds(facts) == DOWNSTREAM
    _assert_downstream(facts, chain)


def test_an_ecs_service_leads_up_to_the_api(aws: Any) -> None:
    """--ecs-service CLUSTER/SERVICE: up through its target group and NLB to the VPC link and
    the REST API whose integration names it, with its stage."""
    chain = build(aws)
    facts = _discovery(aws).ecs_service(f"{chain.cluster}/{chain.service}")
    assert _kinds(facts) == ["api", "stage", *DOWNSTREAM]
    assert ("api", chain.api_id) in {(h.hop, h.resource) for h in facts.hops}
    _assert_downstream(facts, chain)


def test_two_stages_are_two_branches(aws: Any) -> None:
    """A second stage is a second `stage` hop, not an error; --stage picks one."""
    chain = build(aws)
    aws.client("apigateway").create_deployment(restApiId=chain.api_id, stageName="beta")
    both = _discovery(aws).rest_api(chain.api_id)
    assert sorted(h.resource for h in both.hops if h.hop == "stage") == ["beta", "prod"]
    one = _discovery(aws).rest_api(chain.api_id, "beta")
    assert [h.resource for h in one.hops if h.hop == "stage"] == ["beta"]


@pytest.mark.parametrize(
    ("form", "arg", "says"),
    [
        ("rest_api", "nope123456", "REST API nope123456 not found"),
        ("http_api", "nope123", "HTTP API nope123 not found"),
        ("load_balancer", "no-such-nlb", "load balancer no-such-nlb not found"),
        ("ecs_service", "nocluster/nosvc", "ECS service nosvc in cluster nocluster not found"),
        ("ecs_service", "just-a-name", "CLUSTER/SERVICE"),
        (
            "load_balancer",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/gwy/g/1",
            "not a network or application load balancer",
        ),
    ],
)
def test_a_missing_first_hop_is_one_clear_line(aws: Any, form: str, arg: str, says: str) -> None:
    """Unknown ids, wrong shapes and other load balancer types stop discovery with one line."""
    with pytest.raises(ChainUnreadableError) as err:
        getattr(_discovery(aws), form)(arg)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unknown_stage_is_one_clear_line(aws: Any) -> None:
    """--stage naming no stage of the API stops with the API and the stage named."""
    chain = build(aws)
    with pytest.raises(ChainUnreadableError, match=f"REST API {chain.api_id} has no stage 'x'"):
        _discovery(aws).rest_api(chain.api_id, "x")


def test_a_spec_whose_chain_cannot_be_read_says_which_resource_and_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """-f: the engine's dry pass failed on the API (e.g. refused): one line naming it, not
    'does not exist yet'."""
    from chain_spec import orders_spec

    from controller.reconcile.engine import Action, Change, Outcome
    from controller.reconcile.runner import Reconciler

    failed = Change(
        "rest-api",
        "apigw.rest_api",
        "rest-api",
        Action.FAILED,
        message="AccessDenied when calling GetRestApis",
    )
    monkeypatch.setattr(Reconciler, "plan", lambda self: Outcome(changes=[failed]))
    ctx = AwsContext(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(ChainUnreadableError) as err:
        Discovery(ctx).spec(orders_spec())
    assert str(err.value) == (
        "shop/orders: cannot read rest-api: AccessDenied when calling GetRestApis"
    )


def test_a_service_whose_target_group_lost_its_listener_still_shows_the_group(aws: Any) -> None:
    """--ecs-service after the NLB's listener was deleted: the target group (routed to by no
    load balancer) is still a hop of the service's chain; there is no NLB to show."""
    chain = build(aws)
    aws.client("elbv2").delete_listener(ListenerArn=chain.listener_arn)
    facts = _discovery(aws).ecs_service(f"{chain.cluster}/{chain.service}")
    hops = {(h.hop, h.resource) for h in facts.hops}
    assert ("nlb-target-group", chain.tg_arn) in hops
    assert ("service", chain.service_arn) in hops
    assert "nlb" not in {h.hop for h in facts.hops}


class _LinkReads:
    """Just the two VPC link reads, answering from a table."""

    region = "us-east-1"

    def vpc_link(self, link_id: str) -> dict[str, Any] | None:
        return {"id": link_id, "targetArns": [f"nlb-of-{link_id}"]}

    def vpc_link_v2(self, link_id: str) -> dict[str, Any] | None:
        return {"VpcLinkId": link_id, "SecurityGroupIds": ["sg-l"], "SubnetIds": []}


@pytest.mark.parametrize(
    ("integration", "v1", "v2", "lbs"),
    [
        pytest.param(
            {"connectionId": "abc"}, {"abc"}, set(), ["nlb-of-abc"], id="v1-link-targets-an-nlb"
        ),
        pytest.param(
            {"connectionId": "${stageVariables.link}"},
            {"from-stage"},
            set(),
            ["nlb-of-from-stage"],
            id="v1-link-named-by-a-stage-variable",
        ),
        pytest.param(
            {"connectionId": "${stageVariables.link}", "integrationTarget": "alb-arn"},
            set(),
            {"from-stage"},
            ["alb-arn"],
            id="v2-link-names-its-load-balancer-in-the-integration",
        ),
    ],
)
def test_rest_integrations_lead_to_their_vpc_links_and_load_balancers(
    integration: dict[str, Any], v1: set[str], v2: set[str], lbs: list[str]
) -> None:
    """A REST integration's VPC link (v1: its targetArns; v2: the integration's
    integrationTarget), stage variables resolved."""
    from controller.doctor.walk import Memo, Walk
    from controller.doctor.walk_api import _vpc_links_v1

    facts = Facts(target="rest-api/a", owned=False)
    method = {"methodIntegration": {"connectionType": "VPC_LINK", **integration}}
    facts.resources["a"] = [{"resourceMethods": {"ANY": method}}]
    facts.stages["a"] = [{"stageName": "prod", "variables": {"link": "from-stage"}}]
    walk = Walk(_LinkReads(), Memo(), facts)  # type: ignore[arg-type]
    assert _vpc_links_v1(walk, "a") == lbs
    assert set(facts.vpc_links) == v1
    assert set(facts.vpc_links_v2) == v2
    assert {h.resource for h in facts.hops if h.hop == "vpc-link"} == v1 | v2
