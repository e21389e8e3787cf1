"""psctl: parse the command line, load specs, wire AWS, run one command, pick the exit status.

Exit statuses follow the contract: validate 0/1; plan 0, or with --detailed-exitcode 0 (nothing
to do) / 2 (changes); apply and delete 0 once done, 1 with the reason; any invalid spec is 1
before any AWS call. Neighbours: `controller.spec.loader`, `controller.reconcile.runner`,
`controller.sandbox.server`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from controller import __version__
from controller import logging as logsetup
from controller.aws.session import AwsContext, AwsSettings
from controller.errors import ControllerError
from controller.model.support import unsupported
from controller.reconcile import render, status
from controller.reconcile.engine import Change, Outcome
from controller.reconcile.runner import Reconciler
from controller.runtime.settings import RuntimeSettings
from controller.spec.loader import load_paths
from controller.spec.models import PrivateService


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="psctl", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"psctl {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def aws_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--region", help="AWS region (else spec.region, AWS_REGION, profile)")
        sp.add_argument("--profile", help="AWS profile")
        sp.add_argument("--endpoint-url", help="AWS endpoint (else AWS_ENDPOINT_URL)")
        sp.add_argument("--retry-mode", choices=["standard", "adaptive"], default="standard")
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
        sp = sub.add_parser(name, help=text)
        files(sp)
        aws_opts(sp)
        output(sp)
        if timeout:
            sp.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
        return sp

    live("plan", "what apply would change, per resource and field").add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when there is nothing to do, 2 when there are changes",
    )
    live("apply", "reconcile until converged or --timeout", timeout=True)
    live("delete", "remove owned resources in reverse order", timeout=True)
    st = sub.add_parser("status", help="live status of each service (or of a running controller)")
    st.add_argument(
        "-f",
        "--filename",
        dest="paths",
        action="append",
        metavar="PATH",
        help="spec file or directory (repeatable)",
    )
    st.add_argument(
        "--controller",
        metavar="URL",
        help="read /status of a running `psctl run` (e.g. http://127.0.0.1:8080)",
    )
    aws_opts(st)
    output(st)

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
    aws_opts(run)
    run.set_defaults(log_format="json", log_level="info")

    sub.add_parser("crd", help="print the CustomResourceDefinition")

    _sandbox_options(
        sub.add_parser("sandbox", help="embedded AWS endpoint on loopback (moto + fidelity)")
    )
    return p


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


def _load(paths: Sequence[str]) -> list[PrivateService] | None:
    """Load, validate and check support; print every problem; None when any is found.

    Runs before any AWS context exists, so bad input never reaches AWS.
    """
    docs = load_paths(paths)
    if not docs:
        print(f"no PrivateService documents in {', '.join(paths)}", file=sys.stderr)
        return None
    ok = True
    for doc in docs:
        for problem in doc.problems:
            print(problem, file=sys.stderr)
        if doc.spec is None or any(p.severity == "error" for p in doc.problems):
            ok = False
        elif problems := unsupported(doc.spec):
            ok = False
            for message in problems:
                print(f"{doc.source}: {message}", file=sys.stderr)
    return [d.spec for d in docs if d.spec is not None] if ok else None


def _aws(args: argparse.Namespace, read_cache_seconds: float = 0.0) -> AwsContext:
    return AwsContext(
        AwsSettings(
            region=args.region,
            profile=args.profile,
            endpoint_url=args.endpoint_url,
            retry_mode=args.retry_mode,
            read_cache_seconds=read_cache_seconds,
        )
    )


def _progress(ps: PrivateService, change: Change) -> None:
    for line in render.change_lines(change, verbose=False):
        print(f"{ps.owner}: {line}", file=sys.stderr, flush=True)


def cmd_validate(args: argparse.Namespace) -> int:
    """validate: offline, every problem printed."""
    docs = load_paths(args.paths)
    errors = sum(p.severity == "error" for d in docs for p in d.problems) + sum(
        d.spec is None and not d.problems for d in docs
    )
    if args.output == "json":
        print(
            json.dumps(
                {
                    "valid": errors == 0 and bool(docs),
                    "documents": [
                        {
                            "source": d.source,
                            "index": d.index,
                            "name": d.spec.owner if d.spec else None,
                            "problems": [
                                {
                                    "path": p.path,
                                    "message": p.message,
                                    "severity": p.severity,
                                    "source": p.source,
                                    "line": p.line,
                                }
                                for p in d.problems
                            ],
                        }
                        for d in docs
                    ],
                },
                indent=2,
            )
        )
    else:
        for d in docs:
            for p in d.problems:
                print(p, file=sys.stderr)
            if d.spec is not None and not any(p.severity == "error" for p in d.problems):
                print(f"{d.source}: {d.spec.owner}: valid")
    if not docs:
        print(f"no PrivateService documents in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    return 1 if errors else 0


def cmd_plan(args: argparse.Namespace) -> int:
    """plan: one dry pass per service."""
    specs = _load(args.paths)
    if specs is None:
        return 1
    aws = _aws(args)
    items, changed = [], False
    for ps in specs:
        outcome = Reconciler(ps, aws).plan()
        changed |= outcome.mutated
        if args.output == "json":
            items.append(
                {
                    "name": ps.metadata.name,
                    "namespace": ps.metadata.namespace,
                    "changes": [
                        render.change_json(c) for c in outcome.changes if c.action.value != "noop"
                    ],
                }
            )
        else:
            print(render.plan_text(ps.owner, outcome))
        if outcome.errors:
            for c in outcome.errors:
                print(f"{ps.owner}: {c.key}: {c.message}", file=sys.stderr)
    if args.output == "json":
        print(json.dumps({"items": items}, indent=2))
    return 2 if (changed and args.detailed_exitcode) else 0


def _reconcile(
    specs: list[PrivateService], aws: AwsContext, timeout: float, *, deleting: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Apply (or delete) each spec until done; progress on stderr; JSON items and exit code."""
    items, code = [], 0
    for ps in specs:
        rec = Reconciler(ps, aws)
        result = (rec.delete if deleting else rec.apply)(timeout, _progress)
        verb = "deleted" if deleting else "converged"
        if result.converged:
            print(f"{ps.owner}: {verb} in {result.passes} pass(es)", file=sys.stderr)
        else:
            code = 1
            print(f"{ps.owner}: not {verb}: {result.reason}", file=sys.stderr)
        items.append(
            {
                "name": ps.metadata.name,
                "namespace": ps.metadata.namespace,
                "converged": result.converged,
                "passes": result.passes,
                "reason": result.reason,
                "changes": [render.change_json(c) for c in result.outcome.changes],
            }
        )
    return items, code


