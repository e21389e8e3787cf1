"""The read snapshot: identical reads within the TTL are one call, also from two threads at once;
our writes forget what they can change (by path for API Gateway, the whole service otherwise)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from controller.aws.cache import StoredReply, _stale
from controller.aws.session import AwsContext, AwsSettings


def _ctx(aws: Any, ttl: float) -> AwsContext:
    return AwsContext(
        AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url, read_cache_seconds=ttl)
    )


def _calls(ctx: AwsContext, operation: str) -> int:
    return ctx.counter.snapshot()[("apigateway", operation)]


def test_identical_reads_within_the_ttl_are_one_call_and_answers_are_copies(aws: Any):
    """Three GetUsagePlans in a row: one call; mutating an answer does not touch the next one."""
    ctx = _ctx(aws, 30)
    client = ctx.client("apigateway")
    client.create_usage_plan(name="p")
    first = client.get_usage_plans()
    first["items"].clear()
    assert [p["name"] for p in client.get_usage_plans()["items"]] == ["p"]
    client.get_usage_plans()
    assert _calls(ctx, "GetUsagePlans") == 1
    assert ctx.cache is not None
    assert ctx.cache.hits == 2
    assert ctx.counter.outcomes[("apigateway", "GetUsagePlans", "ok")] == 1


def test_a_write_on_the_service_invalidates_and_the_ttl_expires(aws: Any):
    """Our own write is seen at once; a change made elsewhere is seen after the TTL."""
    ctx = _ctx(aws, 0.5)
    client = ctx.client("apigateway")
    assert client.get_usage_plans()["items"] == []
    client.create_usage_plan(name="ours")
    assert [p["name"] for p in client.get_usage_plans()["items"]] == ["ours"]
    aws.client("apigateway").create_usage_plan(name="theirs")  # behind our back
    assert len(client.get_usage_plans()["items"]) == 1  # within the TTL: the cached view
    time.sleep(0.6)
    assert len(client.get_usage_plans()["items"]) == 2
    assert _calls(ctx, "GetUsagePlans") == 3


def test_no_cache_unless_asked(aws: Any):
    """A context without read_cache_seconds reads AWS every time."""
    ctx = _ctx(aws, 0)
    client = ctx.client("apigateway")
    client.get_usage_plans()
    client.get_usage_plans()
    assert ctx.cache is None
    assert _calls(ctx, "GetUsagePlans") == 2


def test_two_threads_reading_the_same_list_at_once_make_one_call(aws: Any):
    """Single flight: the second reader waits for the first one's answer instead of sending."""
    ctx = _ctx(aws, 30)
    client = ctx.client("apigateway")
    client.create_usage_plan(name="p")
    go = threading.Event()

    def hold(**_: Any) -> None:
        go.wait(5)  # the first read stays on the wire until the second thread has started

    client.meta.events.register("before-send.api-gateway.GetUsagePlans", hold)
    answers: list[list[str]] = []

    def read() -> None:
        answers.append([p["name"] for p in client.get_usage_plans()["items"]])

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    go.set()
    for t in threads:
        t.join(10)
    assert answers == [["p"], ["p"]]
    assert _calls(ctx, "GetUsagePlans") == 1


def test_a_write_forgets_its_item_and_ancestors_not_other_apis(aws: Any):
    """UpdateStage of API a: a's stages are read again; the list of APIs and b's stages are not
    (a deep write does not change GetRestApis); a tag write forgets the whole service."""
    ctx = _ctx(aws, 30)
    client = ctx.client("apigateway")
    ids = [client.create_rest_api(name=n)["id"] for n in ("a", "b")]
    for api in ids:
        root = client.get_resources(restApiId=api)["items"][0]["id"]
        client.put_method(
            restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE"
        )
        client.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        client.create_deployment(restApiId=api, stageName="prod")
    before = ctx.counter.snapshot()
    for api in ids:
        client.get_stages(restApiId=api)
    client.get_rest_apis()
    client.update_stage(
        restApiId=ids[0],
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/description", "value": "x"}],
    )
    for api in ids:
        client.get_stages(restApiId=api)
    client.get_rest_apis()
    reads = ctx.counter.snapshot() - before
    assert reads[("apigateway", "GetStages")] == 3  # a twice, b once
    assert reads[("apigateway", "GetRestApis")] == 1
    arn = f"arn:aws:apigateway:{aws.region}::/restapis/{ids[1]}"
    client.tag_resource(resourceArn=arn, tags={"k": "v"})
    client.get_rest_apis()
    client.get_stages(restApiId=ids[1])
    reads = ctx.counter.snapshot() - before
    assert reads[("apigateway", "GetRestApis")] == 2
    assert reads[("apigateway", "GetStages")] == 4


