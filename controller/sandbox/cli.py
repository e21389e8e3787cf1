"""`psctl sandbox`: the sandbox alone until interrupted, or with `--run SOURCE` the controller too.

`serve` is the sandbox alone (`server.serve_forever`); with `--apply` it prepares what the
examples expect (`examples.prepare`) and applies the specs once it is up. `run` is `--run`: the
sandbox's server runs in its own threads (the `Sandbox` context manager) while the long-running
controller (`controller.cli_wiring.run_controller`) runs in this, the main, thread, where
asyncio's signal handlers work, against the sandbox's endpoint until SIGINT/SIGTERM; then the
sandbox stops and the exit status is 0. `--aws-budget` budgets the contexts' calls (by default
none: the sandbox is on loopback, see `controller.aws.session.AwsSettings.budget`). `main` checks
the options (`--run kubernetes` is refused: the sandbox has no Kubernetes API server) and picks
one; `controller.cli` parses the command line and loads the `--apply` specs (applied before the
controller starts with `--run`).
`--quotas aws|off|xN` (checked by the parser) sets the sandbox's control-plane quotas and API
Gateway paging (`quotas`, `traffic`); the examples' prerequisites are the sandbox's own calls,
counted against no quota and kept out of the call log (`Sandbox.internal_access`).
With `--run` the controller signs as `CONTROLLER_KEY` and reads the queue `psctl events install`
makes (`--events`): a change made with the exported credentials is a CloudTrail event
(`cloudtrail`), corrected within seconds and named in the alert.
Neighbours: `controller.cli`, `controller.cli_run` (`parse_listen`), `server`, `examples`,
`controller.cli_wiring`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from types import FrameType

from controller import logging as logsetup
from controller.aws import events_setup
from controller.aws.budget import DEFAULT_SHARE
from controller.aws.session import AwsContext, AwsSettings
from controller.cli_run import parse_listen
from controller.runtime.settings import RuntimeSettings
from controller.sandbox import examples
from controller.sandbox.server import Sandbox, announce, serve_forever

CONTROLLER_KEY = "psctl-controller"
"""The access key the controller signs with under `--run`: its own writes make no events."""
ApplySpecs = Callable[[AwsContext], None]
"""Applies the `--apply` specs on an AWS context and prints their status."""


def _context(
    sandbox: Sandbox, read_cache_seconds: float = 0.0, budget: str | None = None
) -> AwsContext:
    """The controller's context on the sandbox. On loopback there is no default budget; with
    `--quotas` on the controller takes the default share, as it would of AWS's quotas."""
    if budget is None and sandbox.quotas != "off":
        budget = f"share={DEFAULT_SHARE}"
    return AwsContext(
        AwsSettings(
            region=sandbox.region,
            endpoint_url=sandbox.endpoint_url,
            read_cache_seconds=read_cache_seconds,
            budget=budget,
        )
    )


def serve(
    host: str,
    port: int,
    region: str,
    apply: ApplySpecs | None = None,
    budget: str | None = None,
    *,
    quotas: str = "off",
) -> None:
    """The sandbox until SIGINT/SIGTERM; with `apply`, the examples' prerequisites and specs."""

    def on_ready(sandbox: Sandbox) -> None:
        examples.prepare(sandbox.internal_access())  # an authorizer, instances: not counted
        if apply is not None:
            apply(_context(sandbox, budget=budget))
        print(
            "# the sandbox keeps running: use the exports above with psctl plan/status/delete",
            flush=True,
        )

    serve_forever(
        host, port, region, quotas=quotas, on_ready=on_ready if apply is not None else None
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(
    host: str,
    port: int,
    region: str,
    source: str,
    settings: RuntimeSettings,
    apply: ApplySpecs | None = None,
    budget: str | None = None,
    *,
    quotas: str = "off",
) -> int:
    """Sandbox, examples' prerequisites, `apply` if any, then the controller on `source` until
    SIGINT/SIGTERM; 0 after a clean stop (also when stopped before the controller started)."""
    from controller.cli_wiring import run_controller

    previous = signal.signal(signal.SIGTERM, _interrupt)  # until the controller's own handlers
    try:
        with Sandbox(
            host=host, port=port, region=region, quotas=quotas, controller_keys=(CONTROLLER_KEY,)
        ) as sandbox:
            announce(sandbox)
            examples.prepare(sandbox.internal_access())
            os.environ["AWS_ACCESS_KEY_ID"] = CONTROLLER_KEY  # the exported key is the user's
            if apply is not None:
                apply(_context(sandbox, budget=budget))
            installed = events_setup.install(_context(sandbox))
            settings = replace(settings, events_url=installed.events_url)
            print(
                f"# the controller runs on {source} (/status on "
                f"{settings.listen_host}:{settings.listen_port}, logs on stderr);"
                " Ctrl-C stops it and the sandbox",
                f"\n# CloudTrail emulated: a change made with the exported credentials (the AWS"
                f" CLI) reaches it as an event on {installed.queue_url} about"
                f" {sandbox.cloudtrail.delay:g} s later; full resync every"
                f" {settings.full_resync_seconds:g} s",
                flush=True,
            )
            aws = _context(sandbox, settings.read_cache_seconds, budget)
            return run_controller(source, aws, settings)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(args: argparse.Namespace, apply: ApplySpecs | None) -> int:
    """`psctl sandbox` with its options checked: `run` with `--run SOURCE`, else `serve`; a
    `--port` that cannot be bound (in use) is one line and exit 1."""
    try:
        return _main(args, apply)
    except OSError as exc:
        if not str(exc).startswith("cannot listen on"):  # `Sandbox.start`'s own check
            raise
        print(
            f"error: {exc}: choose another with --port, e.g. --port 0 for any free port",
            file=sys.stderr,
        )
        return 1


def _main(args: argparse.Namespace, apply: ApplySpecs | None) -> int:
    if args.run == "kubernetes":
        print(
            "psctl sandbox --run kubernetes: the sandbox has no Kubernetes API server "
            "(use a directory or s3://bucket/prefix)",
            file=sys.stderr,
        )
        return 1
    if args.run is None:
        if args.listen or args.prune or args.poll_seconds is not None:
            print("--listen, --prune and --poll-seconds need --run SOURCE", file=sys.stderr)
            return 1
        serve(args.host, args.port, args.region, apply, args.aws_budget, quotas=args.quotas)
        return 0
    listen = parse_listen(args.listen or "127.0.0.1:8080")
    if listen is None:
        return 1
    logsetup.configure("info", "json")  # the controller logs as `psctl run` does by default
    settings = RuntimeSettings(
        listen_host=listen[0],
        listen_port=listen[1],
        prune=args.prune,
        poll_seconds=10.0 if args.poll_seconds is None else args.poll_seconds,
    )
    return run(
        args.host,
        args.port,
        args.region,
        args.run,
        settings,
        apply,
        args.aws_budget,
        quotas=args.quotas,
    )
