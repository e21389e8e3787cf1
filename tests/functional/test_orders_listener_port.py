"""A listener port change (issue 14): `loadBalancer.listener.port` 80 -> 8080 on the REST chain
never breaks the request path, under `psctl apply` and under `psctl run`.

Sampled every 0.4 s during the change: the port the stage's deployment forwards to (GetExport of
the stage with its integrations: what the stage runs, not what the API now says) has a listener
on the NLB, that listener forwards to a target group with healthy targets, and the NLB's security
group admits the port from the VPC (for the HTTP API chain: the integration's listener ARN, its
targets, the NLB's group admitting the port from the VPC link's group and the link's group
letting it out). The sandbox enforces AWS's API Gateway quotas during the
change (CreateDeployment: one every 5 s), as AWS does, and a deployment made just before spends
that quota: the redeployment then lags the listener by seconds, which is when a path that moved
the listener in place (one ModifyListener, the old rule revoked at once) was broken.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
import yaml
from chain import apply, orders, spec

from controller.aws.session import AwsContext, AwsSettings
from controller.reconcile.outcome import Action
from controller.reconcile.runner import Reconciler
from controller.runtime.controller import Controller
from controller.runtime.main import make_dispatcher
from controller.runtime.settings import RuntimeSettings
from controller.sources.directory import DirectorySource

NLB, NLB_GROUP, API, OWNER = (
    "ps-shop-orders-nlb",
    "ps-shop-orders-nlb",
    "shop/orders",
    "shop/orders",
)
INTEGRATION = "x-amazon-apigateway-integration"
ANY = "x-amazon-apigateway-any-method"


class Probe:
    """Reads the chain as a client's request would cross it (boto3 over HTTP to the sandbox)."""

    def __init__(self, aws: Any) -> None:
        self.gw, self.elb, self.ec2 = (aws.client(s) for s in ("apigateway", "elbv2", "ec2"))
        (vpc,) = self.ec2.describe_vpcs(VpcIds=[aws.network.vpc_id])["Vpcs"]
        self.cidr = vpc["CidrBlock"]
        (self.api,) = [a["id"] for a in self.gw.get_rest_apis()["items"] if a["name"] == API]

    def deployed_ports(self) -> set[int]:
        """The ports the stage's deployment forwards to (both ANY methods)."""
        exported = self.gw.get_export(
            restApiId=self.api,
            stageName="prod",
            exportType="oas30",
            parameters={"extensions": "integrations"},
        )["body"].read()
        paths = yaml.safe_load(exported)["paths"]
        return {
            int(urlsplit(paths[p][ANY][INTEGRATION]["uri"]).port or 0) for p in ("/", "/{proxy+}")
        }

    def listeners(self) -> dict[int, str]:
        """The NLB's listeners: port -> the target group it forwards to."""
        (lb,) = self.elb.describe_load_balancers(Names=[NLB])["LoadBalancers"]
        found = self.elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        return {li["Port"]: li["DefaultActions"][0].get("TargetGroupArn", "") for li in found}

    def admitted(self) -> set[int]:
        """Ports the NLB's group admits from the VPC's CIDR."""
        (group,) = self.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [NLB_GROUP]}]
        )["SecurityGroups"]
        return {
            port
            for perm in group["IpPermissions"]
            if perm.get("IpProtocol") == "tcp"
            and any(r.get("CidrIp") == self.cidr for r in perm.get("IpRanges", []))
            for port in range(perm["FromPort"], perm["ToPort"] + 1)
        }

    def deploy_elsewhere(self) -> None:
        """A deployment of the API by someone else moments before the change (no stage runs
        it): the account's CreateDeployment quota is spent, so the controller's redeployment
        waits for it, as it can on AWS."""
        for _ in range(20):
            try:
                self.gw.create_deployment(restApiId=self.api, description="someone else's")
                return
            except self.gw.exceptions.TooManyRequestsException:
                time.sleep(1)  # the quota spent by the chain's own deployment: wait for it
        raise AssertionError("CreateDeployment throttled for 20 s")

    def problem(self) -> str | None:
        """None when a request through the stage could get through now, else what is broken.
        Reads the deployed port before and after the rest: a stage that moved meanwhile makes
        the sample start again (its reads would mix two moments)."""
        while True:
            ports = self.deployed_ports()
            problem = self._check(ports)
            if self.deployed_ports() == ports:
                return problem

    def _check(self, ports: set[int]) -> str | None:
        listeners, admitted = self.listeners(), self.admitted()
        for port in sorted(ports):
            if port not in listeners:
                return f"the stage forwards to port {port}; listeners on {sorted(listeners)}"
            health = self.elb.describe_target_health(TargetGroupArn=listeners[port])
            if not any(
                t["TargetHealth"]["State"] == "healthy" for t in health["TargetHealthDescriptions"]
            ):
                return f"no healthy target behind the listener on {port}"
            if port not in admitted:
                return f"the NLB's group admits {sorted(admitted)}, not {port}"
        return None


