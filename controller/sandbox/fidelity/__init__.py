"""The sandbox's fidelity layer: small patches to moto that restore AWS behaviours it drops.

Each module restores one service's behaviours and cites the AWS wording in its docstring; each
has a test in `tests/sandbox/test_fidelity_*.py` that talks to the sandbox over HTTP. moto runs
in this process (`controller.sandbox.server`), so patching its models and responses here changes
what the endpoint serves. `apply_all` installs everything once per process.
Neighbours: `server` (calls `apply_all` before the endpoint starts), `ecs_agent`.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from types import ModuleType

from controller.sandbox.fidelity import (
    apigateway_deletes,
    apigateway_integration,
    apigateway_stage,
    apigateway_tags,
    apigateway_vpclink,
    ec2,
    ecs,
    elbv2_arns,
    elbv2_fields,
    elbv2_idempotency,
    iam,
)

# Order matters where two modules wrap the same method: `elbv2_idempotency` compares the target
# group a create *would* build, so `elbv2_fields` (which adjusts that build) goes inside it.
_MODULES = (
    apigateway_deletes,
    apigateway_integration,
    apigateway_stage,
    apigateway_tags,
    apigateway_vpclink,
    elbv2_fields,
    elbv2_arns,
    elbv2_idempotency,
    ecs,
    ec2,
    iam,
)

_lock = threading.Lock()
_applied = False


def _modules() -> list[ModuleType]:
    """The ordered modules above, then any other module of this package with an `apply`."""
    listed = {m.__name__ for m in _MODULES}
    extra = []
    for info in pkgutil.iter_modules(__path__):
        name = f"{__name__}.{info.name}"
        if name not in listed and info.name != "patching":
            module = importlib.import_module(name)
            if hasattr(module, "apply"):
                extra.append(module)
    return [*_MODULES, *sorted(extra, key=lambda m: m.__name__)]


def apply_all() -> None:
    """Install every fidelity patch; later calls in the same process do nothing."""
    global _applied  # noqa: PLW0603 - once-per-process switch
    with _lock:
        if _applied:
            return
        for module in _modules():
            module.apply()
        _applied = True
