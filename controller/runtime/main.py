"""Parts of `psctl run` that belong to the runtime: the alert dispatcher, serving until a signal.

What picks a source and a lease backend (`controller.sources`, `controller.kube`) is the command
line's job: `controller.cli_wiring`. Neighbours: `controller.cli_wiring` (caller),
`controller.runtime.controller`, `controller.alerts`.
"""

from __future__ import annotations

import asyncio
import signal

import structlog

from controller.alerts import AlertDispatcher, SnsSink
from controller.aws.session import AwsContext
from controller.runtime.controller import Controller
from controller.runtime.settings import RuntimeSettings

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
