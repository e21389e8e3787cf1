"""Embedded AWS endpoint for `psctl sandbox` and the integration tests: moto plus fidelity.

Public API: `Sandbox` (start/stop/reset/env/client/access), `SandboxAccess`, `SeededNetwork`,
`serve_forever` (what `psctl sandbox` runs). Modules: `server` (the endpoint), `seed` (the VPC),
`ecs_agent` (runs ECS tasks and registers their IPs), `fidelity` (patches restoring AWS
behaviours moto drops). Needs the `sandbox` extra (moto[server,...]); nothing else in
`controller` imports this package, so the controller itself runs without moto.
"""

from controller.sandbox.seed import SeededNetwork
from controller.sandbox.server import Sandbox, SandboxAccess, serve_forever

__all__ = ["Sandbox", "SandboxAccess", "SeededNetwork", "serve_forever"]
