"""Which handler deploys which resource kind, and the global order of kinds.

Every module of `controller.handlers` that exports `HANDLERS` (a tuple of Handler classes) is a
handler module; nothing else needs to list it. Kinds are ordered by `Handler.order` (producers
before consumers); the orphan sweep and whole-service deletion walk that order backwards.
Neighbours: every `controller.handlers.*` module, `controller.reconcile.engine`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import controller.handlers as package
from controller.aws.session import AwsContext
from controller.handlers.base import Handler


@cache
def handler_classes() -> tuple[type[Handler], ...]:
    """Every handler class, in dependency order."""
    found: list[type[Handler]] = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found += list(getattr(module, "HANDLERS", ()))
    kinds = [cls.kind for cls in found]
    duplicates = {k for k in kinds if kinds.count(k) > 1}
    if duplicates:
        msg = f"two handlers for {sorted(duplicates)}"
        raise RuntimeError(msg)
    return tuple(sorted(found, key=lambda cls: (cls.order, cls.kind)))


def make_handlers(aws: AwsContext) -> dict[str, Handler]:
    """One handler instance per kind, sharing `aws`'s clients and call counter, in order."""
    return {cls.kind: cls(aws) for cls in handler_classes()}
