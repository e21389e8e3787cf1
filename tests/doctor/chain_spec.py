"""The seed-000 example (examples/orders-rest-nlb.yaml) as a validated PrivateService."""

from __future__ import annotations

from pathlib import Path

from controller.spec.loader import load_paths
from controller.spec.models import PrivateService

ORDERS = Path(__file__).resolve().parents[2] / "examples" / "orders-rest-nlb.yaml"


def orders_spec() -> PrivateService:
    """The orders example, loaded and validated as psctl loads it."""
    (doc,) = load_paths([str(ORDERS)])
    assert doc.spec is not None, [str(p) for p in doc.problems]
    return doc.spec
