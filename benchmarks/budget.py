"""AWS calls within the budget: create, plan, apply and resync of N services on the sandbox.

    python benchmarks/budget.py [--sizes 1,10,50] [--workers 8] [--parallel 4]
                                [--quotas aws|off] [--quota-n 10]

For each N of `--sizes`, on one sandbox (reset between sizes):

1. cold create: `Reconciler.apply` of N copies of examples/orders-rest-nlb.yaml, `--workers`
   at once on one AwsContext with the one-shot read snapshot (`cache.PASS_SECONDS`);
2. no-op plan: a new AwsContext (a new `psctl plan` process), `Reconciler.plan()` of all N;
3. no-op apply: another new context (`psctl apply`); any mutating call is a failure;
4. `psctl run` resync: a context with `RuntimeSettings.read_cache_seconds`, `SpecState`s that
   converged once (`run_pass`, not measured beyond its calls), then, once the snapshot has
   expired (as it has between two resyncs of 60 s), one settled round of all N (`run_pass`,
   `--parallel` at once, sweep off) and one round as every SWEEP_EVERY-th pass is (sweep on).

Each phase prints its AWS calls (per spec, by AWS service and the top operations). The resync
rounds also print CPU seconds per spec and pass: the process's (`time.process_time`, which
includes moto's server: it runs in this process) and the controller's worker threads'
(`time.thread_time` summed over the passes, botocore and the engine only), and the RSS
(VmRSS now, ru_maxrss the peak; both include moto and its state).

With `--quotas aws` (the default; `off` skips it): a cold create of `--quota-n` services with
AWS's control-plane quotas enforced by the sandbox (API Gateway paging on) and the controller's
budget at `--budget` (default share=0.5) of them: wall time, throttled attempts (the client's
count and the sandbox's log), retries as % of calls, the most API Gateway calls in any 1 s and
10 s window against the budget's bound (rate x window + burst), and the quota lower bound: the
slowest bucket's (count - burst) / rate over the calls made, at AWS's rates and at the budget's.

Wall times on moto are floors, not forecasts: AWS calls take longer. Not a test: it asserts only
that a no-op apply makes no mutating call (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from apply_n import specs  # the same N copies of the orders example (this folder is on the path)

from controller import logging as logsetup
from controller.aws.cache import PASS_SECONDS
from controller.aws.session import AwsContext, AwsSettings, is_mutating
from controller.ports.source import fingerprint
from controller.reconcile.engine import Action
from controller.reconcile.runner import Reconciler
from controller.runtime.settings import RuntimeSettings
from controller.runtime.step import SWEEP_EVERY, SpecState, run_pass
from controller.sandbox import Sandbox
from controller.sandbox.calls import Call, max_in_window
from controller.sandbox.quotas import Quotas
from controller.spec.models import PrivateService

SERVICES = ("apigateway", "elbv2", "ec2", "ecs", "iam", "logs")
T = TypeVar("T")
R = TypeVar("R")

Calls = Counter[tuple[str, str]]


def pmap(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """fn over items, `workers` at once, results in order."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def by_service(calls: Calls) -> Counter[str]:
    """Calls per AWS service."""
    out: Counter[str] = Counter()
    for (service, _), count in calls.items():
        out[service] += count
    return out


def by_column(calls: Calls) -> dict[str, int]:
    """Calls per summary column: API Gateway's quota family (v1 and v2), ELB, ..., other."""
    out = dict.fromkeys((*SERVICES, "other"), 0)
    for service, count in by_service(calls).items():
        column = "apigateway" if service.startswith("apigateway") else service
        out[column if column in out else "other"] += count
    return out


def show(label: str, calls: Calls, n: int, *, top: int = 8, note: str = "") -> dict[str, Any]:
    """Print one phase's calls; return its per-spec figures for the summary."""
    total = sum(calls.values())
    mutating = sum(v for (_, op), v in calls.items() if is_mutating(op))
    services = by_service(calls)
    print(f"\n== {label}: {n} services ==")
    if note:
        print(f"  {note}")
    print(
        f"  calls {total} ({total / n:.1f} per spec), mutating {mutating} "
        f"({mutating / n:.1f} per spec)"
    )
    print(
        "  per spec by service: " + ", ".join(f"{s} {c / n:.1f}" for s, c in services.most_common())
    )
    print("  top operations (per spec; * = mutating):")
    for (service, op), count in calls.most_common(top):
        flag = "*" if is_mutating(op) else " "
        print(f"    {flag} {service:<11} {op:<36} {count / n:7.2f}")
    for family in ("apigateway", "elbv2"):
        ops = sorted(
            ((op, c) for (svc, op), c in calls.items() if svc.startswith(family)),
            key=lambda kv: -kv[1],
        )
        print(f"  {family} per spec: " + ", ".join(f"{op} {c / n:.2f}" for op, c in ops))
    row = {"total": total / n, "mutating": mutating / n}
    return row | {column: count / n for column, count in by_column(calls).items()}


