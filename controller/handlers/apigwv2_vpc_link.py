"""The VPC Link v2 that carries an HTTP API's traffic into the VPC (rule 6).

A v2 link is a set of network interfaces in the given subnets behind the given security groups
(not a PrivateLink endpoint on the NLB, as v1 is); integrations name it, together with the
listener they reach. It is found by its deterministic name among GetVpcLinks, preferring the
one with our owner tag; links being deleted are ignored. A new link is PENDING for a while:
`pending` makes the engine requeue; FAILED is permanent (typically a subnet or group that is
gone). INACTIVE (unused for long) is no wait: the integration that uses it wakes it up.
Subnets and security groups cannot change in place (UpdateVpcLink changes the name only):
replacement. Neighbours: `controller.handlers.base`, `apigwv2_api` (helpers),
`apigwv2_integration` (names this link), `ec2_security_group` (the link's group).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import PermanentError, TemporaryError
from controller.handlers.apigw_rest_api import throttle_is_temporary
from controller.handlers.apigwv2_api import paged, pick_named, tags_of
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code


class VpcLinkV2Handler(Handler):
    """`apigwv2.vpc_link`: props {name, subnetIds, securityGroupIds}."""

    kind = "apigwv2.vpc_link"
    service = "apigatewayv2"
    replace_on = ("subnetIds", "securityGroupIds")
    identity = ("name",)  # its security group may not exist yet
    single_instance = True

    def _live(self) -> Iterator[dict[str, Any]]:
        for link in paged(self.client.get_vpc_links):
            if link.get("VpcLinkStatus") != "DELETING":
                yield link

    def _observed(self, key: str, link: Mapping[str, Any], *, strict: bool = True) -> Observed:
        """`strict`: a FAILED link raises (observe); list_owned reports it so it can be deleted."""
        status = link.get("VpcLinkStatus")
        if status == "FAILED" and strict:
            msg = (
                f"vpc link {link.get('Name')} ({link['VpcLinkId']}) FAILED: "
                f"{link.get('VpcLinkStatusMessage') or 'no reason given'}"
            )
            raise PermanentError(msg)
        return Observed(
            key=key,
            id=link["VpcLinkId"],
            props={
                "name": link.get("Name"),
                "subnetIds": sorted(link.get("SubnetIds", [])),
                "securityGroupIds": sorted(link.get("SecurityGroupIds", [])),
            },
            tags=tags_of(link),
            outputs={"id": link["VpcLinkId"]},
            pending="vpc link PENDING" if status == "PENDING" else None,
        )

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas, the id lists compared as sets."""
        deltas = []
        for name in ("name", "subnetIds", "securityGroupIds"):
            desired = want.props[name]
            if isinstance(desired, list):
                desired = sorted(desired, key=str)
            if desired != have.props.get(name):
                deltas.append(Delta(name, desired, have.props.get(name)))
        return deltas

    def observe(self, want: Desired) -> Observed | None:
        """The live link with our name, preferring ours; FAILED raises PermanentError."""
        link = pick_named(self._live(), want.props["name"], want.owner)
        return None if link is None else self._observed(want.key, link)

    def create(self, want: Desired) -> Observed:
        """Create the link (after a look-up); it starts PENDING on AWS."""
        have = self.observe(want)
        if have is not None:
            return have
        p = want.props
        self.log_call("creating", want, name=p["name"], subnets=p["subnetIds"])
        with self.creating(want), throttle_is_temporary("CreateVpcLink", 15):
            link = self.client.create_vpc_link(
                Name=p["name"],
                SubnetIds=list(p["subnetIds"]),
                SecurityGroupIds=list(p["securityGroupIds"]),
                Tags=dict(want.tags),
            )
        self.log_call("created", want, id=link["VpcLinkId"])
        return self._observed(want.key, link)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing is updatable in place (name is identity, the rest means replacement)."""
        del deltas
        return self.observe(want) or have

    def delete(self, have: Observed) -> None:
        """Delete the link; NotFound is success, a link still referenced is a wait."""
        self.log_call("deleting", have, id=have.id)
        try:
            with throttle_is_temporary("DeleteVpcLink"):
                self.client.delete_vpc_link(VpcLinkId=have.id)
        except ClientError as exc:
            if self.is_not_found(exc):
                return
            if error_code(exc) in ("BadRequestException", "ConflictException"):
                msg = f"vpc link {have.id} still referenced: {exc}"
                raise TemporaryError(msg, 15) from exc
            raise

    def list_owned(self, owner: str) -> list[Observed]:
        """Every live link carrying our owner tag."""
        return [
            self._observed("vpc-link-v2", link, strict=False)
            for link in self._live()
            if ownership.is_owned(tags_of(link), owner)
        ]
