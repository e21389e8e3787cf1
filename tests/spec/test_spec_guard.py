"""Every file is a document or a problem, never an exception (issue 11 item 2, issue 15 item 6):
depth, alias bombs, size, encoding, empty files and over-long integers, each with file and line,
fast, and the other documents of the same file still load."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller.spec.guard import Limits, limits_from_env
from controller.spec.loader import load_paths, load_text

EXAMPLES = Path(__file__).parents[2] / "examples"
ORDERS = (EXAMPLES / "orders-rest-nlb.yaml").read_text()


def _alias_bomb(levels: int = 8) -> str:
    """The classic 9-line bomb: 9**9 strings once expanded, ~700 bytes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(levels):
        name, prev = chr(98 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _block_nesting(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "x\n"


CASES = {
    "flow-1000": ("a: " + "[" * 1000 + "]" * 1000, 1, "nested more than 64 levels deep"),
    "flow-5000": ("a: " + "[" * 5000 + "]" * 5000, 1, "nested more than 64 levels deep"),
    "mappings-1000": ("a: " + "{b: " * 1000 + "}" * 1000, 1, "nested more than 64 levels deep"),
    "block-200": (_block_nesting(200), 65, "nested more than 64 levels deep"),
    "alias-bomb": (_alias_bomb(), 6, "too many nodes once aliases are expanded"),
    "long-int": ("apiVersion: 1\nspec: " + "9" * 5000, 1, "an integer with too many digits"),
    "too-large": ("a: " + "x" * (1024 * 1024), None, "too large: 1048579 bytes"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_bad_document_is_one_problem_with_file_and_line(name: str) -> None:
    """No exception, one invalid document naming the file (and the line where one exists),
    in well under a second."""
    text, line, message = CASES[name]
    started = time.monotonic()
    (doc,) = load_text(text, "bad.yaml")
    assert time.monotonic() - started < 1.0
    assert not doc.valid
    (problem,) = doc.problems
    assert problem.source == "bad.yaml"
    assert problem.line == line
    assert message in problem.message
    assert str(problem).startswith("bad.yaml")


def test_a_deep_document_does_not_take_the_other_documents_of_its_file_with_it() -> None:
    """A stream with a valid spec, a 100-deep document and another valid spec: two specs and
    one problem, each at its own line."""
    deep = "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 100))
    text = ORDERS + "---\n" + deep + "---\n" + ORDERS.replace("name: orders", "name: orders2")
    docs = load_text(text, "many.yaml")
    assert [d.valid for d in docs] == [True, False, True]
    assert [d.index for d in docs] == [0, 1, 2]
    assert docs[2].spec is not None
    assert docs[2].spec.metadata.name == "orders2"
    first_line = ORDERS.count("\n") + 2
    assert docs[1].problems[0].line == first_line + 64  # the line of the 65th level
    same_place = docs[0].line + ORDERS.count("\n") + deep.count("\n") + 2  # 2: the `---`s
    assert docs[2].line == same_place


def test_limits_are_configurable_and_the_defaults_accept_every_example() -> None:
    """Every example loads under the defaults; a stricter depth or node count rejects one."""
    for file in sorted(EXAMPLES.glob("*.yaml")):
        docs = load_paths([file])
        assert docs
        assert all(d.valid for d in docs), [str(p) for d in docs for p in d.problems]
    (shallow,) = load_text(ORDERS, "orders.yaml", Limits(max_depth=3))
    assert "nested more than 3 levels deep" in shallow.problems[0].message
    (small,) = load_text(ORDERS, "orders.yaml", Limits(max_nodes=20))
    assert "too many nodes" in small.problems[0].message
    (tiny,) = load_text(ORDERS, "orders.yaml", Limits(max_bytes=100))
    assert "too large" in tiny.problems[0].message


def test_empty_and_non_utf8_files_are_problems_naming_the_file(tmp_path: Path) -> None:
    """`psctl validate` on an empty file or bytes that are not UTF-8 names the file."""
    (tmp_path / "empty.yaml").write_text("# nothing here\n")
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    docs = load_paths([tmp_path])
    problems = sorted(str(p) for d in docs for p in d.problems)
    assert problems == [
        f"{tmp_path}/empty.yaml: no document in this file (it is empty)",
        f"{tmp_path}/latin1.yaml: cannot read: not UTF-8 at byte 9",
    ]


def test_anchors_and_merge_keys_still_load_with_lines() -> None:
    """Aliases are legal YAML: a spec using an anchor loads, its lines from the anchor."""
    text = ORDERS.replace("  container:\n", "  container: &c\n", 1)
    assert "&c" in text
    (doc,) = load_text(text + "x-copy: *c\n", "anchored.yaml")
    assert any("x-copy" in p.path for p in doc.problems)  # unknown field, but read and located
    assert all(p.line is not None for p in doc.problems)


def test_limits_come_from_the_environment_and_a_bad_value_is_named() -> None:
    """PSCTL_SPEC_MAX_* set each limit; anything but a positive integer names its variable."""
    env = {"PSCTL_SPEC_MAX_DEPTH": "3", "PSCTL_SPEC_MAX_NODES": "", "PSCTL_SPEC_MAX_BYTES": "100"}
    assert limits_from_env(env) == Limits(max_bytes=100, max_depth=3)
    assert limits_from_env({}) == Limits()
    with pytest.raises(ValueError, match="PSCTL_SPEC_MAX_NODES='-1': expected a positive integer"):
        limits_from_env({"PSCTL_SPEC_MAX_NODES": "-1"})


def test_a_bad_environment_value_is_one_line_and_the_defaults_apply() -> None:
    """`psctl validate` with PSCTL_SPEC_MAX_DEPTH=deep: one line on stderr, no traceback, and the
    example still validates under the defaults."""
    env = {**os.environ, "PSCTL_SPEC_MAX_DEPTH": "deep"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "controller",
            "validate",
            "-f",
            str(EXAMPLES / "orders-rest-nlb.yaml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "PSCTL_SPEC_MAX_DEPTH='deep': expected a positive integer" in done.stderr
    assert "Traceback" not in done.stderr
