"""The client-side AWS budget: bucket arithmetic on a fake clock, families, `--aws-budget` parsing,
and an `AwsContext` against the sandbox (tokens per HTTP attempt, throttled attempts counted).

No test here measures wall time: buckets get a fake clock whose `sleep` advances it.
"""

from __future__ import annotations

import argparse
import threading
from collections import Counter
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HeadersDict

from controller.aws.budget import (
    FAMILIES,
    OTHER,
    Budget,
    TokenBucket,
    family_of,
    make_budget,
    parse_budget,
)
from controller.aws.session import AwsContext, AwsSettings
from controller.cli_args import budget_arg, parser
from controller.runtime.metrics import Metrics


class FakeClock:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


def _budget(clock: FakeClock, spec: dict[str, float] | None = None, **kw: Any) -> Budget:
    return Budget(spec, clock=clock, sleep=clock.sleep, **kw)


# -- the bucket ---------------------------------------------------------------------------------


def test_bucket_starts_full_then_serves_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, 4.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(7)]
    assert waits == [0, 0, 0, 0, 0.5, 0.5, 0.5]
    assert clock.now == pytest.approx(101.5)


def test_bucket_refills_with_time_up_to_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, 3.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    assert bucket.tokens() == pytest.approx(0)
    clock.now += 2
    assert bucket.tokens() == pytest.approx(2)
    clock.now += 60
    assert bucket.tokens() == pytest.approx(3)  # never more than the burst


def test_bucket_shared_by_threads_never_hands_out_more_than_its_tokens() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, 20.0, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(6):
            wait = bucket.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waits) == 24
    assert sum(1 for w in waits if w == 0) >= 20  # the burst, whatever the interleaving
    assert clock.slept  # the four calls beyond the burst each waited for a refill


def test_bucket_refuses_a_rate_or_burst_it_cannot_serve() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(0, 5)
    with pytest.raises(ValueError, match="burst >= 1"):
        TokenBucket(1, 0.5)


# -- families and per-operation buckets ---------------------------------------------------------


def test_three_create_deployments_need_ten_seconds_at_full_share() -> None:
    clock = FakeClock()
    budget = _budget(clock, share=1.0)
    waits = [budget.acquire("apigateway", "CreateDeployment") for _ in range(3)]
    assert waits == [0, pytest.approx(5), pytest.approx(5)]  # burst 1, then 1 per 5 s
    assert budget.waited() == {"apigateway": pytest.approx(10)}
    assert budget.admitted() == Counter({"apigateway": 3})


def test_per_operation_bucket_is_on_top_of_the_account_bucket() -> None:
    clock = FakeClock()
    budget = _budget(clock, share=1.0)
    account, create = budget.buckets("apigateway", "CreateDeployment")
    assert (account.rate, account.burst) == (10, 40)
    assert (create.rate, create.burst) == (0.2, 1)
    budget.acquire("apigateway", "CreateDeployment")
    assert account.tokens() == pytest.approx(39)  # the account-wide bucket paid too
    for _ in range(39):
        budget.acquire("apigateway", "GetRestApis")
    assert budget.acquire("apigatewayv2", "GetApis") == pytest.approx(0.1)  # v2 shares it


def test_default_share_is_half_of_rate_and_burst_with_at_least_one_token() -> None:
    budget = Budget()
    [account] = budget.buckets("apigateway", "GetRestApis")
    assert (account.rate, account.burst) == (5, 20)
    _, delete = budget.buckets("apigateway", "DeleteRestApi")
    assert delete.rate == pytest.approx(1 / 60)
    assert delete.burst == 1  # half a token could never be spent


