"""Install-once monkeypatches on moto's classes and modules.

The one mechanism every module of `controller.sandbox.fidelity` uses to restore an AWS behaviour:
`wrap` replaces an attribute by a function that receives the original first, `add` installs an
attribute moto lacks, `add_item` a mapping entry (a URL route). Two modules may layer
wrappers on one attribute; the same patch twice is refused, so applying a fidelity module twice is
a loud error rather than a silent double wrap (`fidelity.apply_all` makes the layer idempotent).
Neighbours: every `fidelity/<service>_*.py` module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_PATCHED: dict[tuple[int, str, int], object] = {}


def wrap(owner: object, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Replace `owner.name` by `fn(original, *args, **kwargs)`; returns `fn` unchanged."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        original = getattr(owner, name)
        _remember(owner, name, fn, original)

        @functools.wraps(original)
        def patched(*args: object, **kwargs: object) -> object:
            return fn(original, *args, **kwargs)

        setattr(owner, name, patched)
        return fn

    return decorate


def add(owner: object, name: str, value: object) -> None:
    """Install `owner.name = value` where moto has no such attribute (or only a stub)."""
    _remember(owner, name, value, getattr(owner, name, None))
    setattr(owner, name, value)


def add_item(mapping: dict[str, Any], key: str, value: object) -> None:
    """Install `mapping[key] = value` (e.g. a URL route moto does not have)."""
    _remember(mapping, key, value, mapping.get(key))
    mapping[key] = value


def _remember(owner: object, name: str, patch: object, original: object) -> None:
    key = (id(owner), name, id(patch))
    if key in _PATCHED:
        raise RuntimeError(f"{owner!r}.{name} is already patched with {patch!r}")
    _PATCHED[key] = original
