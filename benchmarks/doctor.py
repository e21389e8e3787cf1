"""Diagnose N chains of the seed-000 shape on the sandbox; print AWS calls per chain, by operation.

    python benchmarks/doctor.py [--chains 10] [--workers 4]

Applies N copies of examples/orders-rest-nlb.yaml (REST API -> VPC link -> NLB -> Fargate, usage
plan and keys), then diagnoses them twice, each time in a context of its own as two `psctl
doctor` runs would: from the specs (`doctor -f`, which also pays for the engine's dry pass that
finds each spec's chain) and from each REST API (`doctor --rest-api`, a chain built by anything).
The figure that matters is reads per chain (issue 13: about 60 at most for this shape), and that
none of the sandbox's logged calls mutates. Collections (usage plans, API keys, the VPC's subnets,
groups, route tables, ACLs, endpoints, every ECS service) are read once per run, by the first
chain that needs them, so later chains cost less: first, median and last are printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from apply_n import specs

from controller import logging as logsetup
from controller.aws.cache import PASS_SECONDS
from controller.aws.session import AwsContext, AwsSettings, is_mutating
from controller.doctor.checks import run_checks
from controller.doctor.discover import Discovery
from controller.doctor.facts import Facts
from controller.reconcile.runner import Reconciler
from controller.sandbox import Sandbox
from controller.spec.models import PrivateService


def report(label: str, chains: list[Facts], wall: float, mutating: list[str]) -> None:
    """Calls per chain (first, median, last, by operation on average), findings, mutations."""
    n = len(chains)
    per = [sum(f.calls.values()) for f in chains]
    total: Counter[str] = Counter()
    for f in chains:
        total.update(f.calls)
    findings = Counter(x.code for f in chains for x in run_checks(f))
    print(f"\n== {label}: {n} chains, {wall:.2f} s ({wall / n:.3f} s per chain) ==")
    print(
        f"AWS calls {sum(per)} ({sum(per) / n:.1f} per chain): first {per[0]}, "
        f"median {statistics.median(per):.0f}, last {per[-1]}, max {max(per)}; "
        f"mutating calls logged by the sandbox: {len(mutating)}"
    )
    print(f"hops per chain: {Counter(len(f.hops) for f in chains)}; findings: {dict(findings)}")
    for call, count in sorted(total.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"    {call:<48} {count / n:6.2f} per chain  (first chain: {chains[0].calls[call]})")


def main() -> int:
    """Parse, start the sandbox, apply the chains, diagnose them both ways."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chains", type=int, default=10)
    args = parser.parse_args()
    logsetup.configure("error")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Sandbox(vpc_link_seconds=0.5) as sandbox:
        access = sandbox.access()
        os.environ.update(access.env)

        def context() -> AwsContext:
            return AwsContext(
                AwsSettings(
                    region=access.region,
                    endpoint_url=access.endpoint_url,
                    read_cache_seconds=PASS_SECONDS,  # as the command line's context
                )
            )

        services: list[PrivateService] = specs(args.chains)
        setup = context()
        for ps in services:
            result = Reconciler(ps, setup, max_requeue=0.5).apply(300)
            assert result.converged, result.reason
        api_ids = [Reconciler(ps, setup).plan().outputs["rest-api"]["id"] for ps in services]
        for label, diagnose in (
            ("doctor -f (spec)", lambda d, i: d.spec(services[i])),
            ("doctor --rest-api", lambda d, i: d.rest_api(api_ids[i])),
        ):
            sandbox.clear_call_log()
            found = Discovery(context())
            start = time.perf_counter()
            chains = [diagnose(found, i) for i in range(args.chains)]
            wall = time.perf_counter() - start
            mutating = [c.operation for c in sandbox.call_log() if is_mutating(c.operation)]
            report(label, chains, wall, mutating)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