def rss_mib() -> tuple[float, float]:
    """(VmRSS now, peak RSS) of this process in MiB."""
    now = float("nan")
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1]) / 1024
    return now, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def context(access: Any, read_cache: float, budget: str | None = None) -> AwsContext:
    """A new AwsContext on the sandbox, as a new process would have."""
    return AwsContext(
        AwsSettings(
            region=access.region,
            endpoint_url=access.endpoint_url,
            read_cache_seconds=read_cache,
            budget=budget,
        )
    )


def create(
    label: str, services: list[PrivateService], aws: AwsContext, workers: int, timeout: float
) -> tuple[float, Calls, int]:
    """Apply every service from scratch; (wall, calls, not converged)."""
    before = aws.counter.snapshot()
    start = time.perf_counter()
    results = pmap(
        lambda ps: Reconciler(ps, aws, max_requeue=0.5).apply(timeout), services, workers
    )
    wall = time.perf_counter() - start
    failed = [r.reason for r in results if not r.converged]
    if failed:
        print(f"  {label}: {len(failed)} not converged, e.g. {failed[:2]}", file=sys.stderr)
    passes = Counter(r.passes for r in results)
    print(f"\n[{label}] wall {wall:.1f} s; passes per service {dict(sorted(passes.items()))}")
    return wall, aws.counter.snapshot() - before, len(failed)


def resync_round(
    states: list[SpecState], aws: AwsContext, parallel: int
) -> tuple[Calls, float, float, float, list[str]]:
    """One pass of every state; (calls, wall, process CPU, worker-thread CPU, problems)."""
    thread_cpu: list[float] = []
    lock = threading.Lock()
    problems: list[str] = []

    def one(state: SpecState) -> None:
        t0 = time.thread_time()
        report = run_pass(state, aws, set(), 1.0)
        spent = time.thread_time() - t0
        with lock:
            thread_cpu.append(spent)
            if report.error or report.alerts or report.requeue_after is not None:
                problems.append(f"{state.owner}: {report.error or report.alerts[:1]}")

    before = aws.counter.snapshot()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    pmap(one, states, parallel)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return aws.counter.snapshot() - before, wall, cpu, sum(thread_cpu), problems


