"""Settings of the long-running controller: one frozen dataclass, a default and a reason each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimeSettings:
    """How `psctl run` behaves. Every attribute has the default a production controller wants."""

    listen_host: str = "0.0.0.0"  # noqa: S104 - a controller in a pod is scraped from outside
    """Address of the health, metrics and status server."""
    listen_port: int = 8080
    """Port of that server (0 picks a free one: tests)."""
    poll_seconds: float = 10.0
    """How often the source is listed (directory mtime scan, S3 ListObjectsV2)."""
    concurrency: int = 4
    """Specs reconciled at once; each pass runs in a worker thread (boto3 is synchronous)."""
    backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)
    """Delays after consecutive temporary failures of one spec (jittered by up to 25 %)."""
    permanent_retry_seconds: float = 600.0
    """A spec that failed permanently is retried this rarely, or at once when it changes."""
    max_requeue_seconds: float = 30.0
    """Cap on the wait a provisioning resource asks for (a VPC Link, tasks starting)."""
    prune: bool = False
    """Delete the AWS resources of a spec that left the source (per its deletionPolicy)."""
    default_sns_topic: str | None = None
    """Alerts go here too when a spec names no topic of its own."""
    alert_window_seconds: float = 300.0
    """The same drift of the same field within this window is one alert with a count."""
    contested_corrections: int = 3
    """A field corrected more than this many times ..."""
    contested_seconds: float = 600.0
    """... within this many seconds is contested: the controller stops fighting it."""
    read_budget_per_second: float | None = 5.0
    """API Gateway calls per second routine checks of settled specs may spend (the account has
    10/s, shared): more settled specs than fit stretch the resync (`pacing`); None: no limit."""
    read_cache_seconds: float = 10.0
    """Identical reads within this long are sent once for every spec (`controller.aws.cache`;
    our own writes are always seen at once): a change made behind the controller's back is
    found within `drift.resyncSeconds` plus this."""
    shutdown_grace_seconds: float = 25.0
    """On SIGTERM, in-flight passes get this long to finish before the process exits."""
    lease_table: str | None = None
    """Leader election: a DynamoDB table (partition key `pk`, S) holding the lease; see `lease`."""
    kube_lease: tuple[str, str] | None = None
    """Leader election: a coordination.k8s.io/v1 Lease (namespace, name); see `kube.lease`."""
    namespace: str | None = None
    """The Kubernetes source watches this namespace only (None: every namespace)."""
    events_url: str | None = None
    """`--events sqs://QUEUE_URL`: CloudTrail events route passes (`runtime.events`)."""
    full_resync_seconds: float = 600.0
    """With an event source, each spec is still read in full this often (jittered by 10 %),
    as a backstop for lost events; without one, `drift.resyncSeconds` as before."""
    events_retry: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0)
    """Delays between attempts while the event source fails (polling goes on meanwhile)."""
    events_wait_seconds: int = 10
    """SQS long-poll wait of each receive (0-20 s): also how long a stop may wait for it."""
