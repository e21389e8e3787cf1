"""The import contracts in pyproject (`lint-imports`): kept by the code, broken by an upward import.

Each case runs the `lint-imports` of this environment in a subprocess on a package found through
PYTHONPATH: the repository itself, or a copy of `controller/` with one deliberate violation added,
so that a contract that could never fail would show here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = (
    "Layers: cli -> runtime | kube | sources -> doctor -> reconcile -> handlers -> aws -> model"
    " -> spec"
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the `controller` package under `root`, with the repository's contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_code_keeps_every_contract() -> None:
    """The layers, the leaf modules and the boto3 rule all hold on the code as it is."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        pytest.param(
            "spec/upward.py",
            "import controller.runtime.settings",
            LAYERS,
            id="spec-imports-runtime: the bottom layer reaching the top",
        ),
        pytest.param(
            "sources/sideways.py",
            "from controller.kube import client",
            LAYERS,
            id="sources-imports-kube: independent siblings",
        ),
        pytest.param(
            "reconcile/botocore_again.py",
            "from botocore.exceptions import ClientError",
            "boto3 and botocore only in aws/ and handlers/",
            id="engine-imports-botocore: AWS errors are named in controller.aws.errors",
        ),
        pytest.param(
            "errors.py",
            "from controller.spec import models",
            "errors and logging are leaves",
            id="errors-imports-spec: errors.py stays a leaf",
        ),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """A copy of the package with one bad import added: `lint-imports` fails, naming that contract
    and keeping the others."""
    shutil.copytree(
        ROOT / "controller", tmp_path / "controller", ignore=shutil.ignore_patterns("__pycache__")
    )
    path = tmp_path / "controller" / module  # a new module, or one the line is appended to
    before = path.read_text() if path.exists() else '"""A deliberate violation."""\n'
    path.write_text(f"{before}\n{line}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    flat = " ".join(result.stdout.split())  # long contract names wrap
    assert f"{contract} BROKEN" in flat, result.stdout
    assert "2 kept, 1 broken" in flat, result.stdout
