"""The live-AWS commands of `psctl`: plan, apply, delete, status, and the helpers they share.

`load_specs` loads, validates and checks support before any AWS context exists (bad input never
reaches AWS); `aws_context` is the one place the command line creates an `AwsContext`;
`reconcile_specs` (several specs at once with `--parallel`), `statuses` and `print_statuses` also
serve `psctl sandbox --apply`.
Neighbours: `controller.cli` (dispatch, `main`), `controller.cli_run` (`psctl run`),
`controller.reconcile.runner`, `controller.reconcile.render`, `controller.reconcile.status`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from controller import cli_style
from controller.aws.cache import PASS_SECONDS
from controller.aws.errors import AWS_ERRORS
from controller.aws.session import AwsContext, AwsSettings
from controller.doctor.report import diagnosis_lines
from controller.errors import ControllerError
from controller.model.support import unsupported
from controller.reconcile import render, status
from controller.reconcile.engine import Action, Change, Outcome
from controller.reconcile.runner import Reconciler, Result
from controller.spec.duplicates import mark_duplicates
from controller.spec.loader import load_paths
from controller.spec.models import PrivateService

SPEC_ERRORS: tuple[type[Exception], ...] = (ControllerError, *AWS_ERRORS)
"""What fails one spec only: our own errors and every AWS failure."""


def load_specs(paths: Sequence[str]) -> list[PrivateService] | None:
    """Load, validate and check support; print every problem (a second document of one
    namespace/name is one); None when any is found.

    Runs before any AWS context exists, so bad input never reaches AWS.
    """
    docs = mark_duplicates(load_paths(paths))
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


def aws_context(args: argparse.Namespace, read_cache_seconds: float = PASS_SECONDS) -> AwsContext:
    """The AWS context of the command's --region/--profile/--endpoint-url/--retry-mode and
    --aws-budget."""
    return AwsContext(
        AwsSettings(
            region=args.region,
            profile=args.profile,
            endpoint_url=args.endpoint_url,
            retry_mode=args.retry_mode,
            read_cache_seconds=read_cache_seconds,
            budget=args.aws_budget,
        )
    )


_say = threading.Lock()  # lines of specs reconciled at once never interleave


_started = time.monotonic()  # progress lines say how long the command has run
_colour = {"stderr": False}  # set per command from --no-color and the terminal


def _progress(ps: PrivateService, change: Change) -> None:
    took = f"[{time.monotonic() - _started:4.0f}s]"
    lines = [
        cli_style.line(f"{ps.owner}: {line}", _colour["stderr"]) + f" {took}"
        for line in render.change_lines(change, verbose=False)
    ]
    if lines:
        with _say:
            print("\n".join(lines), file=sys.stderr, flush=True)


def cmd_plan(args: argparse.Namespace) -> int:
    """plan: one dry pass per service; exit 1 when it meets a conflict or a failure (with or
    without --detailed-exitcode), else 0, or 2 for changes with --detailed-exitcode."""
    specs = load_specs(args.paths)
    if specs is None:
        return 1
    aws = aws_context(args)
    items, changed, failed = [], False, False
    colour = cli_style.wanted(sys.stdout, getattr(args, "no_color", False))
    for ps in specs:
        outcome = Reconciler(ps, aws).plan()
        changed |= outcome.mutated
        failed |= bool(outcome.errors)
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
            print(cli_style.lines(render.plan_text(ps.owner, outcome), colour))
        if outcome.errors:
            for c in outcome.errors:
                print(f"{ps.owner}: {c.key}: {c.message}", file=sys.stderr)
    if args.output == "json":
        print(json.dumps({"items": items}, indent=2))
    if failed:  # a conflict or a failure: apply could not succeed (terraform's plan: 1 too)
        return 1
    return 2 if (changed and args.detailed_exitcode) else 0


def reconcile_specs(
    specs: list[PrivateService],
    aws: AwsContext,
    timeout: float,
    *,
    deleting: bool = False,
    parallel: int = 1,
    allow_replace: bool = True,
) -> tuple[list[dict[str, Any]], int]:
    """Apply (or delete) each spec until done, up to `parallel` at once (one AwsContext: its
    clients are thread-safe); progress on stderr as it happens, one line per resource change
    prefixed by the spec's owner; then results per spec in input order; JSON items, exit code."""

    def one(ps: PrivateService) -> tuple[Result, float]:
        started = time.monotonic()
        try:
            rec = Reconciler(ps, aws)
            refused = None if deleting or allow_replace else _downtime_refusal(rec)
            if refused is not None:
                result = Result(Outcome(), passes=0, converged=False, reason=refused)
                line = f"{ps.owner}: not converged: {refused}"
            else:
                result = (rec.delete if deleting else rec.apply)(timeout, _progress)
                line = _finished(ps, result, time.monotonic() - started, deleting)
        except SPEC_ERRORS as exc:  # this spec only
            prefix = "AWS: " if not isinstance(exc, ControllerError) else ""
            result = Result(Outcome(), passes=0, converged=False, reason=f"{prefix}{exc}")
            line = f"{ps.owner}: not {'deleted' if deleting else 'converged'}: {result.reason}"
        with _say:  # as soon as this spec is done, whatever the others do
            print(line, file=sys.stderr, flush=True)
        return result, time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max(1, parallel), thread_name_prefix="apply") as pool:
        results = list(pool.map(one, specs))  # in input order
    if len(specs) > 1:  # the summary line, as Terraform's "Apply complete!"
        verb = "deleted" if deleting else "applied"
        failed = [ps.owner for ps, (r, _) in zip(specs, results, strict=True) if not r.converged]
        summary = f"{verb} {len(specs) - len(failed)} of {len(specs)} specs"
        summary += f" in {time.monotonic() - started:.0f} s"
        print(summary + (f"; not {verb}: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    items, code = [], 0
    for ps, (result, seconds) in zip(specs, results, strict=True):
        code = code if result.converged else 1
        items.append(
            {
                "name": ps.metadata.name,
                "namespace": ps.metadata.namespace,
                "converged": result.converged,
                "passes": result.passes,
                "seconds": round(seconds, 1),
                "reason": result.reason,
                "changes": [render.change_json(c) for c in result.done],
            }
        )
    return items, code


def _downtime_refusal(rec: Reconciler) -> str | None:
    """Why apply must not start without --allow-replace (a dry pass finds a change that cuts
    clients off), else None; the engine then refuses any such change found later."""
    cut = [c for c in rec.plan().changes if c.downtime and c.action.mutates]
    rec.engine.downtime_policy = "refuse"
    if not cut:
        return None
    what = "; ".join(f"{c.action} {c.key} ({c.id}) means downtime: {c.downtime}" for c in cut)
    return f"{what}; nothing changed (apply --allow-replace to do it)"


def _finished(ps: PrivateService, result: Result, seconds: float, deleting: bool) -> str:
    """The line of a spec that is done: "shop/orders: Ready: https://... (3 passes, 14 s)",
    what was deleted, or what was kept (deletionPolicy Retain); or why it is not done."""
    took = f"({result.passes} pass{'es' if result.passes != 1 else ''}, {seconds:.0f} s)"
    if not result.converged:
        return f"{ps.owner}: not {'deleted' if deleting else 'converged'}: {result.reason} {took}"
    if deleting:
        deleted = sum(c.action is Action.DELETE for c in result.done)
        kept = sum(c.action is Action.RETAIN for c in result.done)
        if kept and not deleted and ps.spec.deletion_policy == "Retain":
            return f"{ps.owner}: kept {kept} resource(s) (deletionPolicy Retain), nothing deleted"
        still = [c.key for c in result.done if c.action is Action.RETAIN]
        but = f", kept {', '.join(still)} (still in use, see above)" if still else ""
        return f"{ps.owner}: deleted {deleted} resource(s){but} {took}"
    st = status.compute(ps, result.outcome, ps.spec.region or "")
    where = st["endpoint"] or st["loadBalancerDnsName"]
    degraded = next(c for c in st["conditions"] if c["type"] == "Degraded")
    detail = f"{where} " if st["phase"] == "Ready" and where else ""
    if st["phase"] == "Degraded":
        detail = f"{degraded['message']} "
    return f"{ps.owner}: {st['phase']}: {detail}{took}"


def cmd_apply(args: argparse.Namespace, *, deleting: bool = False) -> int:
    """apply / delete: passes until done, progress per resource on stderr."""
    specs = load_specs(args.paths)
    if specs is None:
        return 1
    aws = aws_context(args)
    _colour["stderr"] = cli_style.wanted(sys.stderr, getattr(args, "no_color", False))
    items, code = reconcile_specs(
        specs,
        aws,
        args.timeout,
        deleting=deleting,
        parallel=args.parallel,
        allow_replace=getattr(args, "allow_replace", True),
    )
    if args.output == "json":
        print(json.dumps({"items": items}, indent=2))
    return code


def statuses(specs: list[PrivateService], aws: AwsContext) -> list[dict[str, Any]]:
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


def print_statuses(docs: list[dict[str, Any]], colour: bool = False) -> None:
    """Each status as text (the phase coloured with `colour`); a running controller's invalid
    documents (no metadata) too."""
    for d in docs:
        s = d["status"]
        if "metadata" not in d:  # an invalid document `/status` lists by its source
            print(f"{d.get('source', '?')}: {s.get('phase', 'Failed')} (invalid document)")
            for problem in s.get("problems", []):
                print(f"  {problem}")
            continue
        owner = f"{d['metadata']['namespace']}/{d['metadata']['name']}"
        print(cli_style.line(f"{owner}: {s['phase']}", colour))
        if s.get("problem"):
            print(f"  newer version invalid: {s['problem']}")
        for c in s.get("conditions", []):
            print(f"  {c['type']:<9} {c['status']:<6} {c['reason']}: {c['message']}")
        if s.get("endpoint"):
            print(f"  endpoint: {s['endpoint']}")
        if s.get("loadBalancerDnsName"):
            print(f"  nlb:      {s['loadBalancerDnsName']}")
        if s.get("staticIps"):
            print(f"  static IPs (for allow-lists): {', '.join(s['staticIps'])}")
        if s.get("customDomain"):
            domain = s["customDomain"]
            print(f"  domain:   {domain['domainName']} -> CNAME {domain['target']}")
        if s.get("diagnosis"):  # the controller's last doctor run, or --doctor's
            print("\n".join(diagnosis_lines(s["diagnosis"])))


def _controller_status(url: str) -> list[dict[str, Any]]:
    """The items of a running controller's /status (nothing there: one ControllerError)."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/status", timeout=10) as resp:  # noqa: S310
            items: list[dict[str, Any]] = json.load(resp)["items"]
    except (OSError, ValueError, KeyError) as exc:  # refused, timed out, not a controller
        why = getattr(exc, "reason", None) or exc
        raise ControllerError(
            f"no controller answers at {url} ({why}): start `psctl run` (or `psctl sandbox "
            "--run`) and pass its --listen address, e.g. --controller http://127.0.0.1:8080"
        ) from None
    return items


def cmd_status(args: argparse.Namespace) -> int:
    """status: live, from one dry pass per spec, or from a running controller."""
    if args.controller:
        docs = _controller_status(args.controller)
        if args.doctor:
            from controller.cli_doctor import controller_diagnoses  # it imports this module

            docs = controller_diagnoses(args.controller, docs)
    else:
        if not args.paths:
            print("status needs -f PATH or --controller URL", file=sys.stderr)
            return 1
        specs = load_specs(args.paths)
        if specs is None:
            return 1
        aws = aws_context(args)
        docs = statuses(specs, aws)
        if args.doctor:
            from controller.cli_doctor import with_diagnoses  # it imports this module

            docs = with_diagnoses(specs, docs, aws)
    if args.output == "json":
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, indent=2))
    else:
        print_statuses(docs, cli_style.wanted(sys.stdout, getattr(args, "no_color", False)))
    return 0
