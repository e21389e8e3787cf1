"""The embedded AWS endpoint behind `psctl sandbox` and the integration tests.

`Sandbox` runs moto's server in this process on loopback (port 0 picks a free port), installs the
fidelity layer (`fidelity.apply_all`, once per process) before the first request, seeds the
network (`seed.seed_network`) and starts the ECS agent (`ecs_agent.EcsAgent`). `reset()` wipes
moto's state over HTTP and reseeds. moto keeps its state in module globals, so there can be one
running `Sandbox` per process (pytest-xdist gives each worker its own process and port).
Every request passes `traffic.Traffic` first (`_Server` wraps moto's WSGI app): with
`quotas="aws"` or `"xN"` it throttles as AWS does and pages API Gateway's lists, and it always
logs the calls clients make (`call_log()`, `GET /_psctl/calls`); the sandbox's own seeding calls
carry `traffic.INTERNAL_HEADER` and are not counted.
`serve_forever` is what `psctl sandbox` runs (`controller.sandbox.cli` runs the controller
instead with `--run`). Neighbours: `seed`, `ecs_agent`, `fidelity`, `traffic`, `quotas`,
`calls`, `cloudtrail` (other principals' writes as CloudTrail events on the default bus, after
`cloudtrail_seconds`; `controller_keys` sign the controller's own calls, which it leaves out),
`tests/conftest.py` (the `sandbox` and `aws` fixtures).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shlex
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, ClassVar, Self

import boto3
from botocore.config import Config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from controller.sandbox import cloudtrail, fidelity
from controller.sandbox.calls import Call
from controller.sandbox.cloudtrail import CloudTrail
from controller.sandbox.ecs_agent import EcsAgent
from controller.sandbox.fidelity import apigateway_vpclink
from controller.sandbox.quotas import Quotas, parse_quotas
from controller.sandbox.seed import SeededNetwork, seed_network
from controller.sandbox.traffic import INTERNAL_HEADER, Traffic

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto accepts any credentials; these are not secret
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})
MOTO_CONFIG = {"lambda": {"use_docker": False}}


@dataclass(frozen=True)
class SandboxAccess:
    """What a test or a tool needs to reach a running sandbox."""

    env: dict[str, str]
    endpoint_url: str
    region: str
    network: SeededNetwork
    internal: bool = False  # the sandbox's own preparation: calls neither counted nor throttled

    def client(self, service_name: str) -> Any:
        """A boto3 client for `service_name` talking to the sandbox over HTTP."""
        return _client(service_name, self.endpoint_url, self.region, internal=self.internal)


class _Server(ThreadedMotoServer):
    """moto's threaded server with its WSGI app behind `traffic`."""

    def __init__(self, traffic: Traffic, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self._traffic = traffic

    def _server_entry(self) -> None:  # as ThreadedMotoServer's, plus the wrap
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address,
            self._port,
            self._traffic.wrap(app),
            True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class Sandbox:
    """moto's server on loopback with the fidelity layer, a seeded VPC and the ECS agent.

    `quotas`: "off" (default), "aws" (AWS's published control-plane rates) or "xN" (those rates
    and bursts times N), or a `quotas.Quotas`; `paging`: API Gateway's paging on or off (None:
    on exactly when quotas are). Both can change while it runs (`set_quotas`, `set_paging`).
    """

    _running: ClassVar[Sandbox | None] = None

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        *,
        vpc_link_seconds: float | None = None,
        agent_period: float = 0.5,
        load_default_amis: bool = False,
        quotas: str | Quotas | None = "off",
        paging: bool | None = None,
        cloudtrail_seconds: float | None = None,
        controller_keys: tuple[str, ...] = (ACCESS_KEY_ID,),
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self._vpc_link_seconds = (
            apigateway_vpclink.seconds_from_env() if vpc_link_seconds is None else vpc_link_seconds
        )
        self.load_default_amis = load_default_amis
        self.agent = EcsAgent(period=agent_period)
        self.traffic = Traffic(_quotas(quotas), paging)
        self.cloudtrail = CloudTrail(
            controller_keys,
            cloudtrail.delay_from_env() if cloudtrail_seconds is None else cloudtrail_seconds,
        )
        self.traffic.tap = self.cloudtrail.tap
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None
        self._network: SeededNetwork | None = None

    def start(self) -> None:
        """Patch moto, start the server, seed the network and start the ECS agent."""
        if Sandbox._running is not None:
            raise RuntimeError(
                "a Sandbox is already running in this process (moto state is global)"
            )
        fidelity.apply_all()
        if not self.load_default_amis:
            # moto loads ~1 MB of AMIs into every new EC2 backend (0.2 s per reset); no part of
            # the chain uses AMIs. An explicit MOTO_EC2_LOAD_DEFAULT_AMIS wins.
            os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        apigateway_vpclink.TIMING.seconds = self._vpc_link_seconds
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        if self.port:
            _check_port_free(self.host, self.port)
        server = _Server(self.traffic, self.host, self.port)
        server.start()
        self._server = server
        Sandbox._running = self
        try:
            _host, port = server.get_host_and_port()
            url_host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
            self._endpoint_url = f"http://{url_host}:{port}"
            self._configure()
            self._network = seed_network(self._internal_client("ec2"), self.region)
            self.agent.start()
            events = self._internal_client("events")
            self.cloudtrail.start(lambda entries: events.put_events(Entries=entries))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the ECS agent, the CloudTrail emulation and the server."""
        self.agent.stop()
        self.cloudtrail.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if Sandbox._running is self:
            Sandbox._running = None

    def reset(self) -> None:
        """Wipe every resource (moto's reset), drop the agent's state and reseed the network;
        a fresh account also has full quota buckets and an empty call log."""
        with self.agent.paused():
            self.cloudtrail.clear()
            self._post("/moto-api/reset", None)
            self.agent.forget()
            self._configure()
            self._network = seed_network(self._internal_client("ec2"), self.region)
        self.traffic.refill()
        self.traffic.log.clear()

    @property
    def quotas(self) -> str:
        """The quotas in force as `--quotas` spells them: "off", "aws" or "xN"."""
        quotas = self.traffic.quotas
        return quotas.label if quotas is not None else "off"

    def set_quotas(self, quotas: str | Quotas | None) -> None:
        """Enforce other quotas from now on ("off"/None stops throttling), buckets full."""
        self.traffic.set_quotas(_quotas(quotas))

    @property
    def paging(self) -> bool:
        """Whether API Gateway's list operations answer in pages of `limit` (default 25)."""
        return self.traffic.paging

    def set_paging(self, paging: bool | None) -> None:
        """Page (True), never (False), or exactly while quotas are on (None)."""
        self.traffic.set_paging(paging)

    def call_log(self) -> list[Call]:
        """Every call clients made since the last clear or reset, oldest first."""
        return self.traffic.log.snapshot()

    def clear_call_log(self) -> None:
        """Forget the calls logged so far."""
        self.traffic.log.clear()

    @property
    def endpoint_url(self) -> str:
        """`http://127.0.0.1:PORT` once started."""
        if self._endpoint_url is None:
            raise RuntimeError("the sandbox is not started")
        return self._endpoint_url

    @property
    def network(self) -> SeededNetwork:
        """The seeded VPC and subnets."""
        if self._network is None:
            raise RuntimeError("the sandbox is not started")
        return self._network

    @property
    def vpc_link_seconds(self) -> float:
        """How long a new API Gateway VPC link stays PENDING."""
        return self._vpc_link_seconds

    @vpc_link_seconds.setter
    def vpc_link_seconds(self, seconds: float) -> None:
        self._vpc_link_seconds = seconds
        if Sandbox._running is self:
            apigateway_vpclink.TIMING.seconds = seconds

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and the AWS CLI) at the sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def client(self, service_name: str) -> Any:
        """A boto3 client for `service_name` talking to the sandbox over HTTP."""
        return _client(service_name, self.endpoint_url, self.region)

    def access(self) -> SandboxAccess:
        """A snapshot of how to reach the sandbox (env, URL, region, seeded network)."""
        return SandboxAccess(self.env(), self.endpoint_url, self.region, self.network)

    def internal_access(self) -> SandboxAccess:
        """As `access`, for the sandbox's own preparation: its calls are not counted."""
        return SandboxAccess(self.env(), self.endpoint_url, self.region, self.network, True)

    def _internal_client(self, service_name: str) -> Any:
        return _client(service_name, self.endpoint_url, self.region, internal=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _configure(self) -> None:
        self._post("/moto-api/config", MOTO_CONFIG)

    def _post(self, path: str, body: dict[str, Any] | None) -> None:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._server.get_host_and_port()
        connection = http.client.HTTPConnection(
            "127.0.0.1" if host in ("0.0.0.0", "") else host,  # noqa: S104
            port,
            timeout=30,
        )
        try:
            payload = json.dumps(body) if body is not None else ""
            connection.request("POST", path, payload, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status >= 400:
            raise RuntimeError(f"POST {path} answered {response.status}")


def _check_port_free(host: str, port: int) -> None:
    """Fail fast: ThreadedMotoServer waits forever when its thread cannot bind the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's server does
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(f"cannot listen on {host}:{port}: {error.strerror}") from error


def _quotas(quotas: str | Quotas | None) -> Quotas | None:
    return parse_quotas(quotas) if isinstance(quotas, str) else quotas


def _mark_internal(request: Any, **kwargs: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


_sessions: dict[str, boto3.session.Session] = {}
_sessions_lock = threading.Lock()


def _client(service_name: str, endpoint_url: str, region: str, *, internal: bool = False) -> Any:
    # One session per region: its loader caches the service models (a fresh session costs
    # ~0.1 s per client); boto3 sessions are not thread-safe, hence the lock.
    with _sessions_lock:
        session = _sessions.get(region)
        if session is None:
            session = boto3.session.Session(
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                region_name=region,
            )
            _sessions[region] = session
        client = session.client(  # type: ignore[call-overload]
            service_name, endpoint_url=endpoint_url, config=CLIENT_CONFIG
        )
    if internal:
        client.meta.events.register("before-sign", _mark_internal)
    return client


def announce(sandbox: Sandbox) -> None:
    """Print the `export` lines and a one-line summary of a started sandbox, then export its
    environment into this process's `os.environ` (so code here that builds its own boto3
    session reaches it)."""
    for name, value in sandbox.env().items():
        print(f"export {name}={shlex.quote(value)}")
    network = sandbox.network
    print(
        f"# psctl sandbox at {sandbox.endpoint_url}: VPC {network.vpc_id} ({network.cidr}),"
        f" private subnets {','.join(network.private_subnet_ids)} (0.0.0.0/0 via"
        f" {network.nat_gateway_id}), public subnets {','.join(network.public_subnet_ids)};"
        " Ctrl-C stops it",
        flush=True,
    )
    print(f"# {quotas_banner(sandbox)}", flush=True)
    os.environ.update(sandbox.env())


def quotas_banner(sandbox: Sandbox) -> str:
    """One line on the quotas and paging in force, and where the call log is."""
    label = sandbox.quotas
    if label == "off":
        quotas = "quotas off (no throttling)"
    elif label == "aws":
        quotas = "quotas aws: AWS's published control-plane rates, throttled as AWS answers"
    else:
        quotas = f"quotas {label}: AWS's published control-plane rates and bursts {label}"
    paging = "API Gateway pages lists" if sandbox.paging else "no API Gateway paging"
    return f"{quotas}; {paging}; call log at {sandbox.endpoint_url}/_psctl/calls"


def serve_forever(
    host: str,
    port: int,
    region: str,
    *,
    quotas: str = "off",
    on_ready: Callable[[Sandbox], object] | None = None,
) -> None:
    """Run a sandbox until SIGINT/SIGTERM: print `export` lines and a summary, then block.

    Once the sandbox is up and announced (`announce`), `on_ready(sandbox)` runs in this thread,
    e.g. to apply specs (`psctl sandbox --apply`). It should return promptly (start a thread for
    anything long-running); an exception from it stops the sandbox and propagates.
    """
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    sandbox = Sandbox(host=host, port=port, region=region, quotas=quotas)
    try:
        sandbox.start()
        announce(sandbox)
        if on_ready is not None:
            on_ready(sandbox)
        while not stopping.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
