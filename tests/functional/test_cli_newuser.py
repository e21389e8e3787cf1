"""What a new user trips over (issue 15), through `psctl` in a subprocess as a user runs it:
`$default` HTTP stages, every problem in one validate, duplicate specs, no tracebacks."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import yaml
from chain import orders

ROOT = Path(__file__).parents[2]


def psctl(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`psctl ARGS` in a subprocess (python -m controller), text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "controller", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def write(tmp_path: Path, doc: dict[str, Any], name: str = "svc.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def test_http_api_default_stage_is_valid(tmp_path: Path):
    """`stageName: "$default"` on an HTTP API validates (exit 0)."""
    api = {"type": "HTTP", "stageName": "$default"}
    done = psctl("validate", "-f", write(tmp_path, orders(spec__api=api)))
    assert done.returncode == 0, done.stderr
    assert "shop/orders: valid" in done.stdout


def test_rest_api_default_stage_is_refused_naming_the_field(tmp_path: Path):
    """A REST API has no `$default` stage: exit 1 naming spec.api.stageName."""
    doc = orders()
    doc["spec"]["api"]["stageName"] = "$default"
    done = psctl("validate", "-f", write(tmp_path, doc))
    assert done.returncode == 1
    assert "spec.api.stageName: $default is the HTTP API stage" in done.stderr


def test_validate_reports_every_problem_at_once(tmp_path: Path):
    """A bad name, port and drift mode no longer hide the rule problems: bad cpu, TLS without a
    certificate, an HTTP API with usage plans and a bad ignoreFields path all print together."""
    doc = orders(
        metadata__name="Orders_X",
        spec__container__port=70000,
        spec__container__cpu=300,
        spec__loadBalancer__listener={"port": 443, "protocol": "TLS"},
        spec__drift={"mode": "Fix", "ignoreFields": ["container.imag"]},
    )
    doc["spec"]["api"]["type"] = "HTTP"
    done = psctl("validate", "-f", write(tmp_path, doc))
    assert done.returncode == 1
    for field in (
        "metadata.name",
        "spec.container.port",
        "spec.drift.mode",
        "spec.container.cpu",
        "spec.loadBalancer.listener.certificateArn",
        "spec.api.usagePlans",
        "spec.drift.ignoreFields[0]",
    ):
        assert f": {field}: " in done.stderr, (field, done.stderr)


def _two_files_one_owner(tmp_path: Path) -> tuple[str, str]:
    first = write(tmp_path, orders(), "a.yaml")
    second = write(tmp_path, orders(spec__container__image="nginx:1.28"), "b.yaml")
    return first, second


def test_validate_refuses_two_files_declaring_one_owner_naming_both(tmp_path: Path):
    """Two documents of shop/orders: validate exits 1 naming both files."""
    first, second = _two_files_one_owner(tmp_path)
    done = psctl("validate", "-f", str(tmp_path))
    assert done.returncode == 1
    line = next(x for x in done.stderr.splitlines() if "already declared" in x)
    assert line.startswith(f"{second}:")
    assert f"shop/orders is already declared in {first}" in line


def test_plan_and_apply_refuse_two_files_declaring_one_owner(tmp_path: Path):
    """plan and apply refuse before any AWS call (the endpoint is nowhere: an AWS call would
    fail differently)."""
    first, second = _two_files_one_owner(tmp_path)
    for command in ("plan", "apply"):
        done = psctl(
            command,
            "-f",
            first,
            "-f",
            second,
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            timeout=60,
        )
        assert done.returncode == 1, (command, done.stderr)
        assert "shop/orders is already declared in" in done.stderr
        assert "AWS" not in done.stderr


def _closed_reader(*args: str) -> subprocess.CompletedProcess[str]:
    """`psctl ARGS | head -0`: the reader closes the pipe before psctl writes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", err)


def test_a_closed_output_pipe_is_one_line_not_a_traceback():
    """`psctl validate -o json | head` and `psctl crd | head`: one line, exit 1."""
    for args in (("validate", "-f", "examples", "-o", "json"), ("crd",)):
        done = _closed_reader(*args)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert "broken pipe" in line


def test_status_of_a_controller_that_is_not_there_is_one_line():
    """`psctl status --controller URL` with nothing listening: one line saying what to do."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = psctl("status", "--controller", f"http://127.0.0.1:{port}")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: no controller answers at http://127.0.0.1:{port}")
    assert "psctl run" in line


def test_run_on_a_listen_port_in_use_is_one_line(tmp_path: Path):
    """`psctl run --listen` on a port in use: one line suggesting --listen HOST:0, exit 1."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = psctl(
            "run",
            "--source",
            str(tmp_path),
            "--listen",
            f"127.0.0.1:{port}",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            timeout=60,
        )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in line
    assert "--listen 127.0.0.1:0" in line


def test_sandbox_on_a_port_in_use_is_one_line():
    """`psctl sandbox --port` on a port in use: one line suggesting --port 0, exit 1."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = psctl("sandbox", "--port", str(port), timeout=60)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert "--port 0" in line


def test_status_of_a_controller_shows_its_invalid_documents():
    """`psctl status --controller` prints the invalid documents `/status` lists (it dropped
    them), with their problems, next to the specs."""
    body = json.dumps(
        {
            "items": [
                {
                    "metadata": {"name": "orders", "namespace": "shop"},
                    "status": {"phase": "Pending"},
                },
                {
                    "source": "specs/bad.yaml#0",
                    "status": {
                        "phase": "Failed",
                        "problems": ["specs/bad.yaml:12: spec.container.cpu: 300 is not ..."],
                    },
                },
            ]
        }
    ).encode()

    class Status(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        text = psctl("status", "--controller", url)
        as_json = psctl("status", "--controller", url, "-o", "json")
    finally:
        server.shutdown()
        server.server_close()
    assert text.returncode == 0, text.stderr
    assert "shop/orders: Pending" in text.stdout
    assert "specs/bad.yaml#0: Failed (invalid document)" in text.stdout
    assert "spec.container.cpu: 300 is not" in text.stdout
    assert len(json.loads(as_json.stdout)["items"]) == 2
