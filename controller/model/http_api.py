"""The HTTP API part of the stack (API Gateway v2 through a VPC Link v2): not built yet.

`controller.model.support` refuses `api.type: HTTP` until this module builds it.
"""

from __future__ import annotations

from controller.model.network import Network
from controller.model.stack import Stack
from controller.spec.models import Api, PrivateService


def add_http_api(stack: Stack, ps: PrivateService, net: Network, api: Api) -> None:
    """VPC Link v2, HTTP API, integration, route and stage (issue 4)."""
    del stack, net, api
    msg = f"{ps.owner}: HTTP APIs are not built by this version yet"
    raise NotImplementedError(msg)
