"""One alert: what drifted where, what the controller did about it, and how bad it is.

An `Alert` is a frozen record of one drift (or a contested field, or a failure) of one field of
one resource of one service. `to_json` is the only outward form: every sink (log, SNS, webhook)
sends it, so clipping long values and redacting secret-looking fields happen there, once.
`severity_for` holds the severity rules. Neighbours: `controller.alerts.dedupe` (keys alerts by
`dedupe_key`), `controller.alerts.sinks` (deliver `to_json`), `controller.alerts.dispatcher`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

Kind = Literal["drift", "contested", "failure"]
Action = Literal["corrected", "reported", "none"]
Severity = Literal["low", "medium", "high"]

MAX_VALUE_CHARS = 500
"""`expected`/`actual` longer than this (as compact JSON) are sent as a clipped string."""
MAX_TEXT_VALUE_CHARS = 80
"""Values quoted in the one-line `text` are clipped shorter, so the line stays readable."""
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
"""An ingress rule from one of these admits the whole internet."""
CRITICAL_COMPONENTS = frozenset(
    {
        "nlb",
        "listener",
        "task-sg",
        "nlb-sg",
        "alb",
        "alb-listener",
        "alb-sg",
        "vpc-link",
        "usage-plan-key",
    }
)
"""Components whose deletion cuts the path: a deleted one is a high-severity alert. A removed
usage-plan key association is one: every call with that key gets 403 until it is back."""
RESOURCE_FIELD = "(resource)"
"""The `field` of an alert about a whole resource (deleted, replaced) rather than one field."""
REDACTED = "<redacted>"
_SECRET_WORDS = ("secret", "password", "token", "credential")


def utc_now() -> str:
    """The current time in RFC 3339, UTC, to the second (`2024-05-01T12:00:00Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _compact(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def clip(value: Any, limit: int = MAX_VALUE_CHARS) -> Any:
    """`value` made JSON-safe; as a string clipped to `limit` characters when it is longer."""
    text = value if isinstance(value, str) else _compact(value)
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return value if isinstance(value, str) else json.loads(text)


def is_secret_path(path: str) -> bool:
    """True when a field path names something secret-like (a secret, token, API key value).

    The controller never reads API key values or secret contents, so this is a second guard:
    whatever such a field holds is sent as `<redacted>`.
    """
    lowered = path.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    segments = lowered.split(".")
    return "value" in segments and any("apikey" in s or "api_key" in s for s in segments)


def _open_rules(value: Any, expected: Any) -> bool:
    """True when `value` holds an internet-open rule that `expected` does not hold."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        wanted = list(expected) if isinstance(expected, Sequence) else []
        return any(
            any(c in repr(rule) for c in OPEN_CIDRS) and rule not in wanted for rule in value
        )
    return any(c in repr(value) and c not in repr(expected) for c in OPEN_CIDRS)


EXTRA_LISTENER_FIELD = "(extra listener)"


def _exposes_or_cuts(field: str, expected: Any, actual: Any) -> bool:
    """Tasks given a public IP, or PrivateLink enforcement turned on on our NLB."""
    if field.endswith("assignPublicIp"):
        return bool(actual == "ENABLED")
    if field.endswith("enforcePrivateLinkInboundRules"):
        return bool(actual == "on" and expected != "on")
    return False


def severity_for(component: str, field: str, expected: Any, actual: Any) -> Severity:
    """How bad one drift is.

    - high: an ingress rule now admits 0.0.0.0/0 or ::/0 (and the spec did not ask for it), a
      resource the path needs (`nlb`, `listener`, `task-sg`, `nlb-sg`, a usage-plan key
      association: 403 for that key's callers) was deleted, someone
      added a listener to our NLB (a new way in), the tasks got a public IP (`assignPublicIp`
      ENABLED: exposure), or PrivateLink enforcement was turned on on the NLB behind the VPC
      link (it then drops API Gateway's traffic: an outage);
    - low: tags;
    - medium: everything else.
    """
    if field.startswith("ingress") and _open_rules(actual, expected):
        return "high"
    if field == RESOURCE_FIELD and component in CRITICAL_COMPONENTS:
        return "high"
    if field == EXTRA_LISTENER_FIELD or _exposes_or_cuts(field, expected, actual):
        return "high"
    if field == "tags" or field.startswith("tags."):
        return "low"
    return "medium"


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert; `count` > 1 on the follow-up that sums repeats within the dedupe window."""

    kind: Kind
    service: str
    component: str
    resource: str
    field: str
    expected: Any
    actual: Any
    action: Action
    severity: Severity
    time: str = dataclasses.field(default_factory=utc_now)
    count: int = 1
    message: str = ""
    changed_by: str | None = None
    """Who made the change, when a CloudTrail event announced it (`userIdentity.arn`)."""
    source_ip: str | None = None
    """The event's `sourceIPAddress`."""
    event_name: str | None = None
    """The API call that made the change (`AuthorizeSecurityGroupIngress`)."""
    event_time: str | None = None
    """When it was made (the event's `eventTime`, RFC 3339 UTC)."""

    def dedupe_key(self) -> tuple[str, str, str, str, str]:
        """Alerts with the same key within a window are one alert with a count."""
        return (self.kind, self.service, self.component, self.resource, self.field)

    def _values(self, limit: int) -> tuple[Any, Any]:
        if is_secret_path(self.field):
            return REDACTED, REDACTED
        return clip(self.expected, limit), clip(self.actual, limit)

    def text(self) -> str:
        """A one-line summary for people (what chat tools show)."""
        expected, actual = (
            REDACTED if v is REDACTED else _compact(v) for v in self._values(MAX_TEXT_VALUE_CHARS)
        )
        where = f"[{self.severity}] {self.service} {self.component} {self.resource}"
        if self.kind == "drift":
            line = f"{where}: {self.field} drifted (expected {expected}, found {actual}): "
            line += self.action
        elif self.kind == "contested":
            line = f"{where}: {self.field} is contested"
        else:
            line = f"{where}: {self.field} failed"
        if self.count > 1:
            line += f" ({self.count} times)"
        if self.message and self.message not in (self.component, self.resource):
            line += f"; {self.message}"  # e.g. which key: not the component said above
        if self.changed_by or self.event_name:
            line += "; " + self.who()
        return " ".join(line.split())

    def who(self) -> str:
        """`changed by <arn> at 12:03:07 via <EventName> from <ip>` (the parts known)."""
        words = ["changed by", self.changed_by or "an unknown principal"]
        if self.event_time:
            clock = self.event_time[11:19] if len(self.event_time) >= 19 else self.event_time
            words += ["at", clock]
        if self.event_name:
            words += ["via", self.event_name]
        if self.source_ip:
            words += ["from", self.source_ip]
        return " ".join(words)

    def to_json(self) -> dict[str, Any]:
        """The alert as sent everywhere: camelCase keys, clipped values, plus `text`."""
        expected, actual = self._values(MAX_VALUE_CHARS)
        return {
            "kind": self.kind,
            "service": self.service,
            "component": self.component,
            "resource": self.resource,
            "field": self.field,
            "expected": expected,
            "actual": actual,
            "action": self.action,
            "severity": self.severity,
            "time": self.time,
            "count": self.count,
            "message": self.message,
            "text": self.text(),
        } | self._event_fields()

    def _event_fields(self) -> dict[str, Any]:
        """The CloudTrail event behind a drift, when one announced it (else nothing)."""
        if not (self.changed_by or self.event_name):
            return {}
        return {
            "changedBy": self.changed_by,
            "sourceIPAddress": self.source_ip,
            "eventName": self.event_name,
            "eventTime": self.event_time,
        }


def drift_alert(
    service: str,
    component: str,
    resource: str,
    field: str,
    expected: Any,
    actual: Any,
    action: Action,
    message: str = "",
) -> Alert:
    """A drift alert with its severity worked out by `severity_for`."""
    return Alert(
        kind="drift",
        service=service,
        component=component,
        resource=resource,
        field=field,
        expected=expected,
        actual=actual,
        action=action,
        severity=severity_for(component, field, expected, actual),
        message=message,
    )


def contested_alert(
    service: str,
    component: str,
    resource: str,
    field: str,
    expected: Any,
    actual: Any,
    corrections: int,
    within_seconds: float,
) -> Alert:
    """The one alert raised when the controller stops fighting over `field`.

    At least medium (an internet-open ingress someone keeps re-adding stays high); the message
    suggests `spec.drift.ignoreFields` so that someone decides who owns the field.
    """
    severity = severity_for(component, field, expected, actual)
    return Alert(
        kind="contested",
        service=service,
        component=component,
        resource=resource,
        field=field,
        expected=expected,
        actual=actual,
        action="reported",
        severity="medium" if severity == "low" else severity,
        message=(
            f"corrected {corrections} times within {within_seconds:g} s and changed back each "
            "time; no longer correcting it until the spec changes. If something else owns this "
            f"field, add '{field}' to spec.drift.ignoreFields"
        ),
    )