def cmd_apply(args: argparse.Namespace, *, deleting: bool = False) -> int:
    """apply / delete: passes until done, progress per resource on stderr."""
    specs = _load(args.paths)
    if specs is None:
        return 1
    items, code = _reconcile(specs, _aws(args), args.timeout, deleting=deleting)
    if args.output == "json":
        print(json.dumps({"items": items}, indent=2))
    return code


def _statuses(specs: list[PrivateService], aws: AwsContext) -> list[dict[str, Any]]:
    """The contract's status document of each spec, from one dry pass each."""
    docs = []
    for ps in specs:
        rec = Reconciler(ps, aws)
        try:
            st = status.compute(ps, rec.plan(), rec.aws.region)
        except ControllerError as exc:
            st = status.compute(ps, Outcome(), rec.aws.region, error=str(exc))
        docs.append(status.document(ps, st))
    return docs


def _print_statuses(docs: list[dict[str, Any]]) -> None:
    for d in docs:
        s = d["status"]
        print(f"{d['metadata']['namespace']}/{d['metadata']['name']}: {s['phase']}")
        for c in s["conditions"]:
            print(f"  {c['type']:<9} {c['status']:<6} {c['reason']}: {c['message']}")
        if s["endpoint"]:
            print(f"  endpoint: {s['endpoint']}")
        if s["loadBalancerDnsName"]:
            print(f"  nlb:      {s['loadBalancerDnsName']}")
        if s.get("staticIps"):
            print(f"  static IPs (for allow-lists): {', '.join(s['staticIps'])}")
        if s.get("customDomain"):
            domain = s["customDomain"]
            print(f"  domain:   {domain['domainName']} -> CNAME {domain['target']}")


