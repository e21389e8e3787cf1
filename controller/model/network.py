"""The discovered network a stack is built for (the only AWS facts the pure model needs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Network:
    """VPC and subnets resolved from `spec.network` (ids or tag selectors)."""

    vpc_id: str
    cidr: str
    subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...] = ()

    @classmethod
    def placeholder(cls) -> Network:
        """For delete and status of a service whose network no longer resolves: names only."""
        return cls(vpc_id="vpc-unknown", cidr="0.0.0.0/32", subnet_ids=())