class Chain(Protocol):
    """What a sampler reads: a probe of the REST or the HTTP chain."""

    def problem(self) -> str | None: ...

    def listeners(self) -> dict[int, str]: ...


class Sampler:
    """Samples the probe every 0.4 s in a thread until stopped (faster would spend the API
    Gateway quota the controller needs: each REST sample makes two GetExport calls)."""

    def __init__(self, probe: Chain) -> None:
        self.probe, self.samples = probe, 0
        self.broken: list[str] = []
        self.seen: list[list[int]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            problem = self.probe.problem()
            self.samples += 1
            self.seen.append(sorted(self.probe.listeners()))
            if problem is not None:
                self.broken.append(problem)
            self._done.wait(0.4)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(10)


@pytest.fixture
def aws_quotas(sandbox: Any, aws: Any) -> Iterator[None]:
    """AWS's published control-plane quotas (CreateDeployment one every 5 s) on the freshly
    reset sandbox, from the chain's first apply to the end of the test."""
    del aws
    sandbox.set_quotas("aws")
    try:
        yield
    finally:
        sandbox.set_quotas("off")


DRAIN = 5  # loadBalancer.targetGroup.deregistrationDelaySeconds: how long the old listener stays


def _orders(port: int = 80) -> dict[str, Any]:
    """The orders example on listener `port`, draining old targets and listeners for DRAIN s."""
    return orders(
        spec__loadBalancer__listener__port=port,
        spec__loadBalancer__targetGroup__deregistrationDelaySeconds=DRAIN,
    )


def _assert_moved(probe: Probe) -> None:
    """At the end: only the new port, everywhere."""
    assert probe.deployed_ports() == {8080}
    assert set(probe.listeners()) == {8080}
    assert probe.admitted() == {8080}
    assert probe.problem() is None


def test_a_listener_port_change_under_apply_never_breaks_the_path(
    aws_quotas: None, ctx: AwsContext, aws: Any
) -> None:
    """80 -> 8080 with `psctl apply`: a listener on 8080 beside the one on 80, the stage
    redeployed on 8080, then (after the drain) the old listener and its rule go; no sample finds
    the path broken, and both listeners stood together (create-before-delete)."""
    assert apply(spec(_orders()), ctx).converged
    probe = Probe(aws)
    assert probe.problem() is None
    probe.deploy_elsewhere()
    started = time.monotonic()
    with Sampler(probe) as sampler:
        result = apply(spec(_orders(8080)), ctx, 120)
    assert result.converged, result.reason
    assert sampler.broken == []
    assert sampler.samples >= 3
    assert [80, 8080] in sampler.seen
    assert time.monotonic() - started >= DRAIN  # the old listener drained first
    _assert_moved(probe)


async def _ready(controller: Controller, check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = controller.states.get(OWNER)
        if state is not None and state.status.get("phase") == "Ready" and check():
            return
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.2)


async def test_a_listener_port_change_under_run_never_breaks_the_path(
    aws: Any, aws_quotas: None, tmp_path: Path
) -> None:
    """The same change made to the spec file of a running controller (`psctl run` on a
    directory): Ready on 80, the file changed to 8080, Ready on 8080 with no broken sample."""
    specs = tmp_path / "specs"
    specs.mkdir()
    path = specs / "orders.yaml"
    path.write_text(yaml.safe_dump(_orders()))
    settings = RuntimeSettings(
        listen_host="127.0.0.1",
        listen_port=0,
        poll_seconds=0.2,
        max_requeue_seconds=0.3,
        backoff=(0.2, 0.5, 1.0),
        read_cache_seconds=2.0,
    )
    ctx = AwsContext(
        AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url, read_cache_seconds=2.0)
    )
    controller = Controller(DirectorySource(specs), ctx, settings, make_dispatcher(ctx, settings))
    task = asyncio.create_task(controller.run())
    try:
        await _ready(controller, lambda: True, 120, "the orders spec Ready")
        probe = Probe(aws)
        assert probe.problem() is None
        probe.deploy_elsewhere()
        with Sampler(probe) as sampler:
            path.write_text(yaml.safe_dump(_orders(8080)))
            await _ready(
                controller,
                lambda: set(probe.listeners()) == {8080} and probe.admitted() == {8080},
                120,
                "Ready on 8080 alone",
            )
        assert sampler.broken == []
        assert sampler.samples >= 3
        assert [80, 8080] in sampler.seen
        _assert_moved(probe)
    finally:
        controller.stop()
        await asyncio.wait_for(task, 30)


