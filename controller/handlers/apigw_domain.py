"""A REGIONAL custom domain name and its base path mapping to our stage (seed 004).

The domain name is found by name (GetDomainName) and is ours by its tags; its certificate and
TLS security policy are updated in place (UpdateDomainName), its name and endpoint type cannot
change (replacement). Its `regionalDomainName` is the DNS target a CNAME or alias record must
point at: output `regionalDomainName` (with `regionalHostedZoneId`). The base path mapping has no
tags: it is ours through its domain; it is found by base path, or else as the mapping of the
domain that serves our API (so a changed base path is an update, not a second mapping).
The empty base path is stored by AWS as `(none)`.
Neighbours: `apigw_common` (the base), `apigw_rest_api` (`endpoint_type`), `apigw_stage` (the
stage mapped).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.apigw_common import V1, ApiGatewayHandler, tags_of, throttle_is_temporary
from controller.handlers.apigw_rest_api import endpoint_type
from controller.handlers.base import Delta, Desired, Observed, changed, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import BasePathMapping, DomainName

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        BasePathMappingResponseTypeDef,
        BasePathMappingTypeDef,
        DomainNameResponseTypeDef,
        DomainNameTypeDef,
        PatchOperationTypeDef,
    )

NO_BASE_PATH = "(none)"


class DomainNameHandler(ApiGatewayHandler):
    """`apigw.domain_name`: props {domainName, certificateArn, endpointType, securityPolicy}."""

    kind = kinds.APIGW_DOMAIN_NAME
    replace_on = ("domainName", "endpointType")
    spelling = V1.of("DomainName", "domainName")
    delete_delay = 30.0
    client: APIGatewayClient

    def props_of(self, want: Desired) -> DomainName:
        """The desired props as `DomainName` (`controller.model.props_api`)."""
        return props_as(want, DomainName)

    def _observed(
        self, key: str, domain: DomainNameTypeDef | DomainNameResponseTypeDef
    ) -> Observed:
        name = domain["domainName"]
        props = {
            "domainName": name,
            "certificateArn": domain.get("regionalCertificateArn"),
            "endpointType": endpoint_type(domain),
            "securityPolicy": domain.get("securityPolicy"),
        }
        return self._seen(
            key,
            domain,
            props,
            name=name,
            regionalDomainName=domain.get("regionalDomainName"),
            regionalHostedZoneId=domain.get("regionalHostedZoneId"),
        )

    def observe(self, want: Desired) -> Observed | None:
        """GetDomainName by name."""
        try:
            domain = self.client.get_domain_name(domainName=self.props_of(want)["domainName"])
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        return self._observed(want.key, domain)

    def create(self, want: Desired) -> Observed:
        """CreateDomainName, REGIONAL, with the regional certificate and our tags."""
        have = self.observe(want)
        if have is not None:
            return have
        p = self.props_of(want)
        self.log_call("creating", want, domainName=p["domainName"])
        with throttle_is_temporary("CreateDomainName"):
            domain = self.client.create_domain_name(
                domainName=p["domainName"],
                regionalCertificateArn=p["certificateArn"],
                endpointConfiguration={"types": [p["endpointType"]]},
                securityPolicy=p["securityPolicy"],
                tags=dict(want.tags),
            )
        self.log_call("created", want, regionalDomainName=domain.get("regionalDomainName"))
        return self._observed(want.key, domain)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateDomainName for the certificate and the security policy."""
        p = self.props_of(want)
        ops: list[PatchOperationTypeDef] = []
        if changed(deltas, "certificateArn"):
            ops.append(
                {"op": "replace", "path": "/regionalCertificateArn", "value": p["certificateArn"]}
            )
        if changed(deltas, "securityPolicy"):
            ops.append({"op": "replace", "path": "/securityPolicy", "value": p["securityPolicy"]})
        return self._update(want, have, ops)

    def _send_update(
        self, want: Desired, have: Observed, changes: list[PatchOperationTypeDef]
    ) -> DomainNameResponseTypeDef:
        return self.client.update_domain_name(domainName=have.id, patchOperations=changes)

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        return self._observed(want.key, made)

    def _send_delete(self, have: Observed) -> None:
        self.client.delete_domain_name(domainName=have.id)

    def _all(self) -> Iterator[DomainNameTypeDef]:
        for page in self.client.get_paginator("get_domain_names").paginate():
            yield from page.get("items", [])

    def list_owned(self, owner: str) -> list[Observed]:
        """Every domain name carrying our owner tag."""
        return [
            self._observed("domain-name", d)
            for d in self._all()
            if ownership.is_owned(tags_of(d), owner)
        ]


