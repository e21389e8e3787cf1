"""What Terraform and kubectl users expect of psctl (issue 15, item 11), through a subprocess:
help with examples and exit codes, shell completion, colour only on a terminal, list diffs per
element."""

from __future__ import annotations

import http.server
import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from controller import cli
from controller.cli_help import EPILOGS
from controller.handlers.base import Delta
from controller.reconcile import render
from controller.reconcile.engine import Action, Change

ROOT = Path(__file__).parents[2]
COMMAND = [sys.executable, "-m", "controller"]


def psctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_help_has_a_purpose_examples_and_exit_codes(capsys):
    """`psctl --help` (through the command) and every subcommand's help (the same parser,
    in-process: a Python start per subcommand cost 25 s of the suite): purpose, examples, exit
    codes."""
    top = psctl("--help")
    assert top.returncode == 0
    assert "examples:" in top.stdout
    assert "exit codes:" in top.stdout
    for command in EPILOGS:
        with pytest.raises(SystemExit) as done:
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert done.value.code == 0, command
        assert "examples:" in out, command
        assert "exit codes:" in out, command


def _bash_complete(words: list[str]) -> list[str]:
    """What bash completes for `words` (the last is the one being typed)."""
    script = psctl("completion", "bash").stdout
    line = " ".join(f"'{w}'" for w in words)
    program = (
        f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _psctl; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completion_completes_commands_options_and_choices():
    """Subcommands, then their options on `-`, and positional choices."""
    assert _bash_complete(["psctl", "pl"]) == ["plan"]
    assert _bash_complete(["psctl", "apply", "--par"]) == ["--parallel"]
    assert "--no-color" in _bash_complete(["psctl", "plan", "--no"])
    assert _bash_complete(["psctl", "completion", "fi"]) == ["fish"]


def test_zsh_and_fish_completion_name_every_command():
    """zsh loads the bash function through bashcompinit; fish has a line per subcommand."""
    zsh = psctl("completion", "zsh").stdout
    assert zsh.startswith("#compdef psctl\n")
    assert "complete -o filenames -F _psctl psctl" in zsh
    fish = psctl("completion", "fish").stdout
    for command in EPILOGS:
        assert f"-a {command} " in fish, command
    assert "__fish_seen_subcommand_from plan' -l no-color" in fish


@contextmanager
def _controller() -> Iterator[str]:
    """A /status serving one Ready spec."""
    body = json.dumps(
        {
            "items": [
                {"metadata": {"name": "orders", "namespace": "shop"}, "status": {"phase": "Ready"}}
            ]
        }
    ).encode()

    class Status(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """psctl's stdout when it is a terminal (a pseudo-terminal)."""
    parent, child = pty.openpty()
    proc = subprocess.Popen(
        [*COMMAND, *args], stdout=child, stderr=subprocess.DEVNULL, cwd=ROOT, env=env
    )
    proc.wait(timeout=60)  # a few lines: they fit in the terminal's buffer
    os.close(child)  # only now: the terminal stays open until everything is read
    out = b""
    while True:
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # EIO: read to the end
            break
        if not chunk:
            break
        out += chunk
    os.close(parent)
    return out.decode()


GREEN = "\033[32mReady\033[0m"


@pytest.mark.parametrize(
    ("terminal", "extra", "no_color", "coloured"),
    [
        pytest.param(True, [], False, True, id="terminal"),
        pytest.param(True, [], True, False, id="NO_COLOR"),
        pytest.param(True, ["--no-color"], False, False, id="--no-color"),
        pytest.param(False, [], False, False, id="pipe"),
    ],
)
def test_status_is_coloured_only_on_a_terminal(
    terminal: bool, extra: list[str], no_color: bool, coloured: bool
):
    """The phase in colour on a terminal; never with NO_COLOR, --no-color, or into a pipe."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    with _controller() as url:
        args = ["status", "--controller", url, *extra]
        out = _on_a_terminal(args, env) if terminal else psctl(*args, env=env).stdout
    assert "shop/orders: " in out
    assert (GREEN in out) is coloured
    assert ("\033[" in out) is coloured


def test_a_list_field_shows_each_element_added_or_removed():
    """An ingress rule added behind our back: one `-` line for it, not the list twice."""
    vpc = {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidr": "10.0.0.0/16"}
    opened = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidr": "0.0.0.0/0"}
    change = Change(
        "task-sg",
        "ec2.security_group",
        "task-sg",
        Action.UPDATE,
        [Delta("ingress", [vpc], [vpc, opened])],
        id="sg-1",
    )
    lines = render.change_lines(change)
    assert lines[1:] == [
        "      ingress: 1 to remove",
        "        - " + json.dumps(opened, sort_keys=True),
    ]
