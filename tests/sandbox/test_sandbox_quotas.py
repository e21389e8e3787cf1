"""The sandbox's AWS quotas, API Gateway paging and call log (`quotas`, `traffic`, `calls`).

The session's one sandbox is switched to quotas for a test (`quotas` fixture) and back off
after it, so no second server starts (moto's state is global). Clients here do not retry
(`total_max_attempts=1`), so the first throttled answer reaches the test as botocore parsed it.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from controller.cli_args import parser
from controller.sandbox import Sandbox, SandboxAccess
from controller.sandbox.calls import Call, fetch_call_log, max_in_window
from controller.sandbox.operations import identify
from controller.sandbox.paging import decode_position, encode_position
from controller.sandbox.quotas import Quotas, Rule, parse_quotas
from controller.sandbox.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, quotas_banner

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def quotas(sandbox: Sandbox, aws: SandboxAccess) -> Iterator[Sandbox]:
    """The freshly reset sandbox; the test sets its quotas, which go back off afterwards."""
    yield sandbox
    sandbox.set_quotas("off")
    sandbox.set_paging(None)


@pytest.fixture
def client(aws: SandboxAccess) -> Callable[[str], Any]:
    """`client(service)`: a boto3 client on the sandbox that never retries."""

    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=aws.endpoint_url,
            region_name=aws.region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=NO_RETRIES,
        )

    return make


def _until_throttled(call: Callable[[], object], most: int) -> tuple[int, ClientError]:
    """Call until a ClientError; (successful calls before it, the error)."""
    for done in range(most):
        try:
            call()
        except ClientError as error:
            return done, error
    pytest.fail(f"no throttling within {most} calls")


def _is_throttle(error: ClientError) -> bool:
    """Whether botocore's standard retry mode classifies the parsed error as a throttle."""
    context = RetryContext(attempt_number=1, parsed_response=error.response)
    return bool(ThrottledRetryableChecker().is_retryable(context))


def test_apigateway_burst_of_40_then_too_many_requests(quotas, client):
    """Per "Amazon API Gateway quotas" (docs.aws.amazon.com/apigateway/latest/developerguide/
    limits.html), "API Gateway quotas for creating, deploying and managing an API": "Total
    operations: 10 requests per second with a burst limit of 40 requests per second". Over it,
    API Gateway answers 429 TooManyRequestsException ("Too Many Requests")."""
    quotas.set_quotas("aws")
    apigateway = client("apigateway")
    apigatewayv2 = client("apigatewayv2")
    started = time.monotonic()
    done, error = _until_throttled(apigateway.get_account, 200)
    elapsed = time.monotonic() - started
    assert 40 <= done <= 40 + 10 * elapsed + 1
    assert error.response["Error"]["Code"] == "TooManyRequestsException"
    assert error.response["Error"]["Message"] == "Too Many Requests"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    headers = error.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert _is_throttle(error)
    quotas.set_quotas(Quotas(rules=(Rule("apigateway", "total", 0.001, 2, shared=True),)))
    apigateway.get_account()
    apigatewayv2.get_apis()
    with pytest.raises(ClientError) as v2:
        apigatewayv2.get_apis()  # v1 and v2 share the account-wide bucket
    assert v2.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_create_deployment_twice_in_a_row_is_throttled(quotas, build, client):
    """Per "Amazon API Gateway quotas" (docs.aws.amazon.com/apigateway/latest/developerguide/
    limits.html): "CreateDeployment: 1 request every 5 seconds per account"."""
    api_id, root_id = build.rest_api_method()
    build.apigateway.put_integration(
        restApiId=api_id, resourceId=root_id, httpMethod="GET", type="MOCK"
    )
    quotas.set_quotas("aws")
    apigateway = client("apigateway")
    apigateway.create_deployment(restApiId=api_id)
    with pytest.raises(ClientError) as second:
        apigateway.create_deployment(restApiId=api_id)
    assert second.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert second.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    apigateway.get_rest_api(restApiId=api_id)  # other operations still pass
    log = quotas.call_log()
    assert [(c.operation, c.throttled) for c in log if c.operation == "CreateDeployment"] == [
        ("CreateDeployment", False),
        ("CreateDeployment", True),
    ]


