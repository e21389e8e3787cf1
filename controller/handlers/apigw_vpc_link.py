"""The VPC Link (v1) from API Gateway REST APIs to the internal NLB (rule 6).

Found by its deterministic name among GetVpcLinks, preferring the one with our owner tag; links
being deleted are ignored (AWS keeps them listed as DELETING for a while, and the name may be
reused at once). A link is PENDING for minutes after creation: `pending` makes the engine wait;
FAILED is permanent (typically the NLB is not a network load balancer or is gone). The target
list cannot be changed in place on a v1 link that integrations use: replacement.
Neighbours: `controller.handlers.base`, `apigw_rest_api` (shared helpers), `apigw_proxy` (the
integration that names this link).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import PermanentError, TemporaryError
from controller.handlers.apigw_rest_api import PAGE, pick_named, tags_of, throttle_is_temporary
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import VpcLinkResponseTypeDef, VpcLinkTypeDef


class VpcLinkHandler(Handler):
    """`apigw.vpc_link`: props {name, targetArns}."""

    kind = "apigw.vpc_link"
    service = "apigateway"
    replace_on = ("targetArns",)
    identity = ("name",)  # the NLB (targetArns) may not exist yet
    single_instance = True
    client: APIGatewayClient

    def _live(self) -> Iterator[VpcLinkTypeDef]:
        for page in self.client.get_paginator("get_vpc_links").paginate(PaginationConfig=PAGE):
            for link in page.get("items", []):
                if link.get("status") != "DELETING":
                    yield link

    def _observed(
        self, key: str, link: VpcLinkTypeDef | VpcLinkResponseTypeDef, *, strict: bool = True
    ) -> Observed:
        """`strict`: a FAILED link raises (observe); list_owned reports it so it can be deleted."""
        status = link.get("status")
        if status == "FAILED" and strict:
            msg = (
                f"vpc link {link.get('name')} ({link['id']}) FAILED: "
                f"{link.get('statusMessage') or 'no reason given'}"
            )
            raise PermanentError(msg)
        return Observed(
            key=key,
            id=link["id"],
            props={"name": link.get("name"), "targetArns": list(link.get("targetArns", []))},
            tags=tags_of(link),
            outputs={"id": link["id"]},
            pending="vpc link PENDING" if status == "PENDING" else None,
        )

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
        self.log_call("creating", want, name=p["name"], targets=p["targetArns"])
        with self.creating(want), throttle_is_temporary("CreateVpcLink", 15):
            link = self.client.create_vpc_link(
                name=p["name"],
                description=f"privateservice {want.owner}",
                targetArns=list(p["targetArns"]),
                tags=dict(want.tags),
            )
        self.log_call("created", want, id=link["id"])
        return self._observed(want.key, link)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing is updatable in place (name is identity, targets mean replacement)."""
        del deltas
        return self.observe(want) or have

    def delete(self, have: Observed) -> None:
        """Delete the link; NotFound is success, a link still referenced is a wait."""
        self.log_call("deleting", have, id=have.id)
        try:
            self.client.delete_vpc_link(vpcLinkId=have.id)
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
            self._observed("vpc-link", link, strict=False)
            for link in self._live()
            if ownership.is_owned(tags_of(link), owner)
        ]
