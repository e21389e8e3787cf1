"""Elastic IPs in an NLB's subnet mappings: the addresses DescribeLoadBalancers reports, and the
allocation the NLB holds.

Restores (ELBv2 API reference, AvailabilityZone: "LoadBalancerAddresses: [Network Load
Balancers] If you need static IP addresses for your load balancer, you can specify one Elastic IP
address per Availability Zone when you create an internal-facing load balancer", each
`LoadBalancerAddress` with `IpAddress` and `AllocationId`): moto accepts `SubnetMappings` with an
`AllocationId` and never returns `LoadBalancerAddresses`.
And (EC2 API reference, ReleaseAddress: "you must disassociate the Elastic IP address before you
can release it ... [otherwise] InvalidIPAddress.InUse"; an NLB holds its Elastic IPs until it is
deleted): moto releases an address an NLB still uses.
Neighbours: `patching`, `elbv2_idempotency` (which wraps the same CreateLoadBalancer).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import elastic_ip_addresses as eip_models
from moto.elbv2 import models as elbv2_models
from moto.elbv2.models import elbv2_backends

from controller.sandbox.fidelity.patching import add, wrap


def apply() -> None:
    """Remember each subnet's allocation, report it, and refuse to release a held address."""
    wrap(elbv2_models.ELBv2Backend, "create_load_balancer")(_create_load_balancer)
    add(elbv2_models.FakeLoadBalancer, "availability_zones", property(_availability_zones))
    wrap(eip_models.ElasticAddressBackend, "release_address")(_release_address)


def _create_load_balancer(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    balancer = original(self, *args, **kwargs)
    mappings = kwargs.get("subnet_mappings") or []
    allocations = {m["SubnetId"]: m["AllocationId"] for m in mappings if m.get("AllocationId")}
    if allocations and not getattr(balancer, "psctl_allocations", None):
        balancer.psctl_allocations = allocations
    return balancer


def _availability_zones(self: Any) -> list[Any]:
    allocations: dict[str, str] = getattr(self, "psctl_allocations", {})
    zones = []
    for subnet in self.subnets:
        zone: Any = elbv2_models.AvailabilityZone(subnet)
        alloc = allocations.get(subnet.id)
        if alloc:
            ip = _public_ip(self, alloc)
            zone.load_balancer_addresses = [{"IpAddress": ip, "AllocationId": alloc}]
        zones.append(zone)
    return zones


def _public_ip(balancer: Any, alloc: str) -> str | None:
    backend = balancer_backend(balancer)
    if backend is None:
        return None
    found = [a for a in backend.ec2_backend.addresses if a.allocation_id == alloc]
    return str(found[0].public_ip) if found else None


def balancer_backend(balancer: Any) -> Any:
    """The ELBv2 backend holding `balancer`."""
    for account in elbv2_backends.values():
        for backend in account.values():
            if balancer.arn in backend.load_balancers:
                return backend
    return None


def _release_address(
    original: Any, self: Any, address: str | None = None, allocation_id: str | None = None
) -> None:
    if allocation_id:
        backend = elbv2_backends[self.account_id][self.region_name]
        for balancer in backend.load_balancers.values():
            if allocation_id in getattr(balancer, "psctl_allocations", {}).values():
                raise EC2ClientError(
                    "InvalidIPAddress.InUse",
                    f"Address {allocation_id} is in use by load balancer {balancer.name}",
                )
    original(self, address=address, allocation_id=allocation_id)
