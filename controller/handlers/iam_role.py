"""The task execution role the controller creates when `service.executionRoleArn` is not given.

Fargate needs an execution role to pull images and to send logs with the `awslogs` driver; a
spec without one would register a task definition that AWS refuses. The role trusts
`ecs-tasks.amazonaws.com`, has AWS's managed `AmazonECSTaskExecutionRolePolicy`, and an inline
policy that reads exactly the spec's secrets. Neighbours: `controller.handlers.base`,
`controller.model.build` (the props), `controller.handlers.ecs_task_definition` (the user).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    changed,
    error_code,
    props_as,
    tolerating,
)
from controller.model import kinds
from controller.model.props import Role

if TYPE_CHECKING:
    from types_boto3_iam import IAMClient

INLINE = "privateservice-secrets"


class RoleHandler(Handler):
    """IAM role with managed policies and one inline policy."""

    kind = kinds.IAM_ROLE
    client: IAMClient
    service = "iam"
    replace_on = ("name",)
    not_found_codes = ("NoSuchEntity",)

    def props_of(self, want: Desired) -> Role:
        """The desired props as `Role` (`controller.model.props`)."""
        return props_as(want, Role)

    def observe(self, want: Desired) -> Observed | None:
        """GetRole (with tags), its managed policies and our inline policy."""
        name = self.props_of(want)["name"]
        try:
            role = self.client.get_role(RoleName=name)["Role"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        managed = sorted(
            p["PolicyArn"]
            for page in self.client.get_paginator("list_attached_role_policies").paginate(
                RoleName=name
            )
            for p in page["AttachedPolicies"]
        )
        inline = None
        with tolerating("NoSuchEntity"):
            inline = self.client.get_role_policy(RoleName=name, PolicyName=INLINE)["PolicyDocument"]
        if isinstance(inline, str):
            inline = json.loads(inline)
        trust = role["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(trust)
        return Observed(
            key=want.key,
            id=role["Arn"],
            props={
                "name": role["RoleName"],
                "trustPolicy": trust,
                "managedPolicies": managed,
                "inlinePolicy": inline,
            },
            tags=ownership.from_list(role.get("Tags")),
            outputs={"id": role["Arn"], "arn": role["Arn"]},
        )

    def create(self, want: Desired) -> Observed:
        """Create the role with its trust policy and tags, then its policies."""
        p = self.props_of(want)
        self.log_call("creating", want, name=p["name"])
        with tolerating("EntityAlreadyExists"):
            self.client.create_role(
                RoleName=p["name"],
                AssumeRolePolicyDocument=json.dumps(p["trustPolicy"]),
                Description=f"privateservice {want.owner}: ECS task execution",
                Tags=ownership.to_list(want.tags),
            )
        have = self.reobserve(want)
        return self.update(want, have, self.diff(want, have))

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Trust policy, managed policies, inline policy: each only when it differs."""
        p = self.props_of(want)
        name = p["name"]
        if changed(deltas, "trustPolicy"):
            self.log_call("updating trust policy", want)
            self.client.update_assume_role_policy(
                RoleName=name, PolicyDocument=json.dumps(p["trustPolicy"])
            )
        if changed(deltas, "managedPolicies"):
            for arn in sorted(set(p["managedPolicies"]) - set(have.props["managedPolicies"])):
                self.log_call("attaching policy", want, policy=arn)
                self.client.attach_role_policy(RoleName=name, PolicyArn=arn)
            for arn in sorted(set(have.props["managedPolicies"]) - set(p["managedPolicies"])):
                self.log_call("detaching policy", want, policy=arn)
                self.client.detach_role_policy(RoleName=name, PolicyArn=arn)
        if changed(deltas, "inlinePolicy"):
            if p["inlinePolicy"] is None:
                self._delete_inline(name)
            else:
                self.log_call("putting inline policy", want)
                self.client.put_role_policy(
                    RoleName=name, PolicyName=INLINE, PolicyDocument=json.dumps(p["inlinePolicy"])
                )
        return self.reobserve(want)

    def _delete_inline(self, name: str) -> None:
        with tolerating("NoSuchEntity"):
            self.client.delete_role_policy(RoleName=name, PolicyName=INLINE)

    def delete(self, have: Observed) -> None:
        """Detach and delete its policies, then the role; NotFound is success."""
        name = have.props["name"]
        self.log_call("deleting", have, id=have.id)
        with tolerating("NoSuchEntity"):
            for arn in have.props["managedPolicies"]:
                self.client.detach_role_policy(RoleName=name, PolicyArn=arn)
            self._delete_inline(name)
            self.client.delete_role(RoleName=name)
