"""Fixtures of the functional tests: an AWS context on a fresh sandbox, and the orders chain
(`applied`: on a fresh sandbox; `kept_chain`: applied once and kept by the worker's sandbox for
the modules that ask for it, see `chain.keep`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chain import apply, context, keep, orders, spec

from controller.aws.session import AwsContext


@pytest.fixture
def ctx(aws: Any) -> AwsContext:
    """A counting AWS context on a freshly reset sandbox."""
    return context(aws.endpoint_url, aws.region)


@pytest.fixture
def applied(ctx: AwsContext) -> AwsContext:
    """The orders example applied and converged."""
    result = apply(spec(orders()), ctx)
    assert result.converged, result.reason
    return ctx


@pytest.fixture
def kept_chain(kept: Any) -> Iterator[Any]:
    """The orders example applied, kept by the worker's sandbox across tests (`chain.keep`);
    a module's `applied` that asks for it makes `aws` and `ctx` this sandbox."""
    yield from keep(kept, "functional: examples/orders-rest-nlb.yaml", lambda: spec(orders()))


@pytest.fixture
def spent(kept_chain: Any, kept: Any) -> None:
    """For a test that leaves the module's kept chain changed (a delete, another spec): the next
    test gets it rebuilt, without a plan asked after this one."""
    del kept_chain
    kept.spend()
