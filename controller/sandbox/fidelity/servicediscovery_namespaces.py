"""Cloud Map HTTP namespaces: a name is taken once, and creation is asynchronous.

Restores (AWS Cloud Map API reference):
- CreateHttpNamespace errors: "NamespaceAlreadyExists: The namespace that you're trying to
  create already exists." moto creates a second namespace of the same name, so a controller that
  creates without looking up first would pass in the sandbox and fail on AWS.
- CreateHttpNamespace "creates an HTTP namespace ... returns an OperationId"; GetOperation:
  "Gets information about any operation that returns an operation ID in the response, such as a
  CreateHttpNamespace request", with Status SUBMITTED | PENDING | SUCCESS | FAIL. Until the
  operation succeeds the namespace is not there (ListNamespaces does not list it, GetNamespace
  says NamespaceNotFound). moto's operation is SUCCESS at once; here it is SUBMITTED for
  `TIMING.seconds` (0.5 s), then the namespace appears and the operation is SUCCESS.
Neighbours: `patching`, `controller.handlers.servicediscovery_namespace`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.servicediscovery import models as sd_models

from controller.sandbox.fidelity.patching import wrap


@dataclass
class _Timing:
    seconds: float = 0.5


TIMING = _Timing()
_lock = threading.RLock()


class NamespaceAlreadyExistsError(JsonRESTError):
    """AWS's error for a namespace name in use."""

    def __init__(self, name: str, namespace_id: str, creator_request_id: str | None) -> None:
        super().__init__(
            "NamespaceAlreadyExists",
            f"Namespace {name} already exists (namespace {namespace_id}, creator request "
            f"{creator_request_id or '-'}).",
        )


def apply() -> None:
    """Install the name check and the asynchronous creation."""
    backend = sd_models.ServiceDiscoveryBackend
    wrap(backend, "create_http_namespace")(_create_http_namespace)
    for name in ("list_namespaces", "get_namespace", "get_operation", "delete_namespace"):
        wrap(backend, name)(_settled_first)


def _pending(backend: Any) -> dict[str, tuple[Any, float]]:
    """Namespaces still being created on this backend: id -> (namespace, ready at)."""
    pending: dict[str, tuple[Any, float]] | None = getattr(backend, "_psctl_pending", None)
    if pending is None:
        pending = {}
        backend._psctl_pending = pending
    return pending


def _settle(backend: Any) -> None:
    """Finish the creations whose time has come."""
    now = time.monotonic()
    pending = _pending(backend)
    for namespace_id, (namespace, ready_at) in list(pending.items()):
        if ready_at <= now:
            del pending[namespace_id]
            backend.namespaces[namespace_id] = namespace
            for operation in backend.operations.values():
                if operation.targets.get("NAMESPACE") == namespace_id:
                    operation.status = "SUCCESS"


def _settled_first(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    with _lock:
        _settle(self)
        return original(self, *args, **kwargs)


def _create_http_namespace(
    original: Any,
    self: Any,
    name: str,
    creator_request_id: str,
    description: str,
    tags: list[dict[str, str]],
) -> Any:
    with _lock:
        _settle(self)
        creating = [ns for ns, _ in _pending(self).values()]
        for namespace in [*self.namespaces.values(), *creating]:
            if namespace.name == name:
                raise NamespaceAlreadyExistsError(name, namespace.id, namespace.creator_request_id)
        operation_id = original(self, name, creator_request_id, description, tags)
        if TIMING.seconds > 0:
            operation = self.operations[operation_id]
            namespace_id = operation.targets["NAMESPACE"]
            namespace = self.namespaces.pop(namespace_id)
            _pending(self)[namespace_id] = (namespace, time.monotonic() + TIMING.seconds)
            operation.status = "SUBMITTED"
        return operation_id
