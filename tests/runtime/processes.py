"""`psctl run` as separate processes, for the leader-election tests of both backends.

`Process` starts one (`python -m controller run ARGS --listen 127.0.0.1:<free port>`) and reads
its /status, /healthz and /metrics; `Sampler` reads two processes' /status every 50 ms and counts
any moment both claim to lead.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One `psctl run` process and its HTTP endpoints."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        environ = os.environ | env
        environ.pop("POD_NAMESPACE", None)
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controller",
                "run",
                *args,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--poll-seconds",
                "1",
            ],
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return bytes(r.read())
        except (urllib.error.URLError, OSError):
            return None

    def leader(self) -> bool:
        body = self._get("/status")
        return body is not None and bool(json.loads(body)["leader"])

    def up(self) -> bool:
        return self._get("/healthz") is not None

    def metric(self, name: str) -> float:
        body = self._get("/metrics") or b""
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.decode().splitlines()
            if line.startswith(f"{name}{{") or line.startswith(f"{name} ")
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class Sampler:
    """Reads both processes' /status every 50 ms; records any moment both lead."""

    def __init__(self, a: Process, b: Process) -> None:
        self.a, self.b, self.both, self.samples = a, b, 0, 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            a, b = await asyncio.gather(
                asyncio.to_thread(self.a.leader), asyncio.to_thread(self.b.leader)
            )
            self.samples += 1
            self.both += a and b
            await asyncio.sleep(0.05)
