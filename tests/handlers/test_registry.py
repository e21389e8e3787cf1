"""The explicit handler registry: complete, one class per kind, and ordered producers first for
every stack the examples build (the sweep and deletion walk it backwards)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import controller.handlers as package
from controller.handlers.base import Handler
from controller.handlers.registry import HANDLERS
from controller.model.build import build_stack
from controller.model.network import Network
from controller.spec.loader import load_paths

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def test_every_handler_class_is_registered_once():
    """A handler written but not listed would never run: every concrete Handler subclass of the
    package is in HANDLERS exactly once, and no two share a kind."""
    defined = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        defined |= {
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Handler)
            and not inspect.isabstract(cls)
            and cls.__module__ == module.__name__
        }
    assert sorted(c.__name__ for c in HANDLERS) == sorted(c.__name__ for c in defined)
    assert len({c.kind for c in HANDLERS}) == len(HANDLERS)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_producers_come_before_their_consumers(path: Path):
    """For every dependency in an example's stack, the producer's kind is listed no later than
    the consumer's, so a backwards walk deletes consumers first."""
    position = {cls.kind: i for i, cls in enumerate(HANDLERS)}
    for doc in load_paths([str(path)]):
        assert doc.spec is not None
        stack = build_stack(doc.spec, Network.placeholder())
        for res in stack.resources.values():
            for dep in res.deps:
                producer = stack.resources[dep].kind
                assert position[producer] <= position[res.kind], (producer, res.kind)
