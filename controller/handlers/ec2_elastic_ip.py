"""Elastic IPs of an internet-facing NLB with `staticIps` (seed 003): one per public subnet.

Props `{name}`: the deterministic name, held in the `Name` tag (an allocation has no name of
its own); found by it, preferring ours. Allocated with our owner and component tags; a tag of
ours changed behind our back is drift, put back with CreateTags (extra tags are left alone).
Released on delete; an address the NLB still holds is a wait. Outputs: `id` (the allocation id,
which the NLB's subnet mappings take) and `publicIp`.
Neighbours: `controller.handlers.base`, `controller.handlers.elbv2_load_balancer` (consumer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    diff_props,
    error_code,
    props_as,
)
from controller.model import kinds
from controller.model.load_balancer import eip_key
from controller.model.props import ElasticIp

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import AddressTypeDef

NAME = "Name"
IN_USE = ("InvalidIPAddress.InUse", "InvalidAddress.Locked")


def _observed(key: str, address: AddressTypeDef) -> Observed:
    tags = ownership.from_list(address.get("Tags"))
    alloc = address["AllocationId"]
    return Observed(
        key=key,
        id=alloc,
        props={"name": tags.get(NAME)},
        tags=tags,
        outputs={"id": alloc, "publicIp": address.get("PublicIp")},
    )


def key_of(name: str) -> str:
    """The stack key of an address from its Name tag (`...-eip-<subnet id>`)."""
    return eip_key(name.rsplit("-eip-", 1)[-1])


class ElasticIpHandler(Handler):
    """EC2 Elastic IP address (VPC domain)."""

    kind = kinds.EC2_ELASTIC_IP
    client: EC2Client
    service = "ec2"
    identity = ("name",)
    not_found_codes = ("InvalidAllocationID.NotFound",)
    single_instance = True

    def props_of(self, want: Desired) -> ElasticIp:
        """The desired props as `ElasticIp` (`controller.model.props`)."""
        return props_as(want, ElasticIp)

    def _all(self) -> list[AddressTypeDef]:
        """Every address of the region: one unpaged call that every spec shares (a region
        holds few: 5 by default, https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html)."""
        return list(self.client.describe_addresses()["Addresses"])

    def observe(self, want: Desired) -> Observed | None:
        """The address carrying our Name tag, preferring one we own."""
        found = [
            a
            for a in self._all()
            if ownership.from_list(a.get("Tags")).get(NAME) == self.props_of(want)["name"]
        ]
        if not found:
            return None
        found.sort(
            key=lambda a: not ownership.is_owned(ownership.from_list(a.get("Tags")), want.owner)
        )
        return _observed(want.key, found[0])

    def _tags(self, want: Desired) -> dict[str, str]:
        return {**want.tags, NAME: self.props_of(want)["name"]}

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Props, and every tag we write (ours and `spec.tags`)."""
        deltas = diff_props(want.props, have.props)
        for key, value in sorted(self._tags(want).items()):
            if have.tags.get(key) != value:
                deltas.append(Delta(f"tags.{key}", value, have.tags.get(key)))
        return deltas

    def create(self, want: Desired) -> Observed:
        """Allocate with our tags (atomic: no untagged address is left behind), after a look-up:
        a retried create must not allocate a second address, which the sweep would never
        release (it carries the same key)."""
        have = self.observe(want)
        if have is not None and have.owned_by(want.owner):
            return have
        self.log_call("allocating", want, name=self.props_of(want)["name"])
        with self.creating(want):
            address = self.client.allocate_address(
                Domain="vpc",
                TagSpecifications=[
                    {"ResourceType": "elastic-ip", "Tags": ownership.to_list(self._tags(want))}
                ],
            )
        self.log_call("allocated", want, id=address["AllocationId"], ip=address.get("PublicIp"))
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Put back the tags that differ."""
        wanted = self._tags(want)
        tags = {k: v for k, v in wanted.items() if have.tags.get(k) != v}
        if tags:
            self.log_call("tagging", want, id=have.id, tags=sorted(tags), fields=len(deltas))
            self.client.create_tags(Resources=[have.id], Tags=ownership.to_list(tags))
        return self.reobserve(want)

    def delete(self, have: Observed) -> None:
        """Release; NotFound is success, an address still on the NLB is a wait."""
        self.log_call("releasing", have, id=have.id)
        try:
            self.client.release_address(AllocationId=have.id)
        except ClientError as exc:
            code = error_code(exc)
            if code in self.not_found_codes:
                return
            if code in IN_USE:
                raise TemporaryError(f"Elastic IP {have.id} still in use", 10) from exc
            raise

    def list_owned(self, owner: str) -> list[Observed]:
        """Every address with our owner tag, keyed `nlb-eip/<subnet>` by its Name tag."""
        found = [
            a for a in self._all() if ownership.is_owned(ownership.from_list(a.get("Tags")), owner)
        ]
        return [
            _observed(key_of(ownership.from_list(a.get("Tags")).get(NAME, "")), a) for a in found
        ]
