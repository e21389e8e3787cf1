"""The `psctl` command line's argparse parser: subcommands, their options and defaults.

`parser()` builds it; `controller.cli.main` parses with it and dispatches on `command` to
`controller.cli.COMMANDS` (bodies in `controller.cli`, `controller.cli_aws`, `controller.cli_run`;
the sandbox's options are checked by `controller.sandbox.cli.main`). Imports nothing else of psctl
but the version, `controller.cli_help` (purposes, examples, exit codes) and
`controller.aws.budget` (standard library only), which checks `--aws-budget`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from controller import __version__, cli_help
from controller.aws.budget import FAMILIES, OFF, parse_budget

DESCRIPTION = (
    "psctl: parse the command line, load specs, wire AWS, run one command, pick the exit status."
)


BUDGET_HELP = (
    "client-side AWS call budget: FAMILY=REQ_PER_S,... (families: "
    + ", ".join(FAMILIES)
    + "; share=F for the rest), or off (default: half of every published quota)"
)


def budget_arg(text: str) -> str:
    """argparse `type` of `--aws-budget`: the text itself once `parse_budget` accepts it."""
    if text.strip().lower() != OFF:
        try:
            parse_budget(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _reconcile_flags(sp: argparse.ArgumentParser, name: str) -> None:
    """apply / delete: --parallel; apply: --allow-replace (issue 14: a new NLB DNS name or
    invoke URL only when asked)."""
    sp.add_argument(
        "--parallel", type=int, default=4, metavar="N", help="specs at once (default 4)"
    )
    if name == "apply":
        sp.add_argument(
            "--allow-replace",
            action="store_true",
            help="make changes that cut clients off (plan marks them 'downtime')",
        )


def parser() -> argparse.ArgumentParser:
    """The `psctl` parser: one subcommand per entry of `controller.cli.COMMANDS`."""
    p = argparse.ArgumentParser(prog="psctl", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"psctl {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def aws_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--region", help="AWS region (else spec.region, AWS_REGION, profile)")
        sp.add_argument("--profile", help="AWS profile")
        sp.add_argument("--endpoint-url", help="AWS endpoint (else AWS_ENDPOINT_URL)")
        sp.add_argument("--retry-mode", choices=["standard", "adaptive"], default="standard")
        sp.add_argument("--aws-budget", metavar="SPEC", type=budget_arg, help=BUDGET_HELP)
        sp.add_argument(
            "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
        )
        sp.add_argument("--log-format", default="console", choices=["console", "json"])

    def files(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "-f",
            "--filename",
            dest="paths",
            action="append",
            required=True,
            metavar="PATH",
            help="spec file or directory (repeatable)",
        )

    def output(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("-o", "--output", choices=["text", "json"], default="text")

    v = sub.add_parser("validate", help="check specs offline")
    files(v)
    v.add_argument("-o", "--output", choices=["text", "json"], default="text")

    def live(name: str, text: str, *, timeout: bool = False) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=text, description=text)
        files(sp)
        aws_opts(sp)
        _text_output(sp)
        if timeout:
            sp.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
        return sp

    live("plan", "what apply would change, per resource and field").add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when there is nothing to do, 2 when there are changes",
    )
    for name, text in (
        ("apply", "reconcile until converged or --timeout"),
        ("delete", "remove owned resources in reverse order"),
    ):
        _reconcile_flags(live(name, text, timeout=True), name)
    st = sub.add_parser("status", help="live status of each service (or of a running controller)")
    st.add_argument(
        "-f",
        "--filename",
        dest="paths",
        action="append",
        metavar="PATH",
        help="spec file or directory (repeatable)",
    )
    _status_sources(st)
    aws_opts(st)
    _text_output(st)

    _doctor_parser(sub, aws_opts, output)

    run = sub.add_parser("run", help="the long-running controller")
    run.add_argument(
        "--source", required=True, help="a directory, s3://bucket/prefix, or kubernetes"
    )
    run.add_argument(
        "--listen",
        default="0.0.0.0:8080",
        metavar="HOST:PORT",
        help="serves /healthz, /readyz, /metrics and /status (default 0.0.0.0:8080)",
    )
    run.add_argument(
        "--prune", action="store_true", help="delete the resources of a spec that leaves the source"
    )
    run.add_argument("--poll-seconds", type=float, default=10.0, help="source poll interval")
    run.add_argument("--concurrency", type=int, default=4, help="specs reconciled at once")
    run.add_argument(
        "--read-budget",
        type=float,
        default=5.0,
        metavar="CALLS_PER_S",
        help="API Gateway calls/s routine resyncs may spend (default 5; 0: no limit)",
    )
    run.add_argument(
        "--default-sns-topic", metavar="ARN", help="alerts go here when a spec names no topic"
    )
    run.add_argument(
        "--namespace",
        metavar="NS",
        help="with --source kubernetes: watch this namespace only (default: every namespace)",
    )
    run.add_argument(
        "--leader-election",
        metavar="dynamodb:TABLE|lease[:NS/NAME]",
        help="several replicas: only the holder of the lease reconciles; a DynamoDB table (ECS) "
        "or a coordination.k8s.io Lease (default: privateservice-controller in the pod's "
        "namespace)",
    )
    _run_event_options(run)
    aws_opts(run)
    run.set_defaults(log_format="json", log_level="info")

    sub.add_parser("crd", help="print the CustomResourceDefinition")
    _events_parser(sub, aws_opts, output)

    _last(p, sub)
    return p


def _text_output(sp: argparse.ArgumentParser) -> None:
    """-o text|json, and --no-color for the text (plan, apply, delete, status)."""
    sp.add_argument("-o", "--output", choices=["text", "json"], default="text")
    sp.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR)")


def _last(p: argparse.ArgumentParser, sub: Any) -> None:
    """The sandbox and completion subcommands; then purposes, examples and exit codes."""
    _sandbox_options(
        sub.add_parser("sandbox", help="embedded AWS endpoint on loopback (moto + fidelity)")
    )
    sub.add_parser("completion", help="shell completion script").add_argument(
        "shell", choices=["bash", "zsh", "fish"]
    )
    cli_help.decorate(p)


def _status_sources(st: argparse.ArgumentParser) -> None:
    """`psctl status --controller URL` and `--doctor`."""
    st.add_argument(
        "--controller",
        metavar="URL",
        help="read /status of a running `psctl run` (e.g. http://127.0.0.1:8080)",
    )
    st.add_argument(
        "--doctor",
        action="store_true",
        help="also diagnose each chain now (psctl doctor's read-only checks, about 60 more reads "
        "a chain; with --controller its /doctor) and show the chain's picture with each hop's "
        "health; without it the picture shows only what a controller last diagnosed (no call)",
    )


def _doctor_parser(sub: Any, *common: Callable[[argparse.ArgumentParser], None]) -> None:
    """`psctl doctor`: its starting points (one per run), -v, and the `common` options."""
    doc = sub.add_parser(
        "doctor", help="why a request through the chain fails, hop by hop, with the fix"
    )
    for add in common:
        add(doc)
    doc.add_argument(
        "-f",
        "--filename",
        dest="paths",
        action="append",
        metavar="PATH",
        help="the chain each spec owns (repeatable)",
    )
    doc.add_argument("--rest-api", metavar="ID", help="a chain discovered from a REST API")
    doc.add_argument("--stage", metavar="NAME", help="with --rest-api: only this stage")
    doc.add_argument("--http-api", metavar="ID", help="a chain discovered from an HTTP API")
    doc.add_argument(
        "--load-balancer", metavar="ARN|NAME", help="from a load balancer, up and down"
    )
    doc.add_argument(
        "--ecs-service", metavar="CLUSTER/SERVICE", help="from an ECS service, up and down"
    )
    doc.add_argument("-v", "--verbose", action="store_true", help="print the AWS calls made")


def _run_event_options(run: argparse.ArgumentParser) -> None:
    """`psctl run --events sqs://QUEUE_URL --full-resync SECONDS`."""
    run.add_argument(
        "--events",
        metavar="sqs://QUEUE_URL",
        help="CloudTrail events from this SQS queue (see `psctl events install`) route drift "
        "to the spec at once; polling becomes the --full-resync backstop",
    )
    run.add_argument(
        "--full-resync",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="with --events: read each spec in full this often, jittered (default 600)",
    )


def _events_parser(sub: Any, *common: Callable[[argparse.ArgumentParser], None]) -> None:
    """`psctl events install|uninstall [--queue NAME]`, with the `common` options."""
    ev = sub.add_parser("events", help="the EventBridge rule and SQS queue of run --events")
    for add in common:
        add(ev)
    ev.add_argument("action", choices=["install", "uninstall"])
    ev.add_argument(
        "--queue",
        default="privateservice-controller-events",
        metavar="NAME",
        help="queue and rule name (default privateservice-controller-events; DLQ NAME-dlq)",
    )


def _sandbox_options(sb: argparse.ArgumentParser) -> None:
    """Options of `psctl sandbox` (checked by `controller.sandbox.cli.main`)."""
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=4566)
    sb.add_argument("--region", default="us-east-1")
    sb.add_argument(
        "--apply",
        dest="apply_paths",
        action="append",
        metavar="PATH",
        help="once the sandbox is up, apply these specs and print their status",
    )
    sb.add_argument(
        "--run",
        metavar="SOURCE",
        help="then run the controller on SOURCE (a directory or s3://bucket/prefix) until "
        "interrupted",
    )
    sb.add_argument("--listen", metavar="HOST:PORT", help="with --run (default 127.0.0.1:8080)")
    sb.add_argument("--prune", action="store_true", help="with --run, as for psctl run")
    sb.add_argument("--poll-seconds", type=float, help="with --run (default 10)")
    sb.add_argument(
        "--aws-budget",
        metavar="SPEC",
        type=budget_arg,
        help="as for psctl run (default: none, as the sandbox is on loopback)",
    )

    def quotas(value: str) -> str:
        number = value[1:] if value.startswith("x") else ""
        if value in ("aws", "off") or (number.replace(".", "", 1).isdigit() and float(number) > 0):
            return value
        raise argparse.ArgumentTypeError(f"{value!r}: use aws, off or xN with N > 0 (e.g. x10)")

    sb.add_argument(
        "--quotas",
        type=quotas,
        default="off",
        metavar="aws|off|xN",
        help="AWS's control-plane quotas and API Gateway paging: AWS's rates, none (default), "
        "or AWS's rates and bursts times N",
    )
