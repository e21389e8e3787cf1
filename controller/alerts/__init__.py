"""Drift alerts: the alert record, deduplication and contest tracking, sinks and the dispatcher.

`model` (Alert, severity rules) <- `dedupe` (Deduper, ContestTracker) <- `sinks` (log, SNS,
webhook) <- `dispatcher` (non-blocking submit, one lane per sink and target). The runtime submits
alerts; nothing here calls the reconciliation engine. Neighbours: `controller.spec.models.Alerts`
(a service's targets), `controller.aws.session` (the SNS client).
"""

from controller.alerts.dedupe import ContestTracker, Deduper
from controller.alerts.dispatcher import AlertDispatcher
from controller.alerts.model import Alert, contested_alert, drift_alert, severity_for
from controller.alerts.sinks import DeliveryError, LogSink, Sink, SnsSink, WebhookSink

__all__ = [
    "Alert",
    "AlertDispatcher",
    "ContestTracker",
    "Deduper",
    "DeliveryError",
    "LogSink",
    "Sink",
    "SnsSink",
    "WebhookSink",
    "contested_alert",
    "drift_alert",
    "severity_for",
]