class HttpProbe:
    """The HTTP API chain as a request crosses it: the integration's listener (by ARN) on the
    NLB, its healthy targets, the NLB's group admitting the listener port from the VPC link's
    group, and the link's group letting it out."""

    def __init__(self, aws: Any) -> None:
        self.gw2, self.elb, self.ec2 = (aws.client(s) for s in ("apigatewayv2", "elbv2", "ec2"))
        (self.api,) = [a["ApiId"] for a in self.gw2.get_apis()["Items"] if a["Name"] == API]

    def listener_arn(self) -> str:
        (uri,) = [i["IntegrationUri"] for i in self.gw2.get_integrations(ApiId=self.api)["Items"]]
        return str(uri)

    def _group(self, name: str) -> dict[str, Any]:
        (group,) = self.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [name]}]
        )["SecurityGroups"]
        return dict(group)

    def _check(self, arn: str) -> str | None:
        try:
            (li,) = self.elb.describe_listeners(ListenerArns=[arn])["Listeners"]
        except self.elb.exceptions.ListenerNotFoundException:
            return f"the integration's listener {arn} is gone"
        port, tg = li["Port"], li["DefaultActions"][0]["TargetGroupArn"]
        health = self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if not any(t["TargetHealth"]["State"] == "healthy" for t in health):
            return f"no healthy target behind the listener on {port}"
        link, nlb = self._group(LINK_GROUP), self._group(NLB_GROUP)
        ports_in = {
            p
            for perm in nlb["IpPermissions"]
            if any(g["GroupId"] == link["GroupId"] for g in perm.get("UserIdGroupPairs", []))
            for p in range(perm["FromPort"], perm["ToPort"] + 1)
        }
        ports_out = {
            p
            for perm in link["IpPermissionsEgress"]
            if perm.get("IpProtocol") == "tcp"
            for p in range(perm["FromPort"], perm["ToPort"] + 1)
        }
        if port not in ports_in or port not in ports_out:
            return f"listener on {port}; NLB group admits {ports_in}, link group lets {ports_out}"
        return None

    def problem(self) -> str | None:
        """As `Probe.problem`: the integration read before and after the rest."""
        while True:
            arn = self.listener_arn()
            problem = self._check(arn)
            if self.listener_arn() == arn:
                return problem

    def listeners(self) -> dict[int, str]:
        """The NLB's listeners: port -> target group."""
        (lb,) = self.elb.describe_load_balancers(Names=[NLB])["LoadBalancers"]
        found = self.elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        return {li["Port"]: li["DefaultActions"][0].get("TargetGroupArn", "") for li in found}


LINK_GROUP = "ps-shop-orders-vpclink"


def test_a_listener_port_change_of_an_http_api_never_breaks_the_path(
    ctx: AwsContext, aws: Any
) -> None:
    """The HTTP API chain, 80 -> 8080 with `psctl apply`: the integration moves to the new
    listener (a new ARN) while the old one still stands, the NLB's group and the link's group
    keep port 80 while the old listener does; no sample finds the path broken; at the end only
    8080 is open, listened on and let out."""
    http = {"type": "HTTP", "stageName": "prod"}
    first = _orders()
    first["spec"]["api"] = http
    assert apply(spec(first), ctx).converged
    probe = HttpProbe(aws)
    assert probe.problem() is None
    moved = _orders(8080)
    moved["spec"]["api"] = http
    with Sampler(probe) as sampler:
        result = apply(spec(moved), ctx, 120)
    assert result.converged, result.reason
    assert sampler.broken == []
    assert [80, 8080] in sampler.seen
    assert set(probe.listeners()) == {8080}
    assert probe.problem() is None
    link = probe._group(LINK_GROUP)
    assert [(p["FromPort"], p["ToPort"]) for p in link["IpPermissionsEgress"]] == [(8080, 8080)]


def test_a_new_specs_plan_shows_no_old_listeners(ctx: AwsContext) -> None:
    """`old-listeners` holds nothing in AWS: a plan of a new spec (no load balancer yet) shows
    no change for it, while the listener itself is a create."""
    actions = {c.key: c.action for c in Reconciler(spec(_orders()), ctx).plan().changes}
    assert actions["old-listeners"] is Action.NOOP
    assert actions["listener"] is Action.CREATE