def test_elbv2_over_quota_is_throttling(quotas, build, client):
    """Per "Request throttling for the ELB API" (docs.aws.amazon.com/elasticloadbalancing/latest/
    userguide/elb-api-throttling.html): over a limit "you get the ThrottlingException error code
    and a Rate exceeded error message"; on the wire ELBv2's query protocol answers HTTP 400 with
    Code `Throttling`. Mutating actions other than those listed: 3 per second, bucket of 20."""
    lb_arn = build.nlb()["LoadBalancerArn"]
    quotas.set_quotas("aws")
    elbv2 = client("elbv2")
    attributes = [{"Key": "deletion_protection.enabled", "Value": "false"}]
    started = time.monotonic()
    done, error = _until_throttled(
        lambda: elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=lb_arn, Attributes=attributes
        ),
        100,
    )
    assert 20 <= done <= 20 + 3 * (time.monotonic() - started) + 1
    assert error.response["Error"] == {
        "Type": "Sender",
        "Code": "Throttling",
        "Message": "Rate exceeded",
    }
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _is_throttle(error)
    elbv2.describe_load_balancers()  # Describe* has a bucket of its own


def test_ec2_over_quota_is_request_limit_exceeded(quotas, aws, client):
    """Per "Request throttling for the Amazon EC2 API" (docs.aws.amazon.com/ec2/latest/devguide/
    ec2-api-throttling.html): "If you exceed an API throttling limit, you get the
    RequestLimitExceeded error code"; "each API is evaluated individually"; mutating actions:
    bucket of 50, 5 tokens per second."""
    quotas.set_quotas("aws")
    ec2 = client("ec2")
    started = time.monotonic()
    done, error = _until_throttled(
        lambda: ec2.modify_vpc_attribute(
            VpcId=aws.network.vpc_id, EnableDnsSupport={"Value": True}
        ),
        200,
    )
    assert 50 <= done <= 50 + 5 * (time.monotonic() - started) + 1
    assert error.response["Error"]["Code"] == "RequestLimitExceeded"
    assert error.response["Error"]["Message"] == "Request limit exceeded."
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert _is_throttle(error)
    ec2.describe_vpcs()  # another action, another bucket


def test_ecs_unthrottled_by_default_and_answers_throttling_exception(quotas, client):
    """Per "Request throttling for the Amazon ECS API" (docs.aws.amazon.com/AmazonECS/latest/
    APIReference/request-throttling.html): "If you exceed an API throttling quota, you get the
    ThrottlingException error code" (HTTP 400, "Rate exceeded"). Its per-action table is not
    encoded, so `aws` leaves ECS unthrottled; a rule of family "ecs" throttles it."""
    assert Quotas().buckets("ecs", "DescribeServices") == []
    quotas.set_quotas(Quotas(rules=(Rule("ecs", "all", 0.001, 1),)))
    ecs = client("ecs")
    ecs.list_clusters()
    with pytest.raises(ClientError) as second:
        ecs.list_clusters()
    assert second.value.response["Error"]["Code"] == "ThrottlingException"
    assert second.value.response["Error"]["Message"] == "Rate exceeded"
    assert second.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _is_throttle(second.value)


def test_get_rest_apis_pages_of_25_with_a_position(quotas, client):
    """Per "GetRestApis" in the Amazon API Gateway API Reference
    (docs.aws.amazon.com/apigateway/latest/api/API_GetRestApis.html): "limit: The maximum number
    of returned results per page. The default value is 25 and the maximum value is 500";
    "position: The current pagination position in the paged result set"."""
    apigateway = client("apigateway")
    for i in range(30):  # quotas off while creating: CreateRestApi is 1 every 3 seconds
        apigateway.create_rest_api(name=f"api-{i:02}")
    assert len(apigateway.get_rest_apis()["items"]) == 30  # off: moto's single page
    quotas.set_quotas("aws")  # paging follows the quotas
    first = apigateway.get_rest_apis()
    assert len(first["items"]) == 25
    second = apigateway.get_rest_apis(position=first["position"])
    assert len(second["items"]) == 5
    assert "position" not in second
    names = [api["name"] for api in first["items"] + second["items"]]
    assert names == [f"api-{i:02}" for i in range(30)]
    assert len(apigateway.get_rest_apis(limit=10)["items"]) == 10
    pages = list(apigateway.get_paginator("get_rest_apis").paginate())
    assert [len(page["items"]) for page in pages] == [25, 5]
    with pytest.raises(ClientError) as bad:
        apigateway.get_rest_apis(position="not-a-position")
    assert bad.value.response["Error"]["Code"] == "BadRequestException"


