"""Embedded AWS endpoint for `psctl sandbox` and the integration tests: moto plus fidelity.

Public API: `Sandbox` (start/stop/reset/env/client/access, set_quotas/set_paging,
call_log/clear_call_log), `SandboxAccess`, `SeededNetwork`, `serve_forever` (what `psctl sandbox`
runs), `Call` and `max_in_window` (the call log and its measure), `fetch_call_log` (the log of a
sandbox in another process). Modules: `server` (the endpoint), `seed` (the VPC), `ecs_agent`
(runs ECS tasks and registers their IPs), `fidelity` (patches restoring AWS behaviours moto
drops), `traffic` (the front door: `quotas`, `paging`, `calls`, `operations`). Needs the
`sandbox` extra (moto[server,...]); nothing else in `controller` imports this package, so the
controller itself runs without moto.
"""

from controller.sandbox.calls import Call, fetch_call_log, max_in_window
from controller.sandbox.seed import SeededNetwork
from controller.sandbox.server import Sandbox, SandboxAccess, serve_forever

__all__ = [
    "Call",
    "Sandbox",
    "SandboxAccess",
    "SeededNetwork",
    "fetch_call_log",
    "max_in_window",
    "serve_forever",
]
