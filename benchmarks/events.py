"""Event-driven drift on the sandbox with emulated CloudTrail (issue 12): latency, calls, passes.

    python benchmarks/events.py [--sizes 1,10,50] [--changes 10] [--rest-seconds 60]

For each N: N copies of the orders example under `psctl run --events` (the queue installed as
`psctl events install` does, backstop `--full-resync` 600 s, read snapshot 10 s as by default),
all Ready, then:
1. change -> corrected: `--changes` target-group health-check paths changed by another principal
   (key `alice`, so the sandbox emits CloudTrail events ~1 s later), staggered; p50/p95/max of
   the time from the change to the path read back as specified;
2. passes per event: passes of the changed spec per change, and passes of every other spec
   during part 1 (should be 0);
3. API Gateway calls at rest per service per minute: measured over `--rest-seconds` with
   nothing changing, and the steady state with the backstop (API Gateway calls of one forced
   full read of every spec, per spec, times 60 / 600);
4. 100 events within one second for one spec (synthetic CloudTrail messages naming its target
   group): the passes they cause.
Prints one table and a JSON line per N.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import yaml

from controller import logging as logsetup
from controller.aws import events_setup
from controller.aws.session import AwsContext, AwsSettings
from controller.runtime.controller import Controller
from controller.runtime.main import make_dispatcher
from controller.runtime.settings import RuntimeSettings
from controller.runtime.slots import Wake
from controller.sandbox import Sandbox
from controller.sources.directory import DirectorySource
from controller.sources.sqs_events import SqsEventSource

EXAMPLE = Path(__file__).parents[1] / "examples" / "orders-rest-nlb.yaml"
FULL_RESYNC = 600.0


def write_specs(directory: Path, n: int) -> list[str]:
    """n copies of the orders example; returns their owners."""
    base = yaml.safe_load(EXAMPLE.read_text())
    for i in range(n):
        doc = copy.deepcopy(base)
        doc["metadata"]["name"] = f"svc-{i:03d}"
        (directory / f"svc-{i:03d}.yaml").write_text(yaml.safe_dump(doc))
    return [f"shop/svc-{i:03d}" for i in range(n)]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def until(check: Any, timeout: float, what: str) -> float:
    """Seconds until `check()` is true."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out after {timeout} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def apigw_calls(sandbox: Sandbox) -> int:
    """API Gateway (v1 and v2) calls the sandbox served since its log was cleared."""
    return sum(c.family == "apigateway" for c in sandbox.call_log())


