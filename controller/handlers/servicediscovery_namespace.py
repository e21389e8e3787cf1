"""The Cloud Map HTTP namespace of Service Connect (seed 001): used as it is when it exists,
created (and then owned) when it does not.

Like an ECS cluster, a namespace is shared by every service that connects through it, so one
that is not ours is a dependency, not a conflict (`shared`). Creation is asynchronous on AWS:
CreateHttpNamespace returns an operation that is SUBMITTED/PENDING before SUCCESS, and the
namespace is listed only once it succeeded. The handler remembers the operations it started and
reports the namespace `pending` while its operation runs (the engine requeues; dependents wait);
the deterministic CreatorRequestId makes a create retried after a crash the same request.
Deleting a namespace still used by services (ResourceInUse) keeps it, as for the cluster.
Neighbours: `controller.handlers.base`, `controller.handlers.ecs_service` (uses the ARN).
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import PermanentError
from controller.handlers.base import Delta, Desired, Handler, Observed, error_code, props_as
from controller.model import kinds
from controller.model.props import Namespace

if TYPE_CHECKING:
    from types_boto3_servicediscovery import ServiceDiscoveryClient

log = structlog.get_logger(__name__)

RUNNING = ("SUBMITTED", "PENDING")


class NamespaceHandler(Handler):
    """`servicediscovery.namespace`: props {name, type: HTTP}."""

    kind = kinds.SERVICEDISCOVERY_NAMESPACE
    client: ServiceDiscoveryClient
    order = 25  # with the cluster: before anything that runs tasks
    service = "servicediscovery"
    shared = True
    not_found_codes = ("NamespaceNotFound",)
    replace_on = ("name", "type")

    def props_of(self, want: Desired) -> Namespace:
        """The desired props as `Namespace` (`controller.model.props`)."""
        return props_as(want, Namespace)

    def __init__(self, aws: Any) -> None:
        super().__init__(aws)
        self._operations: dict[str, str] = {}  # namespace name -> creating operation id
        self._lock = threading.Lock()

    def _find(self, name: str) -> dict[str, Any] | None:
        pages = self.client.get_paginator("list_namespaces").paginate(
            Filters=[{"Name": "TYPE", "Values": ["HTTP"], "Condition": "EQ"}]
        )
        for page in pages:
            for ns in page["Namespaces"]:
                if ns["Name"] == name and ns.get("Type") == "HTTP":
                    return dict(ns)
        return None

    def _observed(self, key: str, ns: dict[str, Any], tags: dict[str, str]) -> Observed:
        return Observed(
            key=key,
            id=ns["Id"],
            props={"name": ns["Name"], "type": ns.get("Type", "HTTP")},
            tags=tags,
            outputs={"id": ns["Id"], "arn": ns["Arn"], "name": ns["Name"]},
        )

    def observe(self, want: Desired) -> Observed | None:
        """The HTTP namespace of that name with its tags; one we are creating is pending."""
        name = self.props_of(want)["name"]
        ns = self._find(name)
        if ns is not None:
            tags = self.client.list_tags_for_resource(ResourceARN=ns["Arn"])["Tags"]
            return self._observed(want.key, ns, ownership.from_list(tags))
        with self._lock:
            operation_id = self._operations.get(name)
        if operation_id is None:
            return None
        op = self.client.get_operation(OperationId=operation_id)["Operation"]
        status = op.get("Status")
        if status in RUNNING:
            ident = op.get("Targets", {}).get("NAMESPACE", f"operation/{operation_id}")
            return Observed(
                key=want.key,
                id=ident,
                props=dict(want.props),
                tags=dict(want.tags),
                pending=f"namespace {name} is being created (operation {status})",
            )
        with self._lock:
            self._operations.pop(name, None)
        if status == "FAIL":
            raise PermanentError(
                f"creating namespace {name} failed: {op.get('ErrorMessage', op.get('ErrorCode'))}"
            )
        return None  # SUCCESS but not listed yet, or forgotten: create looks again

    def create(self, want: Desired) -> Observed:
        """CreateHttpNamespace with our tags; pending until its operation succeeds."""
        name = self.props_of(want)["name"]
        token = hashlib.sha256(f"{want.owner}/namespace/{name}".encode()).hexdigest()[:64]
        self.log_call("creating", want, name=name)
        try:
            out = self.client.create_http_namespace(
                Name=name,
                CreatorRequestId=token,
                Description=f"privateservice {want.owner}: Service Connect",
                Tags=ownership.to_list(want.tags),
            )
            operation_id = out["OperationId"]
        except ClientError as exc:
            code = error_code(exc)
            if code == "DuplicateRequest":
                operation_id = str(exc.response.get("DuplicateOperationId") or "")
            elif code == "NamespaceAlreadyExists":
                operation_id = ""  # someone made it meanwhile: observe finds it
            else:
                raise
        if operation_id:
            with self._lock:
                self._operations[name] = operation_id
        return self.reobserve(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing about a namespace is ours to change in place (name and type: replacement)."""
        del want, deltas
        return have

    def delete(self, have: Observed) -> None:
        """Delete once no service uses it; NotFound is success."""
        try:
            self.client.delete_namespace(Id=have.id)
            self.log_call("deleted", have, id=have.id)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ResourceInUse":
                log.info("namespace kept: still in use", key=have.key, id=have.id)
                return
            if code != "NamespaceNotFound":
                raise

    def list_owned(self, owner: str) -> list[Observed]:
        """HTTP namespaces carrying our owner tag (keyed by their component tag)."""
        found = []
        pages = self.client.get_paginator("list_namespaces").paginate(
            Filters=[{"Name": "TYPE", "Values": ["HTTP"], "Condition": "EQ"}]
        )
        for page in pages:
            for ns in page["Namespaces"]:
                tags = ownership.from_list(
                    self.client.list_tags_for_resource(ResourceARN=ns["Arn"])["Tags"]
                )
                if ownership.is_owned(tags, owner):
                    found.append(
                        self._observed(tags.get(ownership.COMPONENT, self.kind), dict(ns), tags)
                    )
        return found
