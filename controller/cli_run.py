"""`psctl run`: the long-running controller's options turned into `RuntimeSettings`, then run.

`parse_listen` (also used by `controller.sandbox.cli`) and `_leader_election` parse `--listen` and
`--leader-election`. Neighbours: `controller.cli` (dispatch), `controller.cli_aws`
(`aws_context`), `controller.cli_wiring` (`run_controller`), `controller.runtime.settings`.
"""

from __future__ import annotations

import argparse
import sys

from controller.cli_aws import aws_context
from controller.runtime.settings import RuntimeSettings


def cmd_run(args: argparse.Namespace) -> int:
    """run: the long-running controller until SIGTERM (then exit 0)."""
    from controller.cli_wiring import run_controller

    listen = parse_listen(args.listen)
    if listen is None:
        return 1
    try:
        table, lease = _leader_election(args.leader_election)
    except ValueError as exc:
        print(f"--leader-election {args.leader_election!r}: {exc}", file=sys.stderr)
        return 1
    if args.namespace is not None and args.source != "kubernetes":
        print("--namespace applies to --source kubernetes only", file=sys.stderr)
        return 1
    if args.events is not None:
        from controller.sources.sqs_events import parse_events_url

        try:
            parse_events_url(args.events)
        except ValueError as exc:
            print(f"--events: {exc}", file=sys.stderr)
            return 1
    if args.full_resync <= 0:
        print("--full-resync: expected a positive number of seconds", file=sys.stderr)
        return 1
    settings = RuntimeSettings(
        listen_host=listen[0],
        listen_port=listen[1],
        prune=args.prune,
        poll_seconds=args.poll_seconds,
        concurrency=args.concurrency,
        read_budget_per_second=args.read_budget or None,
        default_sns_topic=args.default_sns_topic,
        lease_table=table,
        kube_lease=lease,
        namespace=args.namespace,
        events_url=args.events,
        full_resync_seconds=args.full_resync,
    )
    aws = aws_context(args, read_cache_seconds=settings.read_cache_seconds)
    return run_controller(args.source, aws, settings)


def parse_listen(value: str) -> tuple[str, int] | None:
    """`HOST:PORT` -> (host, port); None (said on stderr) when malformed."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        print(f"--listen {value!r}: expected HOST:PORT", file=sys.stderr)
        return None
    return host, int(port)


def _leader_election(value: str | None) -> tuple[str | None, tuple[str, str] | None]:
    """`dynamodb:TABLE` -> (table, None); `lease[:NS/NAME]` -> (None, (namespace, name))."""
    if not value:
        return None, None
    kind, sep, rest = value.partition(":")
    if kind == "dynamodb" and rest:
        return rest, None
    if kind == "lease":
        from controller.kube.client import own_namespace
        from controller.ports.lease import LEASE_NAME

        if not sep:
            return None, (own_namespace(), LEASE_NAME)
        namespace, slash, name = rest.partition("/")
        if slash and namespace and name:
            return None, (namespace, name)
    raise ValueError("expected dynamodb:TABLE, lease or lease:NAMESPACE/NAME")