def _base_path(raw: str | None) -> str:
    return "" if raw in (None, NO_BASE_PATH) else str(raw)


# Patch path of each updatable prop (UpdateBasePathMapping).
_MAPPING_PATCHES: tuple[tuple[Literal["basePath", "restApiId", "stage"], str], ...] = (
    ("basePath", "/basePath"),
    ("restApiId", "/restapiId"),
    ("stage", "/stage"),
)


class BasePathMappingHandler(ApiGatewayHandler):
    """`apigw.base_path_mapping`: props {domainName, basePath, restApiId, stage}."""

    kind = kinds.APIGW_BASE_PATH_MAPPING
    spelling = V1.of("BasePathMapping")
    identity = ("domainName", "restApiId")  # the stage may not exist yet
    client: APIGatewayClient

    def props_of(self, want: Desired) -> BasePathMapping[Known]:
        """The desired props as `BasePathMapping` (`controller.model.props_api`)."""
        return props_as(want, BasePathMapping[Known])

    def _mappings(self, domain: str) -> Iterator[BasePathMappingTypeDef]:
        pages = self.client.get_paginator("get_base_path_mappings").paginate(domainName=domain)
        for page in pages:
            yield from page.get("items", [])

    def _observed(
        self,
        key: str,
        domain: str,
        mapping: BasePathMappingTypeDef | BasePathMappingResponseTypeDef,
        tags: dict[str, str],
    ) -> Observed:
        base = _base_path(mapping.get("basePath"))
        return Observed(
            key=key,
            id=f"{domain}/{base}",
            props={
                "domainName": domain,
                "basePath": base,
                "restApiId": mapping.get("restApiId"),
                "stage": mapping.get("stage"),
            },
            tags=tags,
            outputs={"id": f"{domain}/{base}", "url": f"https://{domain}/{base}"},
        )

    def observe(self, want: Desired) -> Observed | None:
        """The mapping at our base path, else the domain's mapping to our API."""
        p = self.props_of(want)
        domain = p["domainName"]
        try:
            tags = tags_of(self.client.get_domain_name(domainName=domain))
            mappings = list(self._mappings(domain))
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        at_path = [m for m in mappings if _base_path(m.get("basePath")) == p["basePath"]]
        ours = [m for m in mappings if m.get("restApiId") == p["restApiId"]]
        candidates = at_path or ours
        return self._observed(want.key, domain, candidates[0], tags) if candidates else None

    def create(self, want: Desired) -> Observed:
        """CreateBasePathMapping to our stage."""
        have = self.observe(want)
        if have is not None:
            return have
        p = self.props_of(want)
        self.log_call("creating", want, domainName=p["domainName"], basePath=p["basePath"])
        with throttle_is_temporary("CreateBasePathMapping"):
            args: dict[str, Any] = {"basePath": p["basePath"]} if p["basePath"] else {}
            self.client.create_base_path_mapping(
                domainName=p["domainName"], restApiId=p["restApiId"], stage=p["stage"], **args
            )
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateBasePathMapping for base path, API and stage."""
        p = self.props_of(want)
        ops: list[PatchOperationTypeDef] = [
            {"op": "replace", "path": path, "value": p[prop] or NO_BASE_PATH}
            for prop, path in _MAPPING_PATCHES
            if changed(deltas, prop)
        ]
        return self._update(want, have, ops)

    def _send_update(
        self, want: Desired, have: Observed, changes: list[PatchOperationTypeDef]
    ) -> None:
        self.client.update_base_path_mapping(
            domainName=self.props_of(want)["domainName"],
            basePath=have.props["basePath"] or NO_BASE_PATH,
            patchOperations=changes,
        )

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        return self.reobserve(want)

    def _send_delete(self, have: Observed) -> None:
        """NotFound (mapping or domain gone) is success."""
        self.client.delete_base_path_mapping(
            domainName=have.props["domainName"],
            basePath=have.props["basePath"] or NO_BASE_PATH,
        )