def test_paging_without_quotas(quotas, client):
    """Per "GetRestApis" (docs.aws.amazon.com/apigateway/latest/api/API_GetRestApis.html): AWS
    always pages; `Sandbox(paging=True)` / `set_paging(True)` pages without throttling."""
    apigateway = client("apigateway")
    for i in range(3):
        apigateway.create_rest_api(name=f"api-{i}")
    quotas.set_paging(True)
    assert quotas.quotas == "off"
    page = apigateway.get_rest_apis(limit=2)
    assert len(page["items"]) == 2
    assert decode_position(page["position"]) == 2 == decode_position(encode_position(2))


def test_call_log_counts_calls_and_serves_them_over_http(quotas, aws, client):
    """The call log records every call a client made (AWS counts every request it receives,
    "Request throttling for the Amazon EC2 API", docs.aws.amazon.com/ec2/latest/devguide/
    ec2-api-throttling.html: "Each request that you make removes one token from the API's
    bucket"), readable in this process and at GET /_psctl/calls from another."""
    quotas.set_quotas("x10")
    ec2 = client("ec2")
    for _ in range(5):
        ec2.describe_vpcs()
    client("ecs").list_clusters()
    log = quotas.call_log()
    assert [(c.service, c.family, c.operation, c.throttled) for c in log] == [
        *[("ec2", "ec2", "DescribeVpcs", False)] * 5,
        ("ecs", "ecs", "ListClusters", False),
    ]
    assert max_in_window(log, "ec2") == 5
    with pytest.raises(ValueError, match="positive"):
        max_in_window(log, "ec2", window=0.0)
    assert fetch_call_log(aws.endpoint_url) == log
    with urllib.request.urlopen(aws.endpoint_url + "/_psctl/calls") as response:
        document = json.load(response)
    assert document["quotas"] == "x10"
    assert document["paging"] is True
    assert document["calls"][0]["operation"] == "DescribeVpcs"
    request = urllib.request.Request(aws.endpoint_url + "/_psctl/calls", method="DELETE")
    with urllib.request.urlopen(request) as response:
        assert response.status == 204
    assert quotas.call_log() == []


def test_max_in_window_is_the_busiest_window():
    """Per "Amazon API Gateway quotas" (docs.aws.amazon.com/apigateway/latest/developerguide/
    limits.html) state rates per second: `max_in_window` is the most calls of a family within
    any window of that many seconds (by family or by service name)."""
    times = [0.0, 0.1, 0.5, 0.95, 1.2, 1.3, 5.0]
    log = [Call(t, "apigatewayv2", "apigateway", "GetApis", False) for t in times]
    log.append(Call(0.2, "ec2", "ec2", "DescribeVpcs", False))
    assert max_in_window(log, "apigateway") == 4
    assert max_in_window(log, "apigatewayv2", window=0.5) == 3
    assert max_in_window(log, "apigateway", window=10) == 7
    assert max_in_window(log, "ecs") == 0


def test_the_sandboxs_own_calls_are_neither_counted_nor_throttled(quotas, build, client):
    """AWS throttles the requests an account sends ("Request throttling for the ELB API",
    docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html: services
    calling on your behalf "have their own account-level buckets" and "do not consume tokens in
    your bucket"): the ECS agent's registrations, the seeding and moto's own endpoints are not
    the client's calls."""
    tg_arn = build.target_group()["TargetGroupArn"]
    build.fargate_service(tg_arn, desired=2)
    quotas.clear_call_log()
    quotas.set_quotas(Quotas(rules=(Rule("ec2", "all", 0.001, 1),)))
    internal = quotas.internal_access().client("ec2")
    for _ in range(3):
        internal.describe_vpcs()  # the seeding's client: never throttled
    deadline = time.monotonic() + 5
    elbv2 = client("elbv2")
    while time.monotonic() < deadline:
        targets = elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        if len(targets) == 2:
            break
        time.sleep(0.1)
    assert len(targets) == 2  # the agent registered the tasks
    operations = {c.operation for c in quotas.call_log()}
    assert operations == {"DescribeTargetHealth"}  # no RegisterTargets, no DescribeVpcs
    quotas.reset()  # /moto-api/reset and reseeding: not logged
    assert quotas.call_log() == []


