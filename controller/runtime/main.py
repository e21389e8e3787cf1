"""Wiring of `psctl run`: source, alerts, controller, signals; returns the exit status.

Neighbours: `controller.cli_run` (caller), `controller.runtime.controller`, `controller.sources`,
`controller.alerts`.
"""

from __future__ import annotations

import asyncio
import signal

import structlog

from controller.alerts import AlertDispatcher, SnsSink
from controller.aws.session import AwsContext
from controller.runtime.controller import Controller
from controller.runtime.lease import DynamoLease, LeaseBase, default_holder
from controller.runtime.settings import RuntimeSettings
from controller.sources import make_source

log = structlog.get_logger(__name__)


def make_dispatcher(aws: AwsContext, settings: RuntimeSettings) -> AlertDispatcher:
    """Alerts to the log always, to SNS and webhooks when a spec (or the controller) names one."""
    return AlertDispatcher(
        sns=SnsSink(aws),
        default_sns_topic=settings.default_sns_topic,
        window_seconds=settings.alert_window_seconds,
    )


async def serve(controller: Controller) -> None:
    """Run until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, controller.stop)
    try:
        await controller.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


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


def run_controller(source: str, aws: AwsContext, settings: RuntimeSettings) -> int:
    """Build everything and run; 0 after a clean stop."""
    holder = default_holder()
    src = make_source(source, lambda: aws, namespace=settings.namespace, holder=holder)
    lease = make_lease(aws, settings, holder)
    controller = Controller(src, aws, settings, make_dispatcher(aws, settings), lease)
    asyncio.run(serve(controller))
    return 0
