"""Apply N services from scratch on the sandbox, then re-apply them; print time and AWS calls.

    python benchmarks/apply_n.py [--services 20] [--workers 4]

The AWS control-plane quotas (shared/notes/moto-fidelity.md) bound a controller long before CPU
does, so the figures that matter are calls per service, by service and operation, and how many
of them mutate. Wall time on moto is a floor, not a forecast: AWS calls take longer.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from controller import logging as logsetup
from controller.aws.session import AwsContext, AwsSettings, is_mutating
from controller.reconcile.runner import Reconciler
from controller.sandbox import Sandbox
from controller.spec.loader import parse_object
from controller.spec.models import PrivateService

EXAMPLE = Path(__file__).parents[1] / "examples" / "orders-rest-nlb.yaml"


def specs(n: int) -> list[PrivateService]:
    """N copies of the orders example with distinct names."""
    base = yaml.safe_load(EXAMPLE.read_text())
    out = []
    for i in range(n):
        doc = copy.deepcopy(base)
        doc["metadata"]["name"] = f"orders-{i:03d}"
        loaded = parse_object(doc, f"bench-{i}")
        assert loaded.spec is not None
        out.append(loaded.spec)
    return out


def run(label: str, services: list[PrivateService], aws: AwsContext, workers: int) -> None:
    """Apply every service (in parallel across services) and print the figures."""
    before = aws.counter.snapshot()
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(
            pool.map(lambda ps: Reconciler(ps, aws, max_requeue=0.5).apply(300), services)
        )
    wall = time.perf_counter() - start
    calls = aws.counter.snapshot() - before
    failed = [r.reason for r in results if not r.converged]
    n = len(services)
    total = sum(calls.values())
    mutating = sum(v for (_, op), v in calls.items() if is_mutating(op))
    print(f"\n== {label}: {n} services, {workers} workers ==")
    print(
        f"wall time {wall:.2f} s ({wall / n:.3f} s per service); "
        f"passes per service: {Counter(r.passes for r in results)}"
    )
    print(
        f"AWS calls {total} ({total / n:.1f} per service), mutating {mutating} "
        f"({mutating / n:.1f} per service); not converged: {len(failed)}"
    )
    by_service: Counter[str] = Counter()
    for (service, _), count in calls.items():
        by_service[service] += count
    for service, count in by_service.most_common():
        print(f"  {service:<12} {count / n:7.1f} per service")
        for (svc, op), c in sorted(calls.items(), key=lambda kv: -kv[1]):
            if svc == service:
                flag = "*" if is_mutating(op) else " "
                print(f"      {flag} {op:<40} {c / n:6.2f}")
    if failed:
        print("failures:", failed[:3], file=sys.stderr)


def main() -> int:
    """Parse, start the sandbox, run both rounds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--read-cache", type=float, default=5.0)
    args = parser.parse_args()
    logsetup.configure("error")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Sandbox(vpc_link_seconds=1.0) as sandbox:
        access = sandbox.access()
        os.environ.update(access.env)  # the sandbox's credentials and region
        settings = AwsSettings(
            region=access.region,
            endpoint_url=access.endpoint_url,
            read_cache_seconds=args.read_cache,
        )
        services = specs(args.services)
        # each round in a context of its own, as two `psctl apply` runs would be
        run("apply from scratch", services, AwsContext(settings), args.workers)
        run("re-apply, nothing to do", services, AwsContext(settings), args.workers)
    print("\n(* = mutating)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
