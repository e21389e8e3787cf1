"""Shared fixtures: one embedded AWS sandbox per test session (per xdist worker), reset per test.

- `sandbox` (session): a running `controller.sandbox.Sandbox` on loopback. While it runs,
  `os.environ` carries its `AWS_ENDPOINT_URL`, region and `testing` credentials (and no
  AWS_PROFILE, session token or per-service endpoint overrides), so code under test that builds
  its own boto3 session reaches the sandbox; the previous environment is restored at the end.
  VPC links stay PENDING for 0.5 s here (`PSCTL_SANDBOX_VPC_LINK_SECONDS` overrides it).
- `aws` (function): resets and reseeds the sandbox, then returns a `SandboxAccess` with `.env`,
  `.endpoint_url`, `.region`, `.network` and `.client(service_name)` (boto3 over HTTP, standard
  retries, 3 attempts).
- `kept` (session): the sandbox kept across tests for a chain that is slow to build (an applied
  example): `kept.hold(key, build)` gives the sandbox still holding `key` (no reset since), or
  resets it and runs `build(access)`; `kept.release(key)` after the test put the chain back.
  A test that uses a fixture named `kept_chain` (a module's held chain) gets that sandbox from
  `aws`, not a reset one.
The sandbox package is imported lazily, so unit tests run without moto installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from controller.sandbox import Sandbox, SandboxAccess

TEST_VPC_LINK_SECONDS = 0.5
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The session's sandbox, with the process environment pointing at it."""
    from controller.sandbox import Sandbox
    from controller.sandbox.fidelity.apigateway_vpclink import seconds_from_env

    with Sandbox(vpc_link_seconds=seconds_from_env(TEST_VPC_LINK_SECONDS)) as running:
        env = running.env()
        cleared = [*_CLEARED, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]
        saved = {key: os.environ.get(key) for key in (*env, *cleared)}
        for key in cleared:
            os.environ.pop(key, None)
        os.environ.update(env)
        try:
            yield running
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def aws(sandbox: Sandbox, request: pytest.FixtureRequest) -> SandboxAccess:
    """A freshly reset and reseeded sandbox; for a test that uses a `kept_chain` fixture (a
    chain its module keeps across tests, see `Kept`), that sandbox instead."""
    if "kept_chain" in request.fixturenames:
        access: SandboxAccess = request.getfixturevalue("kept_chain")
        return access
    sandbox.reset()
    return sandbox.access()


class Kept:
    """One built chain the worker's sandbox keeps from test to test instead of a reset and a
    rebuild per test. `hold` marks it in use: unless the test (or its fixture) puts the chain
    back and calls `release`, the next `hold` resets and rebuilds. Any reset (the `aws` fixture)
    reseeds a new network, which `hold` notices."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.key: str | None = None
        self._network: object = None
        self.builds = 0
        self.spent = False

    def hold(self, key: str, build: Callable[[SandboxAccess], None]) -> SandboxAccess:
        """The sandbox holding the chain `key` (built now when it does not), quotas refilled
        and the call log empty as after a reset."""
        held = self.key == key and self.sandbox.network is self._network
        self.key, self.spent = None, False
        if not held:
            self.sandbox.reset()
            build(self.sandbox.access())
            self.builds += 1
            self._network = self.sandbox.network
        self.sandbox.traffic.refill()
        self.sandbox.clear_call_log()
        return self.sandbox.access()

    def changed(self) -> bool:
        """Whether a client made a mutating call (any but Get*, Describe*, List*) since `hold`
        (which empties the call log)."""
        reads = ("Get", "Describe", "List")
        return any(not c.operation.startswith(reads) for c in self.sandbox.call_log())

    def spend(self) -> None:
        """The test leaves the chain changed (another spec applied, a delete): `release` does
        nothing until the next `hold`, which rebuilds it."""
        self.spent = True

    def release(self, key: str) -> None:
        """The chain `key` is as `build` left it: the next `hold(key, ...)` may reuse it."""
        if self.sandbox.network is self._network and not self.spent:
            self.key = key


@pytest.fixture(scope="session")
def kept(sandbox: Sandbox) -> Kept:
    """The worker's sandbox, kept across tests for one built chain at a time."""
    return Kept(sandbox)


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Each test starts with structlog's defaults: a CLI test's level filter must not leak."""
    yield
    import structlog

    structlog.reset_defaults()


SLOWEST_FIRST = (
    ("tests/runtime/test_runtime_budget.py", "tests/kube/test_kube_processes.py"),
    (
        "tests/runtime/",
        "tests/kube/test_kube_controller.py",
        "tests/kube/test_kube_lease.py",
        "tests/functional/test_sandbox_",
        "tests/functional/test_orders_listener_port.py",
        "tests/functional/test_cli_sandbox.py",
        "tests/functional/test_cli.py",
        "tests/doctor/functional/",
    ),
)
"""Test files whose tests take 10-50 s each (measured with --durations=0), longest first."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the longest tests first: xdist hands the first tests out one per worker in turn,
    so they run side by side instead of leaving one worker busy for minutes after the others
    are done. Otherwise the order is unchanged."""

    def rank(item: pytest.Item) -> int:
        for i, prefixes in enumerate(SLOWEST_FIRST):
            if item.nodeid.startswith(prefixes):
                return i
        return len(SLOWEST_FIRST)

    items.sort(key=rank)
