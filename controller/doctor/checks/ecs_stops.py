"""What a service's stopped tasks and events say about why its tasks do not run, for the
`tasks-failing` check: each stopped task or event is sorted into a kind of failure (image pull,
task initialisation, container start or exit, health checks, placement) with the text AWS gave,
and the failures since the service's primary deployment are grouped, most telling first.

AWS sources: "Amazon ECS stopped task error messages" and "Stopped tasks error codes" (stopCode
TaskFailedToStart / EssentialContainerExited / ServiceSchedulerInitiated / UserInitiated, and the
`CannotPullContainerError`, `ResourceInitializationError`, `CannotStartContainerError`,
`OutOfMemoryError` reasons), "Amazon ECS service event messages" (unhealthy in target group,
unable to place a task, unable to consistently start tasks, has reached a steady state).
Neighbours: `checks.ecs` (its only user).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controller.doctor.facts import Shape

ORDER = ("pull", "init", "start", "exit", "health", "placement")
"""Kinds, most telling first: a task that cannot pull its image never gets to a health check."""

WHY: dict[str, str] = {
    "pull": "The task cannot fetch its image: its subnets have no route to the registry (no NAT"
    " gateway, nor the ecr.api, ecr.dkr and s3 endpoints), an endpoint's group does not admit"
    " 443 from the tasks, the image or tag does not exist, or the execution role may not pull"
    " it. No new task can start there: as the running ones stop, the target group empties and"
    " the API answers 5xx (001).",
    "init": "The task could not be set up before its containers started: it could not fetch its"
    " secrets, registry credentials or create its log stream, for want of a route to those"
    " services or of a permission on the execution role. No new task can start (001).",
    "start": "The container cannot start, so ECS starts replacements in a loop and the target"
    " group never keeps a healthy target.",
    "exit": "The container starts and exits (crash, bad command or configuration, out of"
    " memory): ECS replaces it in a loop and the target group never keeps a healthy target;"
    " its logs say why.",
    "health": "The load balancer's (or the container's) health check found the tasks unhealthy"
    " and ECS replaced them: requests meet tasks that are being stopped. See no-healthy-targets"
    " for why the check fails.",
    "placement": "ECS cannot place the tasks: no container instance has the CPU, memory or the"
    " fixed host port free (a fixed host port admits one task per instance, 004).",
}

_TASK_PATTERNS = (
    ("CannotPullContainerError", "pull"),
    ("ResourceInitializationError", "init"),
    ("CannotStartContainerError", "start"),
    ("CannotCreateContainerError", "start"),
    ("OutOfMemoryError", "exit"),
    ("Essential container in task exited", "exit"),
    ("failed ELB health checks", "health"),
    ("failed container health checks", "health"),
)
_EVENT_PATTERNS = (
    ("CannotPullContainerError", "pull"),
    ("ResourceInitializationError", "init"),
    ("unable to consistently start tasks", "start"),
    ("is unhealthy in (target-group", "health"),
    ("failed ELB health checks", "health"),
    ("failed container health checks", "health"),
    ("unable to place a task", "placement"),
)
STEADY = "has reached a steady state"


@dataclass(frozen=True)
class Failure:
    """One reason, as AWS wrote it, with how many stopped tasks gave it (0: a service event) and
    one of their task ids."""

    kind: str
    text: str
    count: int
    example: str

    @property
    def why(self) -> str:
        """Why this kind of failure breaks the request."""
        return WHY[self.kind]


def recent_failures(service: Shape, stopped: list[Shape]) -> list[Failure]:
    """The failures since the service's primary deployment started: stopped tasks first, then
    events newer than the last steady state; grouped by text, sorted by `ORDER`."""
    since = _primary_created(service)
    grouped: dict[tuple[str, str], list[str]] = {}
    for task in stopped:
        if _before(task.get("stoppedAt") or task.get("createdAt"), since):
            continue
        classified = classify_task(task)
        if classified is not None:
            task_id = str(task.get("taskArn", "")).rsplit("/", 1)[-1]
            grouped.setdefault(classified, []).append(task_id)
    failures = [Failure(kind, text, len(ids), ids[0]) for (kind, text), ids in grouped.items()]
    seen = {f.text for f in failures}
    for event in service.get("events", []):
        message = str(event.get("message", ""))
        if STEADY in message or _before(event.get("createdAt"), since):
            break
        kind = _match(message, _EVENT_PATTERNS)
        if kind is not None and message not in seen:
            seen.add(message)
            failures.append(Failure(kind, message, 0, ""))
    return sorted(failures, key=lambda f: (ORDER.index(f.kind), f.count == 0, -f.count))


def classify_task(task: Shape) -> tuple[str, str] | None:
    """(kind, text) of a stopped task's failure, or None for a task stopped on purpose (scale-in,
    a deployment replacing it, StopTask)."""
    containers = task.get("containers", [])
    texts = [str(c["reason"]) for c in containers if c.get("reason")]
    reason = str(task.get("stoppedReason") or "")
    for text in [*texts, reason]:
        kind = _match(text, _TASK_PATTERNS)
        if kind is None:
            continue
        if text.startswith("Essential container in task exited"):
            return kind, text + _exit_codes(containers)
        return kind, text
    if task.get("stopCode") == "EssentialContainerExited":
        return "exit", (reason or "Essential container in task exited") + _exit_codes(containers)
    if task.get("stopCode") == "TaskFailedToStart":
        return "start", reason or "TaskFailedToStart"
    return None


def _exit_codes(containers: list[Shape]) -> str:
    codes = [
        f"{c.get('name')} exit code {c['exitCode']}"
        for c in containers
        if c.get("exitCode") not in (None, 0)
    ]
    return f" ({', '.join(codes)})" if codes else ""


def _match(text: str, patterns: tuple[tuple[str, str], ...]) -> str | None:
    return next((kind for needle, kind in patterns if needle in text), None)


def _primary_created(service: Shape) -> Any:
    primary: Shape = next(
        (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
    )
    return primary.get("createdAt")


def _before(when: Any, since: Any) -> bool:
    """Whether `when` is earlier than `since` (False when either is missing or not comparable)."""
    if not isinstance(when, datetime) or not isinstance(since, datetime):
        return False
    try:
        return when < since
    except TypeError:  # one naive, one aware
        return False