def test_categories_of_elbv2_ec2_and_ecs() -> None:
    budget = Budget(share=1.0)

    def quotas(service: str, operation: str) -> list[tuple[float, float]]:
        return [(b.rate, b.burst) for b in budget.buckets(service, operation)]

    assert quotas("elbv2", "DescribeTargetHealth") == [(10, 40)]
    assert quotas("elbv2", "RegisterTargets") == [(4, 20)]
    assert quotas("elbv2", "ModifyListener") == [(3, 20)]
    assert quotas("elbv2", "CreateLoadBalancer") == [(3, 20), (0.2, 10)]
    assert quotas("ec2", "DescribeSubnets") == [(20, 100)]
    assert quotas("ec2", "CreateSecurityGroup") == [(5, 50)]
    assert quotas("ec2", "CreateTags") == [(10, 100)]
    assert quotas("ec2", "AuthorizeSecurityGroupIngress") == [(5, 50)]
    assert quotas("ecs", "DescribeServices") == [(20, 100)]
    assert quotas("ecs", "UpdateService") == [(5, 50)]
    assert quotas("ecs", "RegisterTaskDefinition") == [(1, 20)]
    assert quotas("iam", "GetRole") == []
    assert family_of("apigatewayv2") == "apigateway"
    assert family_of("logs") == OTHER


def test_unbudgeted_services_are_admitted_and_counted_without_waiting() -> None:
    clock = FakeClock()
    budget = _budget(clock)
    assert all(budget.acquire("sts", "GetCallerIdentity") == 0 for _ in range(1000))
    assert budget.admitted() == Counter({OTHER: 1000})


def test_override_sets_the_headline_rate_and_scales_the_burst() -> None:
    budget = Budget(parse_budget("apigateway=2,elbv2=5"))
    [account] = budget.buckets("apigateway", "GetRestApis")
    assert (account.rate, account.burst) == (2, 8)
    _, deploy = budget.buckets("apigateway", "CreateDeployment")
    assert deploy.rate == pytest.approx(0.1)  # per-operation buckets keep the share
    [targets] = budget.buckets("elbv2", "RegisterTargets")
    assert (targets.rate, targets.burst) == (2, 10)  # elbv2 at half its published figures
    [ecs] = budget.buckets("ecs", "DescribeServices")
    assert (ecs.rate, ecs.burst) == (10, 50)  # untouched: the default share


def test_share_item_sets_the_share_of_the_rest() -> None:
    budget = Budget(parse_budget("share=0.25"))
    [describe] = budget.buckets("elbv2", "DescribeLoadBalancers")
    assert (describe.rate, describe.burst) == (2.5, 10)


# -- the budget's string form -------------------------------------------------------------------


def test_parse_budget_reads_families_and_share() -> None:
    assert parse_budget("apigateway=5, elbv2=5") == {"apigateway": 5, "elbv2": 5}
    assert parse_budget("share=0.3,ecs=2.5") == {"share": 0.3, "ecs": 2.5}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("iam=5", "'iam=5'"),
        ("apigateway", "'apigateway'"),
        ("apigateway=fast", "'fast' is not a number"),
        ("ec2=0", "'ec2=0'"),
        ("ec2=-1", "'ec2=-1'"),
        ("ec2=inf", "'ec2=inf'"),
        ("share=1.5", "'share=1.5'"),
        ("ecs=1,ecs=2", "ecs is given twice"),
        ("", "empty budget"),
    ],
)
def test_parse_budget_names_the_bad_item_in_one_line(text: str, names: str) -> None:
    with pytest.raises(ValueError, match="budget") as info:
        parse_budget(text)
    message = str(info.value)
    assert names in message
    assert "\n" not in message
    if "=" not in text or text.startswith("iam"):
        assert all(f in message for f in FAMILIES)  # says what would have been right


