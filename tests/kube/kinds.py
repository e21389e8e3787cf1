"""What the fake API server knows about each resource kind, and its `Status` errors.

A `Kind` is one served group/version/plural with the strategy flags of the real registry:
custom resources (from a CRD) track `metadata.generation`, refuse strategic merge patches,
require `metadata.resourceVersion` on update and answer a DELETE with the deleted object;
core v1 Events may be updated unconditionally; both Events and Leases may be created by PUT.
`StatusError` carries the `Status` body (and HTTP code) the real server would send.
Neighbours: `store` (semantics), `apiserver` (HTTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPTIMISTIC_LOCK = (
    "the object has been modified; please apply your changes to the latest version and try again"
)
META_FIELD_LABELS = frozenset({"metadata.name", "metadata.namespace"})
EVENT_FIELD_LABELS = META_FIELD_LABELS | {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "type",
}


@dataclass(frozen=True)
class Kind:
    """One served resource (always namespaced here) and its registry strategy."""

    group: str
    version: str
    plural: str
    kind: str
    list_kind: str
    status_subresource: bool = False
    custom: bool = False
    create_on_update: bool = False
    unconditional_update: bool = False
    field_labels: frozenset[str] = META_FIELD_LABELS

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The qualified resource of error messages: `privateservices.privateservice.io`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """The qualified kind of `Invalid` messages: `PrivateService.privateservice.io`."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def storage(self) -> tuple[str, str]:
        """Versions of one resource share their objects."""
        return (self.group, self.plural)

    @classmethod
    def from_crd(cls, crd: dict[str, Any]) -> list[Kind]:
        """One `Kind` per served version of an `apiextensions.k8s.io/v1` (or v1beta1) CRD."""
        spec = crd["spec"]
        names = spec["names"]
        if spec.get("scope", "Namespaced") != "Namespaced":
            raise ValueError("only namespaced custom resources are supported")
        versions = spec.get("versions") or [{"name": spec["version"], "served": True}]
        top_status = "status" in (spec.get("subresources") or {})
        return [
            cls(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                kind=names["kind"],
                list_kind=names.get("listKind") or f"{names['kind']}List",
                status_subresource=top_status or "status" in (version.get("subresources") or {}),
                custom=True,
            )
            for version in versions
            if version.get("served", True)
        ]


EVENT = Kind(
    "",
    "v1",
    "events",
    "Event",
    "EventList",
    create_on_update=True,
    unconditional_update=True,
    field_labels=EVENT_FIELD_LABELS,
)
LEASE = Kind("coordination.k8s.io", "v1", "leases", "Lease", "LeaseList", create_on_update=True)


class StatusError(Exception):
    """A failed call: `code` is the HTTP status, `status()` the `Status` body."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(kind: Kind, name: str, kind_name: str) -> dict[str, Any]:
    details = {"name": name, "group": kind.group, "kind": kind_name}
    return {key: value for key, value in details.items() if value}


def not_found(kind: Kind, name: str) -> StatusError:
    message = f'{kind.resource} "{name}" not found'
    return StatusError(404, "NotFound", message, _details(kind, name, kind.plural))


def already_exists(kind: Kind, name: str) -> StatusError:
    message = f'{kind.resource} "{name}" already exists'
    return StatusError(409, "AlreadyExists", message, _details(kind, name, kind.plural))


def conflict(kind: Kind, name: str, detail: str = OPTIMISTIC_LOCK) -> StatusError:
    message = f'Operation cannot be fulfilled on {kind.resource} "{name}": {detail}'
    return StatusError(409, "Conflict", message, _details(kind, name, kind.plural))


FIELD_ERRORS = {
    "Invalid value": "FieldValueInvalid",
    "Forbidden": "FieldValueForbidden",
    "Required value": "FieldValueRequired",
}


def invalid(kind: Kind, name: str, field: str, error_type: str, detail: str) -> StatusError:
    """422 Invalid with one field cause; `error_type` is a key of `FIELD_ERRORS`."""
    body = f"{error_type}: {detail}"
    cause = {"reason": FIELD_ERRORS[error_type], "message": body, "field": field}
    details = {**_details(kind, name, kind.kind), "causes": [cause]}
    message = f'{kind.group_kind} "{name}" is invalid: {field}: {body}'
    return StatusError(422, "Invalid", message, details)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def unprocessable(message: str) -> StatusError:
    return StatusError(422, "Invalid", message)


def unsupported_media_type(content_type: str) -> StatusError:
    message = (
        f"the body of the request was in an unknown format ({content_type}) - accepted media "
        "types include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml"
    )
    return StatusError(415, "UnsupportedMediaType", message)


def expired(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def internal(message: str) -> StatusError:
    return StatusError(500, "", message)
