"""The Kubernetes source's cost to the API server: requests per spec, to Ready and at rest.

    python benchmarks/kube_source.py [--specs 20] [--rest-seconds 30]

The controller runs in process on the sandbox (moto over HTTP) and on the test suite's fake API
server (tests/kube/apiserver.py, which records every request), with a Lease for leader election:

1. `--specs` PrivateService objects created at once: seconds until all are Ready (status written
   by the controller), and the API server requests it took, by method and resource.
2. Then `--rest-seconds` with nothing to do (resync 5 s): requests per spec per resync (status
   writes should be 0; reads are the Lease's), and the Lease's own traffic per minute.
The API server's load, not the controller's CPU, is what a cluster operator budgets.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from lightkube import AsyncClient, KubeConfig

from controller import logging as logsetup
from controller.aws.session import AwsContext, AwsSettings
from controller.kube.lease import KubeLease
from controller.kube.source import KubernetesSource
from controller.runtime.controller import Controller
from controller.runtime.main import make_dispatcher
from controller.runtime.settings import RuntimeSettings
from controller.sandbox import Sandbox

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from kube.apiserver import FakeApiServer  # noqa: E402 - test code, found through sys.path

EXAMPLE = ROOT / "examples" / "orders-rest-nlb.yaml"


def _kind(path: str) -> str:
    """`privateservices`, `privateservices/status`, `events`, `leases` from a request path."""
    parts = path.strip("/").split("/")
    if "namespaces" in parts:
        parts = parts[parts.index("namespaces") + 2 :]
    else:
        parts = parts[3:] if parts[0] == "apis" else parts[2:]
    return parts[0] + ("/" + parts[2] if len(parts) > 2 else "")


def _tally(requests: list[Any]) -> Counter[str]:
    return Counter(f"{r.method} {_kind(r.path)}" for r in requests)


async def run(specs: int, rest_seconds: float) -> None:
    with Sandbox() as sandbox, FakeApiServer() as api, tempfile.TemporaryDirectory() as tmp:
        api.register_crd(yaml.safe_load((ROOT / "crds" / "privateservice.yaml").read_text()))
        config = KubeConfig.from_file(api.write_kubeconfig(Path(tmp) / "kubeconfig"))
        os.environ.update(sandbox.env())  # credentials and region of the sandbox
        access = sandbox.access()
        aws = AwsContext(
            AwsSettings(
                region=access.region, endpoint_url=access.endpoint_url, read_cache_seconds=2
            )
        )
        settings = RuntimeSettings(listen_host="127.0.0.1", listen_port=0, poll_seconds=10)
        source = KubernetesSource(lambda: AsyncClient(config=config), holder="bench")
        lease = KubeLease(AsyncClient(config=config), "psctl", "bench", holder="bench")
        controller = Controller(source, aws, settings, make_dispatcher(aws, settings), lease)
        task = asyncio.create_task(controller.run())
        base = yaml.safe_load(EXAMPLE.read_text())
        start = time.monotonic()
        for i in range(specs):
            doc = copy.deepcopy(base)
            doc["metadata"].update(name=f"svc-{i:03d}", namespace="shop")
            doc["spec"]["drift"] = {"resyncSeconds": 5}
            api.create(doc)

        def ready() -> int:
            return sum(
                (o.get("status") or {}).get("phase") == "Ready"
                for o in api.objects("privateservices")
            )

        while ready() < specs:
            await asyncio.sleep(0.5)
        took = time.monotonic() - start
        to_ready = _tally(api.requests)
        print(f"{specs} specs Ready in Kubernetes after {took:.1f} s")
        print("API requests from creation to Ready (all specs):")
        for key, n in sorted(to_ready.items()):
            print(f"  {key:40s} {n:5d}  ({n / specs:.1f} per spec)")

        await asyncio.sleep(6)  # the verification passes after convergence
        api.clear_requests()
        await asyncio.sleep(rest_seconds)
        at_rest = _tally(api.requests)
        resyncs = rest_seconds / 5
        print(f"at rest for {rest_seconds:.0f} s (resync 5 s, {resyncs:.0f} resyncs per spec):")
        for key, n in sorted(at_rest.items()):
            print(f"  {key:40s} {n:5d}")
        writes = sum(
            n for key, n in at_rest.items() if not key.startswith("GET") and "lease" not in key
        )
        lease_calls = sum(n for key, n in at_rest.items() if "leases" in key)
        per_resync = writes / specs / resyncs
        print(f"  status/finalizer/event writes per spec per resync: {per_resync:.2f}")
        print(f"  Lease requests per minute: {lease_calls * 60 / rest_seconds:.0f}")
        controller.stop()
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=20)
    parser.add_argument("--rest-seconds", type=float, default=30.0)
    args = parser.parse_args()
    logsetup.configure("warning", "console")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    asyncio.run(run(args.specs, args.rest_seconds))


if __name__ == "__main__":
    main()
