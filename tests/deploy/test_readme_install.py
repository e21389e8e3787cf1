"""The README's install instructions are the ones that work from a fresh clone (issue 15, item
10): psctl is not on PyPI, so the README installs it from the checkout with scripts/bootstrap,
which does what the README says, and `.venv/bin/psctl` is the command it names."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()


def _install_block() -> str:
    """The first shell block of "## Using it"."""
    section = README.split("## Using it", 1)[1]
    return section.split("```sh", 1)[1].split("```", 1)[0]


def test_readme_never_installs_from_the_package_index():
    """`pip install privateservice-controller` fails (not published): not in the README."""
    assert not re.search(r"pip install (['\"])?privateservice-controller", README)
    assert "not published on PyPI" in README


def test_the_install_commands_exist_and_do_what_the_readme_says():
    """scripts/bootstrap (executable) installs the checkout, editable, with the extra it is
    given, into .venv; the extra and the `psctl` entry point exist in pyproject.toml."""
    block = _install_block()
    assert "scripts/bootstrap sandbox" in block
    assert ".venv/bin" in block
    bootstrap = ROOT / "scripts" / "bootstrap"
    assert os.access(bootstrap, os.X_OK)
    text = bootstrap.read_text()
    assert "-m venv .venv" in text
    assert 'pip install --quiet -e ".[$extras]"' in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "sandbox" in project["optional-dependencies"]
    assert project["scripts"]["psctl"] == "controller.cli:main"


def test_psctl_lives_in_the_venv_the_readme_names():
    """`.venv/bin/psctl --version` runs (the checkout's install, as the README says)."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "psctl"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("psctl ")
