"""Prometheus metrics of the controller, in a registry of its own (one per controller instance).

Series: reconciles by result and their duration; drifts detected and corrected by component and
field; AWS calls by service, operation and outcome (throttles apart); throttled HTTP attempts
(retried ones too); seconds waited for the client-side budget by family (`controller.aws.budget`);
queue depth; specs by phase.
Neighbours: `controller.runtime.controller` (updates), `controller.runtime.server` (serves).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as PromCounter

PHASES = ("Pending", "Provisioning", "Ready", "Degraded", "Deleting", "Failed")


class Metrics:
    """The controller's series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.reconciles = PromCounter(
            "psctl_reconciles", "Reconcile passes by result", ["result"], registry=r
        )
        self.duration = Histogram(
            "psctl_reconcile_duration_seconds",
            "Duration of one reconcile pass",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
        )
        self.drifts_detected = PromCounter(
            "psctl_drifts_detected", "Drifts found", ["component", "field"], registry=r
        )
        self.drifts_corrected = PromCounter(
            "psctl_drifts_corrected", "Drifts corrected", ["component", "field"], registry=r
        )
        self.aws_calls = PromCounter(
            "psctl_aws_calls",
            "AWS API calls by outcome (ok, error, throttled)",
            ["service", "operation", "outcome"],
            registry=r,
        )
        self.aws_throttles = PromCounter(
            "psctl_aws_throttles",
            "Throttled AWS HTTP attempts received, those botocore retried included",
            ["service", "operation"],
            registry=r,
        )
        self.aws_budget_wait = PromCounter(
            "psctl_aws_budget_wait_seconds",
            "Seconds AWS calls waited for the client-side budget, summed over threads",
            ["family"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "psctl_queue_depth", "Specs waiting for a reconcile slot", registry=r
        )
        self.specs = Gauge("psctl_specs", "Specs by phase", ["phase"], registry=r)
        self.alerts = PromCounter("psctl_alerts", "Alerts raised by kind", ["kind"], registry=r)
        self.source_poll_failures = PromCounter(
            "psctl_source_poll_failures",
            "Polls of the spec source that failed or crashed",
            ["kind"],
            registry=r,
        )
        self.source_healthy = Gauge(
            "psctl_source_healthy",
            "1 while the source's polls succeed, 0 after SOURCE_UNHEALTHY_AFTER in a row failed",
            registry=r,
        )
        self.source_healthy.set(1)
        self._seen: Counter[tuple[str, str, str]] = Counter()
        self._seen_throttles: Counter[tuple[str, str]] = Counter()
        self._seen_waits: dict[str, float] = {}

    def sync_aws_calls(self, outcomes: Counter[tuple[str, str, str]]) -> None:
        """Advance the AWS call counters to the totals an AwsContext has counted."""
        for key, total in outcomes.items():
            delta = total - self._seen[key]
            if delta > 0:
                self.aws_calls.labels(*key).inc(delta)
                self._seen[key] = total

    def sync_aws_budget(
        self, throttles: Counter[tuple[str, str]], waited: Mapping[str, float]
    ) -> None:
        """Advance the throttle and budget-wait counters to an AwsContext's totals."""
        for key, count in throttles.items():
            if (delta := count - self._seen_throttles[key]) > 0:
                self.aws_throttles.labels(*key).inc(delta)
                self._seen_throttles[key] = count
        for family, seconds in waited.items():
            if (more := seconds - self._seen_waits.get(family, 0.0)) > 0:
                self.aws_budget_wait.labels(family).inc(more)
                self._seen_waits[family] = seconds

    def set_phases(self, phases: Counter[str]) -> None:
        """Specs by phase, every phase present (zero when none)."""
        for phase in PHASES:
            self.specs.labels(phase).set(phases.get(phase, 0))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
