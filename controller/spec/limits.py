"""AWS's own limits that a spec can break, checked offline so that they fail at validate with the
field named instead of at AWS half way through an apply.

- Tags: at most 50 per resource (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html,
  "Tag restrictions"), and every resource carries `spec.tags` plus the controller's own keys
  (`OWN_TAG_KEYS`: owner, component, and `Name` on the Elastic IPs; `controller.aws.tags` writes
  them and a test checks the count against it).
- Task definition size: at most 64 KiB
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html); the
  container's environment, secrets and command are what can make it that large.
The names AWS gets fit by construction (`controller.spec.names`). Neighbours: `rules` (runs
`problems` as one of its rules), `models` (single-field limits: tag key and value lengths).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from controller.spec.models import PrivateService

MAX_TAGS = 50
OWN_TAG_KEYS = 3
"""privateservice.io/owner, privateservice.io/component, and `Name` (Elastic IPs)."""
MAX_SPEC_TAGS = MAX_TAGS - OWN_TAG_KEYS
MAX_TASK_DEFINITION_BYTES = 64 * 1024
TASK_DEFINITION_OVERHEAD = 2048
"""Generous room for what the controller adds around the container's own fields: family, roles'
ARNs, port mappings, log configuration, tags (`handlers.ecs_task_definition`)."""


def task_definition_bytes(ps: PrivateService) -> int:
    """About how large the task definition of `ps` is, in bytes of JSON (never less)."""
    c = ps.spec.container
    body = {
        "image": c.image,
        "command": list(c.command),
        "environment": [{"name": k, "value": v} for k, v in c.environment.items()],
        "secrets": [{"name": k, "valueFrom": v} for k, v in c.secrets.items()],
        "tags": [{"key": k, "value": v} for k, v in ps.spec.tags.items()],
    }
    return len(json.dumps(body).encode("utf-8")) + TASK_DEFINITION_OVERHEAD


def problems(ps: PrivateService) -> Iterator[tuple[str, str]]:
    """(field, message) for every AWS limit `ps` breaks."""
    count = len(ps.spec.tags)
    if count > MAX_SPEC_TAGS:
        yield (
            "spec.tags",
            f"{count} tags: AWS allows {MAX_TAGS} per resource and the controller adds "
            f"{OWN_TAG_KEYS} of its own (owner, component, Name), so at most {MAX_SPEC_TAGS}",
        )
    size = task_definition_bytes(ps)
    if size > MAX_TASK_DEFINITION_BYTES:
        c = ps.spec.container
        sizes = {
            "spec.container.environment": len(json.dumps(c.environment)),
            "spec.container.secrets": len(json.dumps(c.secrets)),
            "spec.container.command": len(json.dumps(c.command)),
        }
        largest = max(sizes, key=lambda k: sizes[k])
        yield (
            largest,
            f"the task definition would be about {size} bytes; ECS takes at most "
            f"{MAX_TASK_DEFINITION_BYTES} (64 KiB): keep large values in a file or a secret",
        )