@pytest.mark.parametrize(
    ("read", "write", "stale"),
    [
        pytest.param("/restapis/a/stages", "/restapis/a/stages/prod", True, id="parent-list"),
        pytest.param("/restapis/a/resources", "/restapis/a", True, id="below-a-deleted-item"),
        pytest.param("/restapis", "/restapis/a", True, id="top-list-of-a-written-item"),
        pytest.param("/restapis", "/restapis/a/resources/r/methods/ANY", False, id="deep-write"),
        pytest.param("/restapis/b/resources", "/restapis/a/resources/r", False, id="other-api"),
        pytest.param("/restapis/b/resources", "/restapis", False, id="create-in-top-list"),
        pytest.param("/restapis", "/restapis", True, id="create-in-top-list-itself"),
        pytest.param("/usageplans/p/keys", "/usageplans/p/keys/k", True, id="plan-keys"),
    ],
)
def test_which_reads_a_write_makes_stale(read: str, write: str, stale: bool):
    """The path rule of `controller.aws.cache._stale`, case by case."""
    assert _stale(read, write) is stale


def test_a_write_on_a_query_protocol_service_forgets_all_of_it(aws: Any):
    """ELB and EC2 requests carry no resource path: any write there forgets the service."""
    ctx = _ctx(aws, 30)
    elb = ctx.client("elbv2")
    elb.describe_load_balancers()
    elb.describe_load_balancers()
    assert ctx.counter.snapshot()[("elbv2", "DescribeLoadBalancers")] == 1
    subnets = [s["SubnetId"] for s in aws.client("ec2").describe_subnets()["Subnets"][:2]]
    elb.create_load_balancer(Name="x", Subnets=subnets, Type="network", Scheme="internal")
    assert [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
    assert ctx.counter.snapshot()[("elbv2", "DescribeLoadBalancers")] == 2


def test_a_read_between_our_write_leaving_and_landing_is_forgotten(aws: Any):
    """Our write forgets before it is sent and again once AWS has answered: a list read while
    CreateTargetGroup was on the wire (before AWS applied it) is not what the next read gets."""
    ctx = _ctx(aws, 30)
    elb = ctx.client("elbv2")
    entered, go = threading.Event(), threading.Event()

    def hold(**_: Any) -> None:
        entered.set()
        go.wait(5)

    elb.meta.events.register("before-send.*.CreateTargetGroup", hold)
    vpc = aws.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    writer = threading.Thread(
        target=lambda: elb.create_target_group(Name="tg", Protocol="TCP", Port=80, VpcId=vpc)
    )
    writer.start()
    assert entered.wait(5)
    assert elb.describe_target_groups()["TargetGroups"] == []  # AWS has not applied it yet
    go.set()
    writer.join(10)
    names = [tg["TargetGroupName"] for tg in elb.describe_target_groups()["TargetGroups"]]
    assert names == ["tg"]


def test_absence_is_kept_like_an_answer_until_we_write(aws: Any):
    """A 404 (no such inline policy) is read once within the TTL; our PutRolePolicy forgets it."""
    ctx = _ctx(aws, 30)
    iam = ctx.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    for _ in range(2):
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role_policy(RoleName="r", PolicyName="p")
    assert ctx.counter.snapshot()[("iam", "GetRolePolicy")] == 1
    doc = (
        '{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "*"}]}'
    )
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=doc)
    assert iam.get_role_policy(RoleName="r", PolicyName="p")["PolicyName"] == "p"
    assert ctx.counter.snapshot()[("iam", "GetRolePolicy")] == 2


def test_expired_reads_are_dropped_not_kept_forever(aws: Any, monkeypatch: pytest.MonkeyPatch):
    """A long-running controller reads for specs that come and go: expired entries are purged
    (every PURGE_EVERY stores), so the snapshot does not grow with everything ever read."""
    monkeypatch.setattr("controller.aws.cache.PURGE_EVERY", 4)
    ctx = _ctx(aws, 0.2)
    client = ctx.client("apigateway")
    for i in range(3):
        with pytest.raises(client.exceptions.NotFoundException):
            client.get_stages(restApiId=f"gone{i}")
    assert ctx.cache is not None
    assert ctx.cache.size == 3
    time.sleep(0.3)
    client.get_rest_apis()  # the fourth store purges the three expired ones
    assert ctx.cache.size == 1


def test_at_rest_expired_reads_are_dropped_without_another_call(
    aws: Any, monkeypatch: pytest.MonkeyPatch
):
    """Between two rounds of checks nothing is read: the janitor thread still drops what
    expired (a round of 1,000 specs' answers must not stay until the next round), and what is
    kept is the parsed answer with a status, not the HTTP body it was parsed from."""
    monkeypatch.setattr("controller.aws.cache.JANITOR_SECONDS", 0.05)
    ctx = _ctx(aws, 0.2)
    client = ctx.client("apigateway")
    client.get_rest_apis()
    assert ctx.cache is not None
    with ctx.cache._lock:
        (reply, parsed, _), *_ = ctx.cache._entries.values()
    assert isinstance(reply, StoredReply)
    assert reply.status_code == 200
    assert not hasattr(reply, "content")
    assert "items" in parsed
    assert client.get_rest_apis()["items"] == []  # answered from the stored reply
    assert _calls(ctx, "GetRestApis") == 1
    deadline = time.monotonic() + 30  # the janitor's first sleep may be the default 5 s
    while ctx.cache.size and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ctx.cache.size == 0