def one_size(sandbox: Sandbox, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Phases 1 to 4 for n services; the summary row."""
    sandbox.reset()
    access = sandbox.access()
    services = specs(n)
    row: dict[str, Any] = {"n": n}

    aws = context(access, PASS_SECONDS)
    wall, calls, failed = create("cold create", services, aws, args.workers, args.timeout)
    row["create"] = show("cold create", calls, n, note=f"wall {wall:.1f} s, {args.workers} workers")
    row["create_wall"], row["create_failed"] = wall, failed

    aws = context(access, PASS_SECONDS)
    before = aws.counter.snapshot()
    outcomes = pmap(lambda ps: Reconciler(ps, aws).plan(), services, args.parallel)
    pending = sum(c.action is not Action.NOOP for o in outcomes for c in o.changes)
    row["plan"] = show(
        "no-op plan (new context)",
        aws.counter.snapshot() - before,
        n,
        note=f"changes other than no-op: {pending}",
    )

    aws = context(access, PASS_SECONDS)
    wall, calls, failed = create("no-op apply", services, aws, args.parallel, args.timeout)
    row["apply"] = show("no-op apply (new context)", calls, n, note=f"wall {wall:.1f} s")
    row["apply_mutating"] = sum(v for (_, op), v in calls.items() if is_mutating(op))
    if row["apply_mutating"]:
        bad = {k: v for k, v in calls.items() if is_mutating(k[1])}
        print(f"  FAIL: a no-op apply made mutating calls: {bad}", file=sys.stderr)

    ttl = RuntimeSettings().read_cache_seconds
    aws = context(access, ttl)
    states = [SpecState(spec=ps, fingerprint=fingerprint(ps), origin="bench") for ps in services]
    calls, wall, _, _, problems = resync_round(states, aws, args.parallel)
    unconverged = sum(s.converged != s.fingerprint for s in states)
    row["first"] = show(
        "psctl run: first pass after start (unsettled, sweep on)",
        calls,
        n,
        note=f"wall {wall:.1f} s; not converged: {unconverged}",
    )
    for label, key, sweep in (
        ("psctl run: settled resync round (sweep off)", "resync", False),
        (f"psctl run: settled resync round, every {SWEEP_EVERY}th (sweep on)", "sweep", True),
    ):
        time.sleep(ttl + 0.5)  # between two resyncs the snapshot has expired
        for state in states:  # run_pass counts passes first: pass % SWEEP_EVERY == 0 sweeps
            state.passes = SWEEP_EVERY - 1 if sweep else 1
        calls, wall, cpu, thread_cpu, problems = resync_round(states, aws, args.parallel)
        now, peak = rss_mib()
        note = (
            f"wall {wall:.2f} s, {args.parallel} at once; CPU per spec and pass: process "
            f"{1000 * cpu / n:.1f} ms (moto included), controller threads "
            f"{1000 * thread_cpu / n:.1f} ms; RSS {now:.0f} MiB (peak {peak:.0f} MiB)"
        )
        if problems:
            note += f"; PROBLEMS {len(problems)}: {problems[:2]}"
        row[key] = show(label, calls, n, note=note)
        row[key] |= {
            "wall": wall,
            "cpu_ms": 1000 * cpu / n,
            "thread_ms": 1000 * thread_cpu / n,
            "rss": now,
            "peak": peak,
            "problems": len(problems),
        }
    row["repair"] = repair_round(sandbox, states, aws, ttl, args.parallel)
    return row


def repair_round(
    sandbox: Sandbox, states: list[SpecState], aws: AwsContext, ttl: float, parallel: int
) -> dict[str, Any]:
    """Drift repair of one field: every spec's target group health-check path changed behind
    the controller's back, then the repair pass and the pass that verifies it (psctl run
    requeues at once after a correction), counted per spec."""
    elb = sandbox.access().client("elbv2")
    for state in states:
        name = f"ps-{state.spec.metadata.namespace}-{state.spec.metadata.name}-tg"
        arn = elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group(TargetGroupArn=arn, HealthCheckPath="/console-edit")
    time.sleep(ttl + 0.5)
    for state in states:
        state.passes = 1  # no sweep
    repaired, *_ = resync_round(states, aws, parallel)
    verified, *_ = resync_round(states, aws, parallel)
    fixed = repaired[("elbv2", "ModifyTargetGroup")]
    return show(
        "drift repair of one field (repair pass + verifying pass)",
        repaired + verified,
        len(states),
        note=f"ModifyTargetGroup calls: {fixed} for {len(states)} specs",
    )


def lower_bound(calls: Calls, share: float) -> tuple[float, str]:
    """The slowest quota bucket's (count - burst) / rate over `calls`, rates times `share`."""
    quotas = Quotas()
    used: Counter[str] = Counter()
    shape: dict[str, tuple[float, float]] = {}
    for (service, op), count in calls.items():
        family = "apigateway" if service.startswith("apigateway") else service
        for key, rate, burst in quotas.buckets(family, op):
            used[key] += count
            shape[key] = (rate * share, max(1.0, burst * share))
    best, which = 0.0, "-"
    for key, count in used.items():
        rate, burst = shape[key]
        seconds = max(0.0, (count - burst) / rate)
        if seconds > best:
            best, which = seconds, f"{key} x{count}"
    return best, which


def ratio(a: float, b: float) -> float:
    """a / b, NaN for b == 0."""
    return a / b if b else float("nan")


def quota_run(sandbox: Sandbox, args: argparse.Namespace) -> dict[str, Any]:
    """Part 5: a cold create under AWS's quotas with the controller's budget."""
    n = args.quota_n
    sandbox.reset()
    sandbox.set_quotas(args.quotas)
    sandbox.set_paging(None)  # API Gateway pages exactly while quotas are on
    access = sandbox.access()
    aws = context(access, PASS_SECONDS, budget=args.budget)
    wall, calls, failed = create(
        f"cold create under quotas={args.quotas}, budget {args.budget}",
        specs(n),
        aws,
        args.workers,
        args.quota_timeout,
    )
    log: list[Call] = sandbox.call_log()
    sandbox.set_quotas("off")
    throttled = aws.counter.throttled()
    attempts_throttled = sum(throttled.values())
    total = sum(calls.values())
    logged_throttled = sum(c.throttled for c in log)
    share = float(args.budget.split("=", 1)[1]) if args.budget.startswith("share=") else 1.0
    api_rate, api_burst = 10 * share, max(1.0, 40 * share)
    win1, win10 = max_in_window(log, "apigateway", 1.0), max_in_window(log, "apigateway", 10.0)
    full, full_which = lower_bound(calls, 1.0)
    half, half_which = lower_bound(calls, share)
    deployments = calls.get(("apigateway", "CreateDeployment"), 0)
    row = show(
        f"cold create under quotas={args.quotas}, budget {args.budget}",
        calls,
        n,
        top=12,
        note=f"wall {wall:.1f} s, {args.workers} workers, not converged {failed}",
    )
    print(
        f"  throttled attempts: client {attempts_throttled} {dict(throttled)}; sandbox log "
        f"{logged_throttled} of {len(log)} requests; retries {100 * attempts_throttled / total:.1f}"
        f" % of calls"
    )
    print(
        f"  API Gateway calls in any 1 s: {win1} (budget bound {api_rate:g}/s x 1 s + burst "
        f"{api_burst:g} = {api_rate + api_burst:g}); in any 10 s: {win10} (bound "
        f"{10 * api_rate + api_burst:g})"
    )
    print(
        f"  CreateDeployment calls {deployments}: 5 s each at AWS's rate = {5 * deployments} s, "
        f"{5 / share * deployments:g} s at the budget's share"
    )
    print(
        f"  quota lower bound over the calls made: {full:.0f} s at AWS's rates ({full_which}), "
        f"{half:.0f} s at share {share:g} ({half_which}); wall / bound "
        f"{ratio(wall, full):.2f} and {ratio(wall, half):.2f}"
    )
    return row | {
        "n": n,
        "wall": wall,
        "failed": failed,
        "calls": total,
        "throttled_client": attempts_throttled,
        "throttled_log": logged_throttled,
        "requests": len(log),
        "retry_pct": 100 * attempts_throttled / total,
        "win1": win1,
        "win10": win10,
        "bound1": api_rate + api_burst,
        "bound10": 10 * api_rate + api_burst,
        "deployments": deployments,
        "lb_full": (full, full_which),
        "lb_share": (half, half_which),
    }


