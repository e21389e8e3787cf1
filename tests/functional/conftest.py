"""Fixtures of the functional tests: an AWS context on a fresh sandbox, and the orders chain."""

from __future__ import annotations

from typing import Any

import pytest
from chain import apply, context, orders, spec

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
