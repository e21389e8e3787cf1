"""The continuous controller on the sandbox: drift latency, calls per resync, idle footprint.

    python benchmarks/controller_run.py [--specs 20] [--rest-specs 11] [--idle-specs 200]

1. `--specs` services with `resyncSeconds: 5`: one drift each (a target group's health check
   path changed behind the controller's back), at staggered times; prints the median and p95 of
   the time from the change to its correction.
2. The same services with nothing to do: AWS calls per spec per resync, by service.
3. `--rest-specs` services at the default resync (60 s), nothing to do: AWS calls per spec per
   minute by service over `--rest-seconds`.
4. `psctl run` as a separate process with `--idle-specs` converged services and nothing to do:
   its resident memory and CPU time over `--idle-seconds` (moto's own cost is not counted), and
   when the first of them was Ready.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from controller import logging as logsetup
from controller.aws.session import AwsContext, AwsSettings
from controller.runtime.controller import Controller
from controller.runtime.main import make_dispatcher
from controller.runtime.settings import RuntimeSettings
from controller.sandbox import Sandbox
from controller.sources.directory import DirectorySource

EXAMPLE = Path(__file__).parents[1] / "examples" / "orders-rest-nlb.yaml"


def write_specs(directory: Path, n: int, resync: int) -> list[str]:
    """n copies of the orders example; returns their owners."""
    base = yaml.safe_load(EXAMPLE.read_text())
    owners = []
    for i in range(n):
        doc = copy.deepcopy(base)
        doc["metadata"]["name"] = f"svc-{i:03d}"
        doc["spec"]["drift"] = {"resyncSeconds": resync}
        (directory / f"svc-{i:03d}.yaml").write_text(yaml.safe_dump(doc))
        owners.append(f"shop/svc-{i:03d}")
    return owners


async def wait_ready(controller: Controller, owners: list[str], timeout: float) -> float:
    """Seconds until every owner is Ready."""
    start = time.monotonic()
    while True:
        ready = sum(
            controller.states.get(o) is not None
            and controller.states[o].status.get("phase") == "Ready"
            for o in owners
        )
        if ready == len(owners):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {ready}/{len(owners)} Ready after {timeout} s")
        await asyncio.sleep(0.5)


async def started(
    access: Any, directory: Path, settings: RuntimeSettings, owners: list[str]
) -> tuple[AwsContext, Controller, asyncio.Task[None]]:
    """A controller in this process on `directory`, once every owner is Ready."""
    aws = AwsContext(
        AwsSettings(
            region=access.region,
            endpoint_url=access.endpoint_url,
            read_cache_seconds=settings.read_cache_seconds,
        )
    )
    dispatcher = make_dispatcher(aws, settings)
    controller = Controller(DirectorySource(directory), aws, settings, dispatcher)
    task = asyncio.create_task(controller.run())
    took = await wait_ready(controller, owners, 900)
    print(f"\n{len(owners)} services Ready from scratch in {took:.1f} s")
    return aws, controller, task


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def latency_and_calls(access: Any, n: int) -> None:
    """Parts 1 and 2."""
    with tempfile.TemporaryDirectory() as tmp:
        owners = write_specs(Path(tmp), n, resync=5)
        settings = RuntimeSettings(
            listen_host="127.0.0.1", listen_port=0, poll_seconds=1.0, max_requeue_seconds=1.0
        )
        aws, controller, task = await started(access, Path(tmp), settings, owners)

        await asyncio.sleep(2)
        before, start = aws.counter.snapshot(), time.monotonic()
        await asyncio.sleep(15)
        calls = aws.counter.snapshot() - before
        resyncs = n * (time.monotonic() - start) / 5
        print(f"\n== AWS calls per spec per resync, nothing to do ({resyncs:.0f} resyncs) ==")
        by_service: Counter[str] = Counter()
        for (service, _), count in calls.items():
            by_service[service] += count
        print(f"  total {sum(calls.values()) / resyncs:6.1f}")
        for service, count in by_service.most_common():
            print(f"  {service:<12} {count / resyncs:6.1f}")

        elb = access.client("elbv2")
        names = [f"ps-shop-svc-{i:03d}-tg" for i in range(n)]
        arns = {
            name: elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
            for name in names
        }
        latencies: list[float] = []
        for name in names:
            elb.modify_target_group(TargetGroupArn=arns[name], HealthCheckPath="/drifted")
            changed = time.monotonic()
            while (
                elb.describe_target_groups(Names=[name])["TargetGroups"][0]["HealthCheckPath"]
                == "/drifted"
            ):
                await asyncio.sleep(0.05)
            latencies.append(time.monotonic() - changed)
            await asyncio.sleep(0.25)  # stagger the drifts over the resync cycle
        print(f"\n== drift to correction, {n} services, resyncSeconds 5 ==")
        print(
            f"  median {statistics.median(latencies):.2f} s, p95 {pct(latencies, 0.95):.2f} s, "
            f"max {max(latencies):.2f} s"
        )
        controller.stop()
        await task


async def at_rest(access: Any, n: int, seconds: float, warmup: float = 150.0) -> None:
    """Part 4: n services at the default resync (60 s), nothing to do, no event source: AWS
    calls per spec per minute by service over `seconds` (the issue-9 target: <= 4 API Gateway
    calls per spec per minute with 11 specs)."""
    with tempfile.TemporaryDirectory() as tmp:
        owners = write_specs(Path(tmp), n, resync=60)
        settings = RuntimeSettings(listen_host="127.0.0.1", listen_port=0, poll_seconds=10.0)
        aws, controller, task = await started(access, Path(tmp), settings, owners)
        # the passes that made them Ready are behind us, and the pacer has measured what a
        # routine check costs (until then it spaces the checks by what the creates cost)
        await asyncio.sleep(warmup)
        before, start = aws.counter.snapshot(), time.monotonic()
        await asyncio.sleep(seconds)
        minutes = (time.monotonic() - start) / 60
        calls = aws.counter.snapshot() - before
        by_service: Counter[str] = Counter()
        for (service, _), count in calls.items():
            by_service[service.replace("apigatewayv2", "apigateway")] += count
        print(f"\n== at rest, {n} services, resyncSeconds 60, over {minutes:.1f} min ==")
        print(f"  calls per spec per minute: total {sum(calls.values()) / n / minutes:.2f}")
        for service, count in by_service.most_common():
            print(f"  {service:<16} {count / n / minutes:6.2f}")
        print("  by operation (API Gateway and ELB):")
        for (service, op), count in calls.most_common():
            if service.startswith(("apigateway", "elbv2")):
                print(f"    {service:<13} {op:<32} {count / n / minutes:6.2f}")
        controller.stop()
        await task


def idle_footprint(access: Any, n: int, seconds: float, args_timeout: float = 1800) -> None:
    """Part 3: a `psctl run` process with n converged services and nothing to do (the first
    Ready is printed as it happens; all must be Ready within `args_timeout` seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        owners = write_specs(Path(tmp), n, resync=60)
        env = os.environ | access.env
        port = _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controller",
                "run",
                "--source",
                tmp,
                "--listen",
                f"127.0.0.1:{port}",
                "--poll-seconds",
                "10",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            start, first = time.monotonic(), None
            while (ready := _ready_count(port)) < len(owners):
                if first is None and ready:
                    first = time.monotonic() - start
                    print(f"\nfirst service Ready after {first:.0f} s", flush=True)
                if time.monotonic() - start > args_timeout:
                    print(
                        f"{ready} of {n} Ready after {time.monotonic() - start:.0f} s; "
                        f"resident memory {_rss_mib(proc.pid):.0f} MiB"
                    )
                    raise SystemExit(
                        f"the idle services did not all become Ready in {args_timeout} s"
                    )
                time.sleep(5)
            print(f"\n{n} services Ready in {time.monotonic() - start:.0f} s (psctl run process)")
            time.sleep(10)
            cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)
            cpu1, t1 = _cpu_seconds(proc.pid), time.monotonic()
            print(f"\n== psctl run, {n} services, nothing to do, over {t1 - t0:.0f} s ==")
            print(
                f"  resident memory {_rss_mib(proc.pid):.0f} MiB; CPU "
                f"{cpu1 - cpu0:.1f} s ({100 * (cpu1 - cpu0) / (t1 - t0):.1f} % of one core)"
            )
        finally:
            proc.terminate()
            proc.wait(30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready_count(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as resp:
            items = json.load(resp)["items"]
    except OSError:
        return 0
    return sum(i.get("status", {}).get("phase") == "Ready" for i in items)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    """Run the parts on one sandbox (reset between them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", type=int, default=20)
    parser.add_argument("--idle-specs", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--ready-timeout", type=float, default=1800)
    parser.add_argument("--rest-specs", type=int, default=11)
    parser.add_argument("--rest-seconds", type=float, default=180)
    parser.add_argument("--rest-warmup", type=float, default=150)
    args = parser.parse_args()
    logsetup.configure("error")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Sandbox(vpc_link_seconds=1.0) as sandbox:
        access = sandbox.access()
        os.environ.update(access.env)
        if args.specs:
            asyncio.run(latency_and_calls(access, args.specs))
        if args.rest_specs:
            sandbox.reset()
            rest = at_rest(sandbox.access(), args.rest_specs, args.rest_seconds, args.rest_warmup)
            asyncio.run(rest)
        if args.idle_specs:
            sandbox.reset()
            idle_footprint(sandbox.access(), args.idle_specs, args.idle_seconds, args.ready_timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
