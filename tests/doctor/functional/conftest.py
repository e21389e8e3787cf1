"""Fixtures of the doctor's functional tests: the orders example applied once and kept by the
worker's sandbox (`kept` in tests/conftest.py) instead of a reset and an apply per test.

`orders_chain` gives the sandbox holding examples/orders-rest-nlb.yaml applied with its two tasks
healthy; after the test, if the test changed anything (a mutating call in the sandbox's call
log), the seeded network is repaired (the route to the NAT gateway, the default network ACL), the
spec applied again (psctl puts back what it owns) and the two targets waited for, so the next test
sees the chain as applied. `orders_chain_spent` is the same chain for a test that leaves more
behind than that (resources of its own, stopped tasks): the next test gets it rebuilt.
Neighbours: tests/conftest.py (`sandbox`, `kept`), the test modules of this directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from kept_chains import ORDERS_KEY, build_orders, repair_network

if TYPE_CHECKING:
    from controller.sandbox import SandboxAccess


@pytest.fixture
def orders_chain(kept: Any) -> Iterator[SandboxAccess]:
    """The sandbox holding the orders example applied (two healthy targets); put back after."""
    access = kept.hold(ORDERS_KEY, build_orders)
    yield access
    if kept.changed():
        repair_network(access)
        build_orders(access)
    kept.release(ORDERS_KEY)


@pytest.fixture
def orders_chain_spent(kept: Any) -> SandboxAccess:
    """The sandbox holding the orders example applied, for a test that leaves it changed
    beyond repair: the next test that holds it gets it rebuilt."""
    return kept.hold(ORDERS_KEY, build_orders)