def _controller_status(url: str) -> list[dict[str, Any]]:
    """The items of a running controller's /status."""
    with urllib.request.urlopen(f"{url.rstrip('/')}/status", timeout=10) as resp:  # noqa: S310
        items: list[dict[str, Any]] = json.load(resp)["items"]
    return [i for i in items if "metadata" in i]


def cmd_status(args: argparse.Namespace) -> int:
    """status: live, from one dry pass per spec, or from a running controller."""
    if args.controller:
        docs = _controller_status(args.controller)
    else:
        if not args.paths:
            print("status needs -f PATH or --controller URL", file=sys.stderr)
            return 1
        specs = _load(args.paths)
        if specs is None:
            return 1
        docs = _statuses(specs, _aws(args))
    if args.output == "json":
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, indent=2))
    else:
        _print_statuses(docs)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """run: the long-running controller until SIGTERM (then exit 0)."""
    from controller.runtime.main import run_controller

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
    settings = RuntimeSettings(
        listen_host=listen[0],
        listen_port=listen[1],
        prune=args.prune,
        poll_seconds=args.poll_seconds,
        concurrency=args.concurrency,
        default_sns_topic=args.default_sns_topic,
        lease_table=table,
        kube_lease=lease,
        namespace=args.namespace,
    )
    aws = _aws(args, read_cache_seconds=settings.read_cache_seconds)
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
        from controller.runtime.lease import LEASE_NAME

        if not sep:
            return None, (own_namespace(), LEASE_NAME)
        namespace, slash, name = rest.partition("/")
        if slash and namespace and name:
            return None, (namespace, name)
    raise ValueError("expected dynamodb:TABLE, lease or lease:NAMESPACE/NAME")


def cmd_crd(_: argparse.Namespace) -> int:
    """crd: the CustomResourceDefinition generated from the models."""
    from controller.spec.crd import crd_yaml

    sys.stdout.write(crd_yaml())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    """sandbox: moto's server on loopback with the fidelity layer, until interrupted; --apply
    applies specs once it is up, --run runs the controller on SOURCE (`controller.sandbox.cli`)."""
    try:
        from controller.sandbox import cli as sandbox_cli
    except ImportError as exc:
        print(
            f"the sandbox needs the [sandbox] extra: pip install "
            f"'privateservice-controller[sandbox]' ({exc})",
            file=sys.stderr,
        )
        return 1
    specs = _load(args.apply_paths) if args.apply_paths else []
    if specs is None:
        return 1

    def apply_specs(aws: AwsContext) -> None:
        _reconcile(specs, aws, 300.0)
        _print_statuses(_statuses(specs, aws))

    return sandbox_cli.main(args, apply_specs if specs else None)


COMMANDS = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "delete": lambda a: cmd_apply(a, deleting=True),
    "status": cmd_status,
    "crd": cmd_crd,
    "run": cmd_run,
    "sandbox": cmd_sandbox,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `psctl` and `python -m controller`."""
    args = _parser().parse_args(argv)
    logsetup.configure(
        getattr(args, "log_level", "warning"), getattr(args, "log_format", "console")
    )
    try:
        return int(COMMANDS[args.command](args))
    except (ControllerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"error: AWS: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
