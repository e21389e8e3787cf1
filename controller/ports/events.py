"""What an event source hands the runtime: AWS API calls made by someone, and the resources named.

A `ChangeEvent` is one CloudTrail record ("AWS API Call via CloudTrail", delivered by EventBridge)
reduced to what the controller uses: who made the call (`changed_by`, the access key, the source
IP), what (`event_name`, `event_source`), when (`event_time`), and the resource ids and ARNs its
request and response named (`ids`). A `Delivery` is one message of the queue: its receipt (to
delete it), and either the event or why it could not be read. `EventSource` is what the runtime
polls (`controller.sources.sqs_events` implements it over SQS); `Identity` is the controller's own
caller identity, whose events are its own writes and are dropped.
It sits in `controller.ports`, below the runtime and the sources, so that neither imports the
other. Neighbours: `controller.sources.events` (parses records into `ChangeEvent`),
`controller.sources.sqs_events` (the SQS source), `controller.runtime.events` (routes events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ChangeEvent:
    """One AWS API call, as CloudTrail recorded it."""

    event_id: str
    event_name: str
    event_source: str
    """`ec2.amazonaws.com`, `apigateway.amazonaws.com`, ..."""
    event_time: datetime | None
    changed_by: str | None
    """`userIdentity.arn` (absent for some identity types: then None)."""
    access_key_id: str | None
    source_ip: str | None
    region: str | None
    ids: frozenset[str] = field(default_factory=frozenset)
    """Every resource id, name and ARN the call named (request and response)."""
    error_code: str | None = None
    """Set when the call failed: nothing changed."""
    read_only: bool = False

    @property
    def service(self) -> str:
        """The event source's short name: `ec2`, `apigateway`, `elasticloadbalancing`, ..."""
        return self.event_source.split(".", 1)[0]


@dataclass(frozen=True)
class Delivery:
    """One message received from the queue."""

    receipt: str
    event: ChangeEvent | None
    problem: str | None = None
    """Why the message is not an event we can read (then `event` is None)."""


@dataclass(frozen=True)
class Identity:
    """The controller's own caller identity: the calls it makes carry these."""

    arn: str | None
    access_key_id: str | None

    def made(self, event: ChangeEvent) -> bool:
        """True when `event` is a call made with our credentials or as our principal."""
        if self.access_key_id and event.access_key_id == self.access_key_id:
            return True
        return bool(self.arn) and event.changed_by == self.arn


class EventSource(Protocol):
    """A queue of CloudTrail events: receive a batch, delete what was handled."""

    name: str

    async def receive(self) -> list[Delivery]:
        """The next batch (long poll: may wait up to ~20 s, may be empty)."""
        ...

    async def delete(self, receipts: Sequence[str]) -> None:
        """Delete these messages: they were handled."""
        ...

    async def backlog(self) -> int:
        """Messages waiting in the queue (approximate, as SQS says)."""
        ...

    async def identity(self) -> Identity:
        """The controller's own identity (its credentials may rotate: ask again now and then)."""
        ...


def ecs_service_alias(cluster: str, service: str) -> str:
    """`ecs-service:<cluster name>/<service name>`: an ECS service however the call named it."""
    return f"ecs-service:{_last(cluster)}/{_last(service)}"


def aliases(value: str) -> set[str]:
    """Other spellings of the resource an ARN names, as events name it.

    ECS calls name a service by `cluster` and `service` (names or ARNs): an ECS service ARN
    (`arn:aws:ecs:r:a:service/<cluster>/<name>`) is also `ecs-service:<cluster>/<name>`. Lambda
    calls name a function by `functionName` (a name, a partial or a full ARN): a function ARN
    (`arn:aws:lambda:r:a:function:<name>[:qualifier]`) is also `lambda-function:<name>`.
    """
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return set()
    service, resource = parts[2], parts[5]
    if service == "ecs" and resource.startswith("service/"):
        path = resource.split("/")
        if len(path) == 3:
            return {ecs_service_alias(path[1], path[2])}
    if service == "lambda" and resource.startswith("function:"):
        return {f"lambda-function:{resource.split(':')[1]}"}
    return set()


def _last(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
