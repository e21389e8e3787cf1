"""Task definitions: a new revision only when the desired one differs from the latest.

awsvpc (Fargate) or bridge (EC2 with a fixed host port, seed 004); a named port mapping with its
`appProtocol` when the service uses Service Connect.

Task definitions are immutable; "update" registers a revision and the service moves to it.
Delete deregisters every ACTIVE revision of the family. Neighbours: `controller.handlers.base`,
`controller.handlers.ecs_service` (uses the revision ARN).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    error_code,
    props_as,
    tolerating,
)
from controller.model import kinds
from controller.model.props import Known, TaskDefinition

if TYPE_CHECKING:
    from types_boto3_ecs import ECSClient


def port_mapping_props(pm: Mapping[str, Any], network_mode: str | None) -> dict[str, Any]:
    """A port mapping in the desired props' shape.

    In awsvpc mode AWS echoes `hostPort` equal to `containerPort` whether given or not, so it
    is reported only where it means something (bridge/host mode: the fixed host port of seed
    004). `name` and `appProtocol` (Service Connect) appear only when set.
    """
    out: dict[str, Any] = {
        "containerPort": pm["containerPort"],
        "protocol": pm.get("protocol", "tcp"),
    }
    if network_mode != "awsvpc" and pm.get("hostPort") is not None:
        out["hostPort"] = pm["hostPort"]
    for key in ("name", "appProtocol"):
        if pm.get(key):
            out[key] = pm[key]
    return out


def container_props(cd: Mapping[str, Any], network_mode: str | None = "awsvpc") -> dict[str, Any]:
    """A container definition in the desired props' shape."""
    log_options = cd.get("logConfiguration", {}).get("options", {})
    return {
        "name": cd["name"],
        "image": cd["image"],
        "essential": cd.get("essential", True),
        "portMappings": [port_mapping_props(pm, network_mode) for pm in cd.get("portMappings", [])],
        "command": list(cd.get("command") or []),
        "environment": dict(sorted((e["name"], e["value"]) for e in cd.get("environment", []))),
        "secrets": dict(sorted((s["name"], s["valueFrom"]) for s in cd.get("secrets", []))),
        "stopTimeout": cd.get("stopTimeout"),
        "logGroup": log_options.get("awslogs-group"),
    }


class TaskDefinitionHandler(Handler):
    """ECS task definition family."""

    kind = kinds.ECS_TASK_DEFINITION
    client: ECSClient
    service = "ecs"
    not_found_codes = ("ClientException",)
    # ECS answers ClientException for a missing revision and for a refused call alike: on
    # delete only the deregistration of one revision (in `delete`) may treat it as gone
    gone_on_delete = ()
    update_changes_outputs = True

    def props_of(self, want: Desired) -> TaskDefinition[Known]:
        """The desired props as `TaskDefinition` (`controller.model.props`)."""
        return props_as(want, TaskDefinition[Known])

    def observe(self, want: Desired) -> Observed | None:
        """The latest ACTIVE revision of the family."""
        try:
            out = self.client.describe_task_definition(
                taskDefinition=self.props_of(want)["family"], include=["TAGS"]
            )
        except ClientError as exc:
            if error_code(exc) == "ClientException":
                return None
            raise
        td = out["taskDefinition"]
        if td.get("status") != "ACTIVE":
            return None
        arn = td["taskDefinitionArn"]
        return Observed(
            key=want.key,
            id=arn,
            props={
                "family": td["family"],
                "cpu": td.get("cpu"),
                "memory": td.get("memory"),
                "networkMode": td.get("networkMode"),
                "requiresCompatibilities": td.get("requiresCompatibilities", []),
                "executionRoleArn": td.get("executionRoleArn"),
                "taskRoleArn": td.get("taskRoleArn"),
                "container": container_props(td["containerDefinitions"][0], td.get("networkMode")),
            },
            tags=ownership.from_list(out.get("tags")),
            outputs={"id": arn, "arn": arn, "revision": td["revision"]},
        )

    def _register(self, want: Desired) -> Observed:
        p = self.props_of(want)
        c = p["container"]
        container: dict[str, Any] = {
            "name": c["name"],
            "image": c["image"],
            "essential": c["essential"],
            "portMappings": [dict(pm) for pm in c["portMappings"]],
            "environment": [{"name": k, "value": v} for k, v in c["environment"].items()],
            "secrets": [{"name": k, "valueFrom": v} for k, v in c["secrets"].items()],
            "stopTimeout": c["stopTimeout"],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": c["logGroup"],
                    "awslogs-region": self.aws.region,
                    "awslogs-stream-prefix": c["name"],
                },
            },
        }
        if c["command"]:
            container["command"] = list(c["command"])
        args: dict[str, Any] = {
            "family": p["family"],
            "cpu": p["cpu"],
            "memory": p["memory"],
            "networkMode": p["networkMode"],
            "requiresCompatibilities": list(p["requiresCompatibilities"]),
            "containerDefinitions": [container],
            "tags": ownership.to_list(want.tags, lower=True),
        }
        for role in ("executionRoleArn", "taskRoleArn"):
            if p.get(role):
                args[role] = p[role]
        self.log_call("registering revision", want, family=p["family"])
        with self.creating(want):
            td = self.client.register_task_definition(**args)["taskDefinition"]
        self.log_call("registered revision", want, id=td["taskDefinitionArn"])
        return self.reobserve(want)

    def create(self, want: Desired) -> Observed:
        """Register the first revision."""
        return self._register(want)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Register a new revision (the old one stays for rollbacks)."""
        del have, deltas
        return self._register(want)

    def delete(self, have: Observed) -> None:
        """Deregister every ACTIVE revision of the family."""
        family = have.props["family"]
        pages = self.client.get_paginator("list_task_definitions").paginate(
            familyPrefix=family, status="ACTIVE"
        )
        for page in pages:
            for arn in page["taskDefinitionArns"]:
                if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] != family:
                    continue
                self.log_call("deregistering", have, id=arn)
                with tolerating("ClientException"):
                    self.client.deregister_task_definition(taskDefinition=arn)