def test_make_budget_off_none_and_mapping() -> None:
    assert make_budget("off") is None
    assert make_budget(" OFF ") is None
    assert isinstance(make_budget(None), Budget)
    budget = make_budget({"apigateway": 1})
    assert budget is not None
    assert budget.buckets("apigateway", "GetRestApis")[0].rate == 1
    with pytest.raises(ValueError, match="unknown family 'iam'"):
        Budget({"iam": 1})


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "apply", "delete"])
def test_cli_bad_budget_is_one_error_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parser().parse_args([command, "-f", "x.yaml", "--aws-budget", "apigateway=5,iam=3"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    [error] = [line for line in err.splitlines() if "error:" in line]
    assert "--aws-budget" in error
    assert "'iam=3'" in error
    assert "Traceback" not in err


def test_cli_budget_reaches_every_command_that_builds_a_context() -> None:
    p = parser()
    for argv in (
        ["plan", "-f", "x"],
        ["status", "-f", "x"],
        ["run", "--source", "d"],
        ["sandbox", "--run", "d"],
    ):
        assert p.parse_args([*argv, "--aws-budget", "off"]).aws_budget == "off"
        assert p.parse_args(argv).aws_budget is None
    assert budget_arg("apigateway=5") == "apigateway=5"
    with pytest.raises(argparse.ArgumentTypeError, match="'x=1'"):
        budget_arg("x=1")


# -- metrics ------------------------------------------------------------------------------------


def test_metrics_advance_to_the_totals() -> None:
    m = Metrics()
    m.sync_aws_budget(Counter({("apigateway", "GetRestApis"): 2}), {"apigateway": 1.5})
    m.sync_aws_budget(Counter({("apigateway", "GetRestApis"): 3}), {"apigateway": 2.0})
    text = m.render().decode()
    assert 'psctl_aws_throttles_total{operation="GetRestApis",service="apigateway"} 3.0' in text
    assert 'psctl_aws_budget_wait_seconds_total{family="apigateway"} 2.0' in text


# -- through a real AwsContext, against the sandbox ---------------------------------------------


def _context(aws: Any, budget: str | None) -> AwsContext:
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url, budget=budget))


def test_every_call_takes_a_token_and_waits_past_the_burst(aws: Any) -> None:
    ctx = _context(aws, "apigateway=2")  # burst 8
    clock = FakeClock()
    ctx.budget = _budget(clock, parse_budget("apigateway=2"))
    client = ctx.client("apigateway")
    for _ in range(10):
        client.get_rest_apis()
    assert ctx.budget.admitted() == Counter({"apigateway": 10})
    assert clock.slept == [pytest.approx(0.5), pytest.approx(0.5)]  # calls 9 and 10
    assert ctx.budget_waits() == {"apigateway": pytest.approx(1.0)}
    sibling = ctx.for_region("eu-west-1")
    assert sibling.budget is ctx.budget  # one budget for every Region of the controller


def test_default_budget_leaves_the_loopback_sandbox_alone(aws: Any) -> None:
    ctx = _context(aws, None)
    assert ctx.budget is not None
    ctx.client("apigateway").get_rest_apis()
    assert ctx.budget.admitted() == Counter()  # no before-send handler on loopback
    assert _context(aws, "off").budget is None


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_throttled_attempt_is_counted_and_pays_a_token_again(aws: Any) -> None:
    ctx = _context(aws, "apigateway=10")
    assert ctx.budget is not None
    client = ctx.client("apigateway")
    answered: list[str] = []

    def throttle_first(request: Any, **_: Any) -> AWSResponse | None:
        if answered:
            return None  # later attempts reach the sandbox
        answered.append(request.url)
        headers = HeadersDict(
            {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
        )
        return AWSResponse(request.url, 429, headers, _Raw(b'{"message": "Too Many Requests"}'))

    client.meta.events.register("before-send.api-gateway.GetRestApis", throttle_first)
    client.get_rest_apis()  # botocore retries the 429 and succeeds
    assert answered
    assert ctx.counter.throttled() == Counter({("apigateway", "GetRestApis"): 1})
    assert ctx.counter.outcomes[("apigateway", "GetRestApis", "ok")] == 1
    assert ctx.counter.snapshot()[("apigateway", "GetRestApis")] == 1  # one call, two attempts
    assert ctx.budget.admitted() == Counter({"apigateway": 2})  # each attempt paid
