"""Wiring of `psctl run`: pick the spec source and the lease backend, build the controller, run.

The runtime, Kubernetes and the sources are independent of each other (an import-linter contract
in pyproject); this module, at the command line's level, is the one place that knows all three:
`--source` becomes a directory, S3 or Kubernetes source, `--leader-election` a DynamoDB or
Kubernetes lease, `--events` an SQS event source (`controller.sources.sqs_events`).
Neighbours: `controller.cli_run` and `controller.sandbox.cli` (callers),
`controller.runtime.main` (dispatcher, serving), `controller.sources`, `controller.kube`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from controller.aws.session import AwsContext
from controller.ports.events import EventSource
from controller.ports.lease import LeaseBase, default_holder
from controller.ports.source import Source
from controller.runtime.controller import Controller
from controller.runtime.lease import DynamoLease
from controller.runtime.main import make_dispatcher, serve
from controller.runtime.settings import RuntimeSettings
from controller.sources import DirectorySource, S3Source, parse_source_url
from controller.sources.sqs_events import SqsEventSource, parse_events_url


def make_source(
    spec: str,
    aws_factory: Callable[[], AwsContext],
    *,
    namespace: str | None = None,
    holder: str = "privateservice-controller",
) -> Source:
    """`s3://bucket/prefix` -> `S3Source`, `kubernetes` -> `KubernetesSource` (of `namespace`,
    or of every namespace), anything else -> a path.

    `aws_factory` is called only for S3, so a directory source needs no AWS region.
    """
    if namespace is not None and spec != "kubernetes":
        raise ValueError(f"--namespace {namespace!r} applies to the kubernetes source only")
    if spec.startswith("kubernetes:"):
        raise ValueError(f"{spec!r}: use --source kubernetes --namespace NS for one namespace")
    if spec == "kubernetes":
        from controller.kube.client import make_client
        from controller.kube.source import KubernetesSource

        return KubernetesSource(make_client, namespace, holder=holder)
    if spec.startswith("s3://"):
        parse_source_url(spec)  # a bad URL fails before any AWS set-up
        return S3Source(spec, aws_factory())
    scheme, sep, _ = spec.partition("://")
    if sep:
        raise ValueError(
            f"{spec!r}: unknown source scheme {scheme!r} "
            "(expected a directory, s3://bucket/prefix or kubernetes)"
        )
    if not spec:
        raise ValueError("an empty source: expected a directory, s3://bucket/prefix or kubernetes")
    return DirectorySource(Path(spec))


def make_lease(aws: AwsContext, settings: RuntimeSettings, holder: str) -> LeaseBase | None:
    """The lease of `--leader-election`, or None."""
    if settings.lease_table:  # its own context: lease writes are not the controller's calls
        return DynamoLease(AwsContext(aws.settings), settings.lease_table, holder=holder)
    if settings.kube_lease:
        from controller.kube.client import make_client
        from controller.kube.lease import KubeLease

        namespace, name = settings.kube_lease
        return KubeLease(make_client(), namespace, name, holder=holder)
    return None


def make_events(aws: AwsContext, settings: RuntimeSettings) -> EventSource | None:
    """The `--events` source, or None. Its own context: its long polls are not the
    controller's reconcile calls (same credentials: its identity is the controller's)."""
    if settings.events_url is None:
        return None
    url = parse_events_url(settings.events_url)
    return SqsEventSource(url, AwsContext(aws.settings), settings.events_wait_seconds)


def run_controller(source: str, aws: AwsContext, settings: RuntimeSettings) -> int:
    """Build everything and run; 0 after a clean stop."""
    holder = default_holder()
    src = make_source(source, lambda: aws, namespace=settings.namespace, holder=holder)
    lease = make_lease(aws, settings, holder)
    events = make_events(aws, settings)
    controller = Controller(src, aws, settings, make_dispatcher(aws, settings), lease, events)
    asyncio.run(serve(controller))
    return 0
