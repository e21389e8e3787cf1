"""`scripts/sandbox-demo` when 4566 and 8080 are both taken (issue 15, items 5 and 7): it still
starts, on free ports it names, its controller answers /status there and says when a spec is
Ready."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _taken(stack: ExitStack, port: int) -> None:
    """Hold `port` on 127.0.0.1 for the test (when someone else holds it, it is taken too)."""
    busy = stack.enter_context(socket.socket())
    try:
        busy.bind(("127.0.0.1", port))
        busy.listen()
    except OSError:
        pass


def _demo_tree(tmp_path: Path) -> Path:
    """The real script in a tree whose bootstrap does nothing (the venv is ready): the test
    never installs anything."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "sandbox-demo", tmp_path / "scripts")
    bootstrap = tmp_path / "scripts" / "bootstrap"
    bootstrap.write_text("#!/usr/bin/env bash\nexit 0\n")
    bootstrap.chmod(0o755)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path / "scripts" / "sandbox-demo"


def test_demo_runs_when_4566_and_8080_are_taken(tmp_path: Path):
    """Both default ports held: the demo names the ports it uses instead, its sandbox and
    controller come up there (/status answers with the examples, the log says when a spec is
    Ready and where), and Ctrl-C stops it."""
    script = _demo_tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with ExitStack() as stack:
        _taken(stack, 4566)
        _taken(stack, 8080)
        with out_path.open("w") as out, err_path.open("w") as err:
            proc = subprocess.Popen(
                [str(script)], env=env, stdout=out, stderr=err, start_new_session=True
            )
        try:
            deadline, items, ready = time.monotonic() + 180, [], None
            while time.monotonic() < deadline and proc.poll() is None and not (items and ready):
                ready = re.search(
                    r"\w+/\w+ Ready: https://\S+ \(\d+ passes, \d+ s\)", err_path.read_text()
                )
                found = re.search(r"/status is on 127\.0\.0\.1:(\d+)", err_path.read_text())
                if found:
                    url = f"http://127.0.0.1:{found[1]}/status"
                    try:
                        with urllib.request.urlopen(url, timeout=5) as resp:
                            items = json.load(resp)["items"]
                    except OSError:
                        pass
                time.sleep(0.5)
            stderr = err_path.read_text()
            assert "# 4566 is taken: the sandbox listens on " in stderr, stderr[-3000:]
            assert items, stderr[-3000:]
            assert ready, stderr[-3000:]  # the terminal says when a spec is Ready, and where
            assert "Traceback" not in stderr
            port = re.search(r"the sandbox listens on (\d+)", stderr)
            assert port is not None
            assert f"AWS_ENDPOINT_URL=http://127.0.0.1:{port[1]}" in out_path.read_text()
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=60)
    assert code == 0, err_path.read_text()[-3000:]
