"""Strict scalar types and AWS's limits at validate (issue 11, item 3), and a seeded fuzz test:
1,000 generated specs give no traceback, and every rejection names its file and its field (or
its line, for what is not a field: a syntax error, a file over a limit)."""

from __future__ import annotations

import copy
import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.aws import tags as ownership
from controller.spec import limits
from controller.spec.loader import load_text

EXAMPLES = Path(__file__).parents[2] / "examples"
ORDERS: dict[str, Any] = yaml.safe_load((EXAMPLES / "orders-rest-nlb.yaml").read_text())


def _text(**spec_changes: Any) -> str:
    doc = copy.deepcopy(ORDERS)
    for path, value in spec_changes.items():
        node = doc["spec"]
        *head, last = path.split("__")
        for part in head:
            node = node[part]
        node[last] = value
    return yaml.safe_dump(doc, sort_keys=False)


def _errors(text: str) -> list[tuple[str, str]]:
    (doc,) = load_text(text, "s.yaml")
    assert all(p.source == "s.yaml" for p in doc.problems)
    return [(p.path, p.message) for p in doc.errors]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("container__port", True, "spec.container.port"),
        ("container__port", 8080.0, "spec.container.port"),
        ("service__desiredCount", True, "spec.service.desiredCount"),
        ("container__cpu", 256.0, "spec.container.cpu"),
        ("container__stopTimeoutSeconds", False, "spec.container.stopTimeoutSeconds"),
    ],
)
def test_a_boolean_or_a_float_is_no_integer(field: str, value: object, path: str) -> None:
    """`port: true` is refused at its field (pydantic's lax mode would make it port 1)."""
    errors = _errors(_text(**{field: value}))
    assert [p for p, _ in errors] == [path]
    assert "must be a valid integer" in errors[0][1]


def test_yaml_yes_is_a_string_not_a_count() -> None:
    """`desiredCount: yes` (YAML 1.1 would say true; PyYAML's safe loader says so too)."""
    text = _text().replace("desiredCount: 2", "desiredCount: yes")
    assert "desiredCount: yes" in text
    assert [p for p, _ in _errors(text)] == ["spec.service.desiredCount"]


def test_the_examples_stay_valid_under_strict_types() -> None:
    """Every example: no error."""
    for file in sorted(EXAMPLES.glob("*.yaml")):
        docs = load_text(file.read_text(), str(file))
        assert all(d.valid for d in docs), [str(p) for d in docs for p in d.problems]


def test_tags_count_ours_against_the_aws_limit_of_50() -> None:
    """47 spec tags fit (50 with the controller's 3); 48 are refused at spec.tags; the 3 are
    what the handlers really add."""
    fits = {f"k{i}": "v" for i in range(limits.MAX_SPEC_TAGS)}
    assert _errors(_text(tags=fits)) == []
    written = ownership.owner_tags("shop/orders", "nlb-eip", fits) | {"Name": "ps-x-eip-subnet-1"}
    assert len(written) == limits.MAX_TAGS
    assert len(written) - len(fits) == limits.OWN_TAG_KEYS
    errors = _errors(_text(tags={**fits, "one-more": "v"}))
    assert [p for p, _ in errors] == ["spec.tags"]
    assert "48 tags" in errors[0][1]


def test_a_task_definition_over_64_kib_is_refused_at_the_environment() -> None:
    """A 100,000-character environment value would make RegisterTaskDefinition fail."""
    errors = _errors(_text(container__environment={"BIG": "x" * 100_000}))
    assert [p for p, _ in errors] == ["spec.container.environment"]
    assert "64 KiB" in errors[0][1]
    assert _errors(_text(container__environment={"OK": "x" * 50_000})) == []


# -- fuzz ---------------------------------------------------------------------------------------


def _junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(11 if depth < 3 else 8)
    return [
        lambda: rng.choice([True, False, None]),
        lambda: rng.randint(-(10**6), 10**6),
        lambda: rng.choice([0.5, 80.0, -1.0, float("inf")]),
        lambda: 10 ** rng.randint(18, 40),
        lambda: "".join(rng.choice("ab-_/:*{}[]#&!é0 ") for _ in range(rng.randint(0, 12))),
        lambda: rng.choice(["yes", "no", "on", "null", "~", "0x1F", "1e3", "TRUE"]),
        lambda: "x" * rng.choice([64, 129, 257, 257, 257, 70_000]),
        lambda: rng.choice(["REST", "HTTP", "FARGATE", "EC2", "internal", "Delete"]),
        lambda: [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))],
        lambda: {f"k{i}": _junk(rng, depth + 1) for i in range(rng.randint(0, 3))},
        lambda: {f"t{i}": "v" for i in range(rng.randint(40, 60))},
    ][kind]()


def _mutate(rng: random.Random, node: Any) -> None:
    """Replace, delete or add one entry somewhere in `node`."""
    while True:
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            return
        child = node[key]
        if isinstance(child, dict | list) and child and rng.random() < 0.6:
            node = child
            continue
        action = rng.random()
        if action < 0.6:
            node[key] = _junk(rng)
        elif action < 0.8 and isinstance(node, dict):
            del node[key]
        elif isinstance(node, dict):
            node[rng.choice(["extra", "assignPublicIp", "port", "name", "tags"])] = _junk(rng)
        return


def _fuzzed(rng: random.Random) -> str:
    doc = copy.deepcopy(ORDERS)
    for _ in range(rng.randint(1, 4)):
        _mutate(rng, doc)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    roll = rng.random()
    if roll < 0.1:  # a broken file: cut short, or a stray character
        cut = rng.randrange(len(text))
        text = (
            text[:cut]
            if rng.random() < 0.5
            else text[:cut] + rng.choice("[{:&*!|>'\"\t") + text[cut:]
        )
    elif roll < 0.13:
        text = "a: " + "[" * 2000 + "]" * 2000
    return text


def test_a_thousand_fuzzed_specs_give_no_traceback_and_name_file_and_field() -> None:
    """Seeded: the same 1,000 specs every run; each loads to documents, never an exception, and
    every problem names the file and a field, or the line where there is no field."""
    rng = random.Random(20261203)
    started = time.process_time()  # CPU: the machine may be shared
    rejected = 0
    for i in range(1000):
        name = f"fuzz-{i}.yaml"
        docs = load_text(_fuzzed(rng), name)
        for doc in docs:
            rejected += not doc.valid
            for problem in doc.problems:
                assert problem.source == name
                assert problem.path or problem.line is not None, (i, str(problem))
                assert str(problem).startswith(name)
    assert rejected > 500  # the generator does break specs
    assert time.process_time() - started < 20  # about 8 s, generating included
