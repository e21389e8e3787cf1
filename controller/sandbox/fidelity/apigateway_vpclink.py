"""API Gateway v1 VPC links: PENDING first, then AVAILABLE, or FAILED for a target that is no NLB.

Restores (AWS API reference, CreateVpcLink: "Creates a VPC link ... in an asynchronous operation
that typically takes 2-4 minutes to complete and become operational"; VpcLink.status: "AVAILABLE,
PENDING, DELETING, or FAILED. Deploying an API will wait if the status is PENDING"): moto makes
every link AVAILABLE at once and accepts a target ARN that names no load balancer. Here a link is
PENDING for `TIMING.seconds` (default 2 s, env `PSCTL_SANDBOX_VPC_LINK_SECONDS`, or
`Sandbox(vpc_link_seconds=...)`), then AVAILABLE if every target ARN is an existing ELBv2 load
balancer of the same account and region, else FAILED with a `statusMessage` naming the bad ARN.
The status settles lazily when the link is read. The status messages are the sandbox's own words
(AWS's exact texts are not contractual); match on `status`, never on the message.
Neighbours: `patching`, `apigateway_integration`, `apigateway_tags`, `server` (sets TIMING).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from moto.apigateway import models as apigw_models
from moto.elbv2.models import elbv2_backends

from controller.sandbox.fidelity.patching import wrap

ENV_SECONDS = "PSCTL_SANDBOX_VPC_LINK_SECONDS"
DEFAULT_SECONDS = 2.0

PENDING_MESSAGE = "VPC link is being provisioned"
AVAILABLE_MESSAGE = "Your vpc link is ready for use"


@dataclass
class VpcLinkTiming:
    """How long a new VPC link stays PENDING, in seconds (process-wide: moto's state is too)."""

    seconds: float = DEFAULT_SECONDS


TIMING = VpcLinkTiming()


def seconds_from_env(default: float = DEFAULT_SECONDS) -> float:
    """The PENDING duration from `PSCTL_SANDBOX_VPC_LINK_SECONDS`, else `default`."""
    raw = os.environ.get(ENV_SECONDS)
    return float(raw) if raw else default


def apply() -> None:
    """Install the VPC link lifecycle."""
    wrap(apigw_models.APIGatewayBackend, "create_vpc_link")(_create_vpc_link)
    wrap(apigw_models.VpcLink, "to_json")(_to_json)


def _create_vpc_link(original: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    link = original(self, *args, **kwargs)
    link.status = "PENDING"
    link.status_message = PENDING_MESSAGE
    link.psctl_ready_at = time.monotonic() + TIMING.seconds
    link.psctl_owner = (self.account_id, self.region_name)
    return link


def _to_json(original: Any, self: Any) -> dict[str, Any]:
    _settle(self)
    data: dict[str, Any] = original(self)
    message = getattr(self, "status_message", None)
    if message:
        data["statusMessage"] = message
    return data


def _settle(link: Any) -> None:
    ready_at = getattr(link, "psctl_ready_at", None)
    if link.status != "PENDING" or ready_at is None or time.monotonic() < ready_at:
        return
    account_id, region = link.psctl_owner
    balancers = elbv2_backends[account_id][region].load_balancers
    missing = [arn for arn in link.target_arns or [] if arn not in balancers]
    if missing or not link.target_arns:
        link.status = "FAILED"
        link.status_message = f"NLB ARN is malformed or does not exist: {', '.join(missing)}"
    else:
        link.status = "AVAILABLE"
        link.status_message = AVAILABLE_MESSAGE