def test_operations_are_named_from_botocores_model():
    """API Gateway's REST operations are named as AWS routes them ("Amazon API Gateway quotas",
    docs.aws.amazon.com/apigateway/latest/developerguide/limits.html, names each quota by
    operation): method and path against botocore's requestUri; v2 by its /v2/ paths."""

    def name(method: str, path: str, query: str = "", signing: str = "apigateway") -> str:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/"
            f"{signing}/aws4_request, SignedHeaders=host, Signature=x",
        }
        found = identify(environ, {})
        assert found is not None
        return f"{found.service}:{found.operation}"

    assert name("GET", "/restapis") == "apigateway:GetRestApis"
    assert name("POST", "/restapis") == "apigateway:CreateRestApi"
    assert name("POST", "/restapis", "mode=import") == "apigateway:ImportRestApi"
    assert name("POST", "/restapis/abc/deployments") == "apigateway:CreateDeployment"
    assert name("PATCH", "/usageplans/u1") == "apigateway:UpdateUsagePlan"
    assert name("DELETE", "/restapis/abc") == "apigateway:DeleteRestApi"
    assert name("POST", "/vpclinks") == "apigateway:CreateVpcLink"
    assert name("POST", "/v2/vpclinks") == "apigatewayv2:CreateVpcLink"
    assert name("GET", "/v2/apis") == "apigatewayv2:GetApis"
    assert identify({"PATH_INFO": "/moto-api/reset"}, {}) is None


def test_quota_specs_and_multiplier():
    """Per "Amazon API Gateway quotas" (docs.aws.amazon.com/apigateway/latest/developerguide/
    limits.html): CreateDeployment 1 every 5 seconds, total 10 per second with a burst of 40;
    `xN` multiplies rates and bursts by N."""
    assert parse_quotas("off") is None
    assert parse_quotas("aws") == Quotas()
    x10 = parse_quotas("x10")
    assert x10 is not None
    assert x10.label == "x10"
    assert x10.buckets("apigateway", "CreateDeployment") == [
        ("apigateway:total", 100.0, 400.0),
        ("apigateway:CreateDeployment", 2.0, 10.0),
    ]
    assert Quotas().buckets("ec2", "DescribeVpcs") == [("ec2:non-mutating:DescribeVpcs", 20, 100)]
    assert Quotas().buckets("elbv2", "CreateLoadBalancer") == [
        ("elbv2:create-load-balancer", 0.2, 10)
    ]
    for bad in ("x0", "x", "fast", "10"):
        with pytest.raises(ValueError, match="aws, off or xN"):
            parse_quotas(bad)


def test_cli_quotas_option(capsys, quotas):
    """`psctl sandbox --quotas aws|off|xN`: an invalid value is argparse's one-line error (exit
    2); the banner names the quotas in force ("Amazon API Gateway quotas",
    docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)."""
    assert parser().parse_args(["sandbox"]).quotas == "off"
    assert parser().parse_args(["sandbox", "--quotas", "x10"]).quotas == "x10"
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(["sandbox", "--quotas", "lots"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert "--quotas" in error[-1]
    assert "Traceback" not in "\n".join(error)
    assert quotas_banner(quotas).startswith("quotas off")
    quotas.set_quotas("x10")
    assert "x10" in quotas_banner(quotas)
    assert "API Gateway pages lists" in quotas_banner(quotas)


def test_the_controller_on_a_sandbox_with_quotas_takes_the_default_budget(quotas):
    """`psctl sandbox --quotas ... --run`: the controller spends half of each quota, as it would of
    AWS's, so the demo under quotas is not throttled by its own controller; without quotas the
    loopback sandbox has no default budget."""
    from controller.sandbox.cli import _context

    idle = _context(quotas)
    idle.client("apigateway").get_rest_apis()
    assert idle.budget is not None
    assert idle.budget.admitted() == {}
    quotas.set_quotas("aws")
    ctx = _context(quotas)
    ctx.client("apigateway").get_rest_apis()
    assert ctx.budget is not None
    assert ctx.budget.share == 0.5
    assert ctx.budget.admitted()["apigateway"] == 1
