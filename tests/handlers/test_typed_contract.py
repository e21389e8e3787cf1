"""The typed contract between the model and the handlers (issue 10, item 3): every kind is
written once (`controller.model.kinds`), every handler names its service's types-boto3 client
and reads its props through its kind's TypedDict, and mypy strict refuses a prop the model
builds wrongly or a handler reads wrongly.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

from controller.handlers.base import Desired, props_as
from controller.handlers.clients import CLIENT_TYPES
from controller.handlers.registry import HANDLERS
from controller.model import kinds
from controller.model.props import Known, Listener
from controller.model.stack import Resource

ROOT = Path(__file__).resolve().parents[2]
KINDS_MODULE = ROOT / "controller" / "model" / "kinds.py"


def _annotation(cls: type, name: str) -> str | None:
    """The annotation of `name` nearest in `cls`'s MRO, as written (a string: the modules use
    `from __future__ import annotations`)."""
    for klass in cls.__mro__:
        found = inspect.get_annotations(klass).get(name)
        if found is not None:
            return str(found)
    return None


def test_no_kind_is_spelt_outside_the_kinds_module() -> None:
    """A kind string as a literal anywhere in controller/ (but kinds.py) would be a second
    spelling that a rename misses: none is left."""
    every = set(kinds.ALL)
    found = []
    for path in sorted((ROOT / "controller").rglob("*.py")):
        if path == KINDS_MODULE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in every:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert found == []


def test_every_kind_is_listed_once_and_deployed_by_one_handler() -> None:
    """kinds.ALL names each kind once, and the registry has exactly one handler per kind."""
    assert len(set(kinds.ALL)) == len(kinds.ALL)
    assert sorted(cls.kind for cls in HANDLERS) == sorted(kinds.ALL)


def test_every_handler_declares_the_types_boto3_client_of_its_service() -> None:
    """`client: <Service>Client` on every handler, naming the class types-boto3 has for the
    handler's `service`, so that mypy checks each call it makes."""
    wrong = {}
    for cls in HANDLERS:
        expected = CLIENT_TYPES[cls.service]
        stubs = importlib.import_module(f"types_boto3_{cls.service}")
        declared = _annotation(cls, "client")
        if declared != expected or not hasattr(stubs, expected):
            wrong[cls.__name__] = (cls.service, declared)
    assert wrong == {}


def test_every_handler_reads_its_props_as_its_kinds_typed_dict() -> None:
    """Each handler's `props_of` answers a TypedDict of controller.model.props or props_api."""
    wrong = {}
    for cls in HANDLERS:
        props_of = getattr(cls, "props_of", None)
        returns = str(props_of.__annotations__.get("return")) if props_of else None
        shape = None if returns is None else returns.removesuffix("[Known]")
        typed = any(
            isinstance(getattr(importlib.import_module(m), shape or "", None), type)
            for m in ("controller.model.props", "controller.model.props_api")
        )
        if not typed:
            wrong[cls.__name__] = returns
    assert wrong == {}


def test_props_as_hands_back_the_resolved_props_unchanged() -> None:
    """The typed view is the same mapping: nothing changes at run time."""
    props = {"loadBalancerArn": "arn:lb", "port": 80, "protocol": "TCP"}
    resource = Resource("listener", kinds.ELBV2_LISTENER, "listener", {"port": 80})
    want = Desired(resource=resource, props=props, tags={}, owner="ns/name")
    typed: Listener[Known] = props_as(want, Listener[Known])
    assert typed is props
    assert typed["port"] == 80


PROBE = """\
from controller.handlers.base import Desired, props_as
from controller.model.props import ElasticIp, Known, Listener
from controller.model.stack import Lazy, Ref

arn = Ref("nlb", "arn")
good = Listener[Lazy]({"loadBalancerArn": arn, "port": 80, "protocol": "TCP"})
typo = Listener[Lazy]({"loadBalancerArn": "a", "port": "80", "protocol": "TCP"})  # refused
lazy = ElasticIp({"name": arn})  # refused


def read(want: Desired) -> str:
    p = props_as(want, Listener[Known])
    port: int = p["port"]
    missing = p["ports"]  # refused
    wrong: int = p["loadBalancerArn"]  # refused
    return f"{port}{missing}{wrong}"
"""
"""A model and a handler module: what they may do, and four mistakes (`# refused`)."""


def test_mypy_strict_refuses_a_wrong_prop_on_either_side(tmp_path: Path) -> None:
    """The model building a prop of the wrong type or a Ref where none may stand, and a handler
    reading a prop its kind lacks or using it as the wrong type, are each a mypy error; the
    right spelling of each passes."""
    module = tmp_path / "contract_probe.py"
    module.write_text(PROBE)
    refused = [n for n, line in enumerate(PROBE.splitlines(), 1) if line.endswith("# refused")]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = sorted(
        int(line.split(":")[1]) for line in done.stdout.splitlines() if ": error:" in line
    )
    assert len(refused) == 4
    assert errors == refused, done.stdout