async def one_size(sandbox: Sandbox, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Parts 1-4 for n specs."""
    sandbox.reset()
    access = sandbox.access()
    aws_settings = AwsSettings(region=access.region, endpoint_url=access.endpoint_url)
    installed = events_setup.install(AwsContext(aws_settings))
    alice = boto3.client(
        "elbv2",
        endpoint_url=access.endpoint_url,
        region_name=access.region,
        aws_access_key_id="alice",
        aws_secret_access_key="alice-secret",  # the sandbox accepts any secret
    )
    with tempfile.TemporaryDirectory() as tmp:
        owners = write_specs(Path(tmp), n)
        settings = RuntimeSettings(
            listen_host="127.0.0.1",
            listen_port=0,
            poll_seconds=1.0,
            max_requeue_seconds=1.0,
            full_resync_seconds=FULL_RESYNC,
            contested_corrections=10_000,  # the same field changed again and again on purpose
        )
        aws = AwsContext(
            AwsSettings(
                region=access.region,
                endpoint_url=access.endpoint_url,
                read_cache_seconds=settings.read_cache_seconds,
            )
        )
        source = SqsEventSource(installed.queue_url, AwsContext(aws.settings))
        controller = Controller(
            DirectorySource(Path(tmp)), aws, settings, make_dispatcher(aws, settings), None, source
        )
        task = asyncio.create_task(controller.run())
        states = controller.states

        def ready() -> bool:
            return all(o in states and states[o].status.get("phase") == "Ready" for o in owners)

        took = await until(ready, 1800, f"{n} specs Ready")
        await asyncio.sleep(3)  # verify passes done

        # 1-2: change -> corrected, passes per event
        elb = access.client("elbv2")
        arns = [
            elb.describe_target_groups(Names=[f"ps-shop-svc-{i:03d}-tg"])["TargetGroups"][0][
                "TargetGroupArn"
            ]
            for i in range(n)
        ]
        latencies, own_passes, other_passes = [], [], 0
        for k in range(args.changes):
            i = k % n
            before = {o: states[o].passes for o in owners}
            alice.modify_target_group(TargetGroupArn=arns[i], HealthCheckPath="/console-edit")
            changed = time.monotonic()

            def back(arn: str = arns[i]) -> bool:
                tg = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
                return bool(tg["HealthCheckPath"] != "/console-edit")

            await until(back, 60, "correction")
            latencies.append(time.monotonic() - changed)
            await asyncio.sleep(1.5)  # the verify pass, and any late pass, land here
            own_passes.append(states[owners[i]].passes - before[owners[i]])
            other_passes += sum(states[o].passes - before[o] for o in owners if o != owners[i])

        # 3: API Gateway calls at rest
        sandbox.clear_call_log()
        await asyncio.sleep(args.rest_seconds)
        rest = apigw_calls(sandbox) / n / (args.rest_seconds / 60)
        await asyncio.sleep(settings.read_cache_seconds + 0.5)  # a full read reads afresh
        sandbox.clear_call_log()
        before = {o: states[o].passes for o in owners}
        for w in controller.workers.values():
            w.poke(Wake.RESYNC)
        await until(lambda: all(states[o].passes > before[o] for o in owners), 600, "full read")
        await asyncio.sleep(1)
        per_read = apigw_calls(sandbox) / n
        steady = per_read * 60 / FULL_RESYNC

        # 4: 100 events within one second for one spec
        sent_in, burst_passes, burst_event_passes = await burst(
            controller, access, installed.queue_url, owners[0], arns[0]
        )

        controller.stop()
        await task
    row = {
        "specs": n,
        "readySeconds": round(took, 1),
        "changes": len(latencies),
        "p50": round(statistics.median(latencies), 2),
        "p95": round(pct(latencies, 0.95), 2),
        "max": round(max(latencies), 2),
        "passesPerEvent": round(statistics.mean(own_passes), 2),
        "otherSpecsPasses": other_passes,
        "apigwCallsPerSpecPerMinuteAtRest": round(rest, 3),
        "apigwCallsPerFullRead": round(per_read, 1),
        "apigwCallsPerSpecPerMinuteSteady": round(steady, 3),
        "burst100SentSeconds": round(sent_in, 2),
        "burst100Passes": burst_passes,
        "burst100EventPasses": burst_event_passes,
    }
    print(json.dumps(row), flush=True)
    return row


async def burst(
    controller: Controller, access: Any, queue_url: str, target: str, tg_arn: str
) -> tuple[float, int, float]:
    """Part 4: (seconds to send, passes of `target`, of which started by an event)."""
    states = controller.states
    await asyncio.sleep(2)
    before_burst = states[target].passes
    event_passes = controller.router.metrics.passes  # type: ignore[union-attr]
    before_event_passes = event_passes._value.get()  # type: ignore[attr-defined]
    routed = controller.router.metrics.received.labels("routed")  # type: ignore[union-attr]
    base = routed._value.get()  # type: ignore[attr-defined]
    sqs = access.client("sqs")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    start = time.monotonic()
    for batch in range(10):
        entries = []
        for j in range(10):
            detail = {
                "eventSource": "elasticloadbalancing.amazonaws.com",
                "eventName": "ModifyTargetGroup",
                "eventTime": stamp,
                "userIdentity": {
                    "arn": "arn:aws:iam::123456789012:user/alice",
                    "accessKeyId": "alice",
                },
                "requestParameters": {"targetGroupArn": tg_arn},
            }
            body = {"detail-type": "AWS API Call via CloudTrail", "detail": detail}
            entries.append({"Id": f"{batch}-{j}", "MessageBody": json.dumps(body)})
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    sent_in = time.monotonic() - start
    await until(lambda: routed._value.get() - base >= 100, 60, "100 events routed")  # type: ignore[attr-defined]
    await asyncio.sleep(3)
    burst_passes = states[target].passes - before_burst
    burst_event_passes = event_passes._value.get() - before_event_passes  # type: ignore[attr-defined]
    return sent_in, burst_passes, burst_event_passes


def main() -> int:
    """Every size on one sandbox (reset between them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--rest-seconds", type=float, default=60)
    args = parser.parse_args()
    logsetup.configure(os.environ.get("PSCTL_BENCH_LOG", "error"))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    rows = []
    with Sandbox(vpc_link_seconds=1.0) as sandbox:
        os.environ.update(sandbox.access().env)
        for n in (int(s) for s in args.sizes.split(",")):
            rows.append(asyncio.run(one_size(sandbox, n, args)))
    print(
        "\n| specs | change -> corrected p50 / p95 / max | passes per event | other specs' "
        "passes | API GW calls/spec/min at rest (measured / steady) | 100 events -> passes |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['specs']} | {r['p50']} / {r['p95']} / {r['max']} s | {r['passesPerEvent']} | "
            f"{r['otherSpecsPasses']} | {r['apigwCallsPerSpecPerMinuteAtRest']} / "
            f"{r['apigwCallsPerSpecPerMinuteSteady']} | {r['burst100Passes']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