def summary(rows: list[dict[str, Any]], quota: dict[str, Any] | None) -> None:
    """Markdown tables of the figures."""
    print("\n## Summary (calls per spec)\n")
    print("| N | phase | total | apigateway (v1+v2) | elbv2 | ec2 | ecs | iam | logs | other |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        for phase in ("create", "plan", "apply", "first", "resync", "sweep", "repair"):
            f = row[phase]
            cells = " | ".join(f"{f[s]:.1f}" for s in (*SERVICES, "other"))
            print(f"| {row['n']} | {phase} | {f['total']:.1f} | {cells} |")
    print("\n| N | round | wall s | CPU ms/spec (process) | CPU ms/spec (controller) | RSS MiB |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        for phase in ("resync", "sweep"):
            f = row[phase]
            print(
                f"| {row['n']} | {phase} | {f['wall']:.2f} | {f['cpu_ms']:.1f} | "
                f"{f['thread_ms']:.1f} | {f['rss']:.0f} (peak {f['peak']:.0f}) |"
            )
    if quota:
        q = quota
        print(f"\n| quota run, N={q['n']} | value |\n|---|---|")
        print(f"| wall | {q['wall']:.1f} s (not converged {q['failed']}) |")
        print(f"| calls / requests logged | {q['calls']} / {q['requests']} |")
        print(
            f"| throttled (client / sandbox log) | {q['throttled_client']} / {q['throttled_log']} |"
        )
        print(f"| retries | {q['retry_pct']:.1f} % of calls |")
        print(f"| max API Gateway calls in 1 s | {q['win1']} (bound {q['bound1']:g}) |")
        print(f"| max API Gateway calls in 10 s | {q['win10']} (bound {q['bound10']:g}) |")
        print(f"| lower bound, AWS rates | {q['lb_full'][0]:.0f} s ({q['lb_full'][1]}) |")
        print(f"| lower bound, budget share | {q['lb_share'][0]:.0f} s ({q['lb_share'][1]}) |")


def main() -> int:
    """Parse, start one sandbox, run every size, then the quota run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,50", help="comma-separated N (default 1,10,50)")
    parser.add_argument("--workers", type=int, default=8, help="specs created at once")
    parser.add_argument("--parallel", type=int, default=4, help="plan/apply/resync at once")
    parser.add_argument("--timeout", type=float, default=600.0, help="apply timeout per spec")
    parser.add_argument("--quotas", default="aws", help="quotas of part 5 (off skips it)")
    parser.add_argument("--quota-n", type=int, default=10)
    parser.add_argument("--quota-timeout", type=float, default=1800.0)
    parser.add_argument("--budget", default="share=0.5", help="the controller's budget in part 5")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    logsetup.configure("error")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    rows: list[dict[str, Any]] = []
    quota = None
    with Sandbox(vpc_link_seconds=1.0) as sandbox:
        os.environ.update(sandbox.access().env)  # the sandbox's credentials and region
        for n in sizes:
            rows.append(one_size(sandbox, n, args))
            sys.stdout.flush()
        if args.quotas != "off" and args.quota_n > 0:
            quota = quota_run(sandbox, args)
    summary(rows, quota)
    return 1 if any(r["apply_mutating"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
