"""The contract's status of one PrivateService, computed from a dry pass over what AWS holds.

Shape (shared/spec, "Status"): observedGeneration, phase, conditions (Ready, Synced, Drifted,
Degraded), endpoint, loadBalancerDnsName, resources (key -> ARN or id), lastReconcileTime,
drift {lastDetected, corrections}. The phase is one of Pending (nothing of ours exists; shared
resources do not count), Provisioning, Degraded (drift), Ready, Failed, and the conditions agree
with it: Ready is True only in Ready, Degraded only in Degraded.
Neighbours: `controller.reconcile.engine` (Outcome), `controller.handlers.registry` (shared kinds).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.handlers.registry import HANDLERS
from controller.model import kinds
from controller.reconcile.engine import Action, Outcome
from controller.spec.models import API_VERSION, KIND, PrivateService

SHARED_KINDS = frozenset(cls.kind for cls in HANDLERS if cls.shared or cls.virtual)
"""Kinds used when they exist without being ours (ECS cluster, Cloud Map namespace, VPC
endpoint), and steps with nothing of their own in AWS (retiring old listeners, always
"observed"): one existing does not make a never-applied or deleted spec Provisioning."""


def now() -> str:
    """RFC 3339 UTC timestamp, as Kubernetes writes them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, ok: bool, reason: str, message: str, at: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": at,
    }


def compute(
    ps: PrivateService,
    outcome: Outcome,
    region: str,
    *,
    error: str | None = None,
    corrections: int = 0,
    last_drift: str | None = None,
    applied: bool = False,
) -> dict[str, Any]:
    """Status from a pass (`outcome`), or from an error that stopped the pass.

    A dry pass (plan, status, Alert mode) shows what differs as drift; an `applied` pass has
    just changed it, so the service is Provisioning toward the spec rather than Drifted.
    """
    at = now()
    changes = outcome.changes
    modifying = (Action.UPDATE, Action.REPLACE, Action.DELETE)
    changing = (Action.CREATE, Action.BLOCKED, *(modifying if applied else ()))
    missing = [c.key for c in changes if c.action in changing]
    # a change held back because it would cut clients off (issue 14) stays drift after apply
    held = [c for c in changes if c.held_back]
    drifted = held + ([] if applied else [c for c in changes if c.action in modifying])
    waiting = [c for c in changes if c.action is Action.WAIT]
    failed = outcome.errors
    present = [c for c in changes if c.id and c.action not in (Action.CREATE, Action.DELETE)]
    # a shared resource (a cluster other services use) existing says nothing of this spec
    ours = [c for c in present if c.kind not in SHARED_KINDS]
    fields = [f"{c.key}.{d.path}" for c in drifted for d in c.deltas] or [c.key for c in drifted]
    problems = [f"{c.key}: {c.message}" for c in failed] + ([error] if error else [])
    outputs = outcome.outputs
    runtime = outputs.get("authorizer", {}).get("runtimeWarning")

    if error or failed:
        phase = "Failed"
    elif not ours:
        phase = "Pending"
    elif missing or waiting:
        phase = "Provisioning"
    elif drifted:
        phase = "Degraded"
    else:
        phase = "Ready"
    # each condition agrees with the phase: Ready is True only when Ready, Degraded only when
    # Degraded (drifted). An authorizer on a deprecated runtime keeps working (field report
    # 002): a warning in the Ready condition's message, not a degradation.
    degraded = [f"drifted: {', '.join(fields)}"] if drifted else []
    warning = f"; warning: authorizer: {runtime}" if runtime else ""
    tasks = [f"{c.key}: {c.message}" for c in waiting if c.kind == kinds.ECS_SERVICE]
    conditions = [
        _condition(
            "Ready",
            phase == "Ready",
            "Converged" if phase == "Ready" else phase,
            "; ".join(problems)
            or (
                f"all resources present and as specified{warning}"
                if phase == "Ready"
                else f"missing: {', '.join(missing)}"
                if missing
                else "; ".join(f"{c.key}: {c.message}" for c in waiting)
                or ("nothing of this service exists yet" if phase == "Pending" else "")
                or "; ".join(degraded)
            ),
            at,
        ),
        _condition(
            "Synced",
            not (missing or drifted or failed or error),
            "InSync" if not (missing or drifted) else "OutOfSync",
            ", ".join(missing + fields) or "AWS holds the desired state",
            at,
        ),
        _condition(
            "Drifted",
            bool(drifted),
            "FieldsDiffer" if drifted else "NoDrift",
            ", ".join(fields),
            at,
        ),
        _condition(
            "Degraded",
            phase == "Degraded",
            "FieldsDiffer" if phase == "Degraded" else "Healthy" if phase == "Ready" else phase,
            "; ".join(degraded if phase == "Degraded" else tasks),
            at,
        ),
    ]
    return {
        "observedGeneration": ps.metadata.generation,
        "phase": phase,
        "conditions": conditions,
        "endpoint": _endpoint(outputs),
        "loadBalancerDnsName": outputs.get("nlb", {}).get("dnsName"),
        "resources": {c.key: c.id for c in present},
        "lastReconcileTime": at,
        "drift": {"lastDetected": last_drift, "corrections": corrections},
    } | _extras(outputs)


def _endpoint(outputs: dict[str, dict[str, Any]]) -> str | None:
    """The URL a client uses: the REST stage's (inside the VPC for a PRIVATE API) or the
    HTTP API's."""
    url: str | None = outputs.get("http-stage", {}).get("invokeUrl") or outputs.get(
        "stage", {}
    ).get("invokeUrl")
    vpce = outputs.get("vpc-endpoint", {})
    if url and vpce and vpce.get("privateDnsEnabled") is False and "rest-api" in outputs:
        # without private DNS, clients in the VPC name the endpoint in the host
        api_id = outputs["rest-api"]["id"]
        url = url.replace(f"https://{api_id}.", f"https://{api_id}-{vpce['id']}.", 1)
    return url


def _extras(outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Fields of the newer architectures: Elastic IPs to allow-list, a domain's DNS target."""
    extra: dict[str, Any] = {}
    if outputs.get("nlb", {}).get("staticIps"):
        extra["staticIps"] = list(outputs["nlb"]["staticIps"])
    domain = outputs.get("domain-name")
    if domain:
        extra["customDomain"] = {
            "domainName": domain.get("id"),
            "target": domain.get("regionalDomainName"),
            "hostedZoneId": domain.get("regionalHostedZoneId"),
            "url": outputs.get("base-path-mapping", {}).get("url"),
        }
    return extra


def document(ps: PrivateService, status: dict[str, Any]) -> dict[str, Any]:
    """A status wrapped the way `kubectl get -o json` shows an object."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": ps.metadata.name, "namespace": ps.metadata.namespace},
        "status": status,
    }
