"""Ownership: the one module that knows the tag keys the controller writes and trusts.

Tag keys:
- `privateservice.io/owner`: `<namespace>/<name>` of the PrivateService that owns the resource.
- `privateservice.io/component`: what the resource is in the chain: `nlb`, `nlb-sg`,
  `nlb-eip`, `task-sg`, `target-group`, `listener`, `alb`, `alb-sg`, `alb-listener`,
  `alb-rule`, `alb-target-group`, `alb-targets`, `log-group`, `ecs-cluster`, `execution-role`,
  `task-definition`, `ecs-service`, `instance-sg-rules`, `service-connect-namespace`,
  `vpc-link`, `rest-api`, `stage`, `usage-plan`, `api-key`, `usage-plan-key`, `vpc-endpoint`,
  `vpce-sg`, `authorizer`, `lambda-permission`, `domain-name`, `base-path-mapping`,
  `vpc-link-sg`, `http-api` (`usage-plan-key` and `alb-targets` name things that take no tags
  and are owned through their parent).
- every key of `spec.tags`.
The event source's rule and queues (`controller.aws.events_setup`) belong to no spec: their
owner tag is `EVENTS_OWNER`, their components `events-rule`, `events-queue`, `events-dlq`.

A resource is ours iff its owner tag equals our owner. The engine never modifies or deletes a
resource that is not ours, and adopts one that is. AWS services spell tags three ways; the
converters here are the only place that knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OWNER = "privateservice.io/owner"
COMPONENT = "privateservice.io/component"
EVENTS_OWNER = "privateservice-controller/events"


def owner_tags(owner: str, component: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The tags every resource of `owner` carries, `spec.tags` first so ours win."""
    return {**extra, OWNER: owner, COMPONENT: component}


def is_owned(tags: Mapping[str, str], owner: str) -> bool:
    """True when `tags` carry our owner tag."""
    return tags.get(OWNER) == owner


def from_list(tags: Iterable[Mapping[str, object]] | None) -> dict[str, str]:
    """`[{"Key": k, "Value": v}]` (EC2, ELBv2) or `[{"key": k, "value": v}]` (ECS) -> dict.

    `Mapping[str, object]`: every service's typed tag (types-boto3's `TagTypeDef`) is one."""
    out: dict[str, str] = {}
    for tag in tags or ():
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            out[str(key)] = str(tag.get("Value", tag.get("value", "")))
    return out


def to_list(tags: Mapping[str, str], *, lower: bool = False) -> list[Any]:
    """dict -> `[{"Key", "Value"}]`, or `[{"key", "value"}]` with `lower` (ECS).

    `list[Any]`: the services' typed tags differ in which of the two keys they require (IAM
    both, ELBv2 `Key`, EC2 and ECS neither), so one `dict[str, str]` matches none of them."""
    if lower:
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
