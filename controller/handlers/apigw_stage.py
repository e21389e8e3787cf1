"""Deployments (snapshots of the REST API) and the stage that serves one of them.

A deployment is identified by its description `privateservice fingerprint=<fingerprint>`, where
the fingerprint hashes what it snapshots (`controller.model.build`): a changed proxy gives a
new fingerprint, hence a new deployment, which the stage then points at. Deployments carry no
tags (ownership is the REST API's). The stage carries tags and the stage-wide throttle as the
`*/*` method setting. After the stage moves to another deployment, our deployments that no
stage uses any more are deleted.
Reads: one GetStages per API serves both handlers. A deployment id learned once (listed, or
made) is known afterwards to exist while a stage of the API points at it (AWS refuses to delete
a deployment a stage uses), so a steady-state pass lists no deployments.
Neighbours: `apigw_common` (the base), `apigw_rest_api` (the API), `apigw_proxy` (what a
deployment snapshots), `apigw_usage` (plans that name the stage).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from controller.handlers.apigw_common import PAGE, V1, ApiGatewayHandler, throttle_is_temporary
from controller.handlers.apigw_rest_api import fmt_num, rest_api_tags
from controller.handlers.base import (
    Delta,
    Desired,
    Handler,
    Observed,
    changed,
    diff_props,
    error_code,
    props_as,
)
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import Deployment, Stage

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        DeploymentTypeDef,
        PatchOperationTypeDef,
        StageResponseTypeDef,
        StageTypeDef,
    )

    from controller.aws.session import AwsContext

DESCRIPTION_PREFIX = "privateservice fingerprint="
ALL_METHODS = "*/*"


def deployment_description(fingerprint: str) -> str:
    """The description that identifies the deployment of `fingerprint`."""
    return f"{DESCRIPTION_PREFIX}{fingerprint}"


def stages(client: APIGatewayClient, rest_api_id: str) -> list[StageTypeDef] | None:
    """Every stage of a REST API (one GetStages for the stage and deployment handlers), or None
    when the API is gone."""
    try:
        return list(client.get_stages(restApiId=rest_api_id).get("item", []))
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return None
        raise


def deployments(client: APIGatewayClient, rest_api_id: str) -> Iterator[DeploymentTypeDef]:
    """Every deployment of a REST API."""
    pages = client.get_paginator("get_deployments").paginate(
        restApiId=rest_api_id, PaginationConfig=PAGE
    )
    for page in pages:
        yield from page.get("items", [])


class DeploymentHandler(Handler):
    """`apigw.deployment`: props {restApiId, fingerprint}."""

    kind = kinds.APIGW_DEPLOYMENT
    service = "apigateway"
    identity = ("restApiId", "fingerprint")
    client: APIGatewayClient

    def props_of(self, want: Desired) -> Deployment[Known]:
        """The desired props as `Deployment` (`controller.model.props_api`)."""
        return props_as(want, Deployment[Known])

    def __init__(self, aws: AwsContext) -> None:
        super().__init__(aws)
        self._known: dict[tuple[str, str], str] = {}  # (API, fingerprint) -> deployment id

    def _observed(self, want: Desired, deployment_id: str, tags: dict[str, str]) -> Observed:
        return Observed(
            key=want.key,
            id=deployment_id,
            props={
                "restApiId": self.props_of(want)["restApiId"],
                "fingerprint": self.props_of(want)["fingerprint"],
            },
            tags=tags,
            outputs={"id": deployment_id},
        )

    def observe(self, want: Desired) -> Observed | None:
        """The deployment whose description names our fingerprint."""
        rest_api_id = self.props_of(want)["restApiId"]
        tags = rest_api_tags(self.client, rest_api_id)
        if tags is None:
            return None
        ident = (rest_api_id, self.props_of(want)["fingerprint"])
        known = self._known.get(ident)
        if known is not None and any(
            s.get("deploymentId") == known for s in stages(self.client, rest_api_id) or ()
        ):
            return self._observed(want, known, tags)
        description = deployment_description(self.props_of(want)["fingerprint"])
        try:
            found = next(
                (
                    d
                    for d in deployments(self.client, rest_api_id)
                    if d.get("description") == description
                ),
                None,
            )
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        if found is None:
            return None
        self._known[ident] = found["id"]
        return self._observed(want, found["id"], tags)

    def create(self, want: Desired) -> Observed:
        """Deploy the API as it is now, without a stage (the stage handler points at it)."""
        have = self.observe(want)
        if have is not None:
            return have
        rest_api_id = self.props_of(want)["restApiId"]
        self.log_call("creating", want, restApiId=rest_api_id)
        with throttle_is_temporary("CreateDeployment", 5):
            made = self.client.create_deployment(
                restApiId=rest_api_id,
                description=deployment_description(self.props_of(want)["fingerprint"]),
            )
        self.log_call("created", want, id=made["id"])
        self._known[(rest_api_id, self.props_of(want)["fingerprint"])] = made["id"]
        return self._observed(want, made["id"], rest_api_tags(self.client, rest_api_id) or {})

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing to update: another fingerprint is another deployment."""
        del want, deltas
        return have

    def delete(self, have: Observed) -> None:
        """Delete; NotFound is success, and so is a deployment a stage still uses."""
        delete_deployment(self, have, have.props["restApiId"], have.id)

    def list_owned(self, owner: str) -> list[Observed]:
        """None apart: deployments go with the REST API."""
        del owner
        return []


def delete_deployment(
    handler: Handler, subject: Desired | Observed, rest_api_id: str, deployment_id: str
) -> None:
    """DeleteDeployment, ignoring NotFound and BadRequest (a stage still uses it).

    `subject` is the resource on whose behalf it happens (the deployment, or the stage that
    moved away from it), for the log.
    """
    handler.log_call("deleting deployment", subject, restApiId=rest_api_id, id=deployment_id)
    try:
        handler.client.delete_deployment(restApiId=rest_api_id, deploymentId=deployment_id)
    except ClientError as exc:
        if not handler.is_not_found(exc) and error_code(exc) != "BadRequestException":
            raise


def _throttle(stage: StageTypeDef | StageResponseTypeDef) -> dict[str, Any] | None:
    settings = stage.get("methodSettings", {}).get(ALL_METHODS)
    if settings is None:
        return None
    return {
        "rateLimit": settings.get("throttlingRateLimit"),
        "burstLimit": settings.get("throttlingBurstLimit"),
    }


class StageHandler(ApiGatewayHandler):
    """`apigw.stage`: props {restApiId, stageName, deploymentId, throttle | None}."""

    kind = kinds.APIGW_STAGE
    identity = ("restApiId", "stageName")  # the new deployment may not exist yet
    spelling = V1.of("Stage", "stageName")
    create_log = (("stageName", "stageName"),)
    client: APIGatewayClient

    def props_of(self, want: Desired) -> Stage[Known]:
        """The desired props as `Stage` (`controller.model.props_api`)."""
        return props_as(want, Stage[Known])

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas, a stage-wide throttle to remove included."""
        return diff_props(want.props, have.props)

    def _observed(
        self, key: str, rest_api_id: str, stage: StageTypeDef | StageResponseTypeDef
    ) -> Observed:
        name = stage.get("stageName", "")
        return Observed(
            key=key,
            id=name,
            props={
                "restApiId": rest_api_id,
                "stageName": name,
                "deploymentId": stage.get("deploymentId"),
                "throttle": _throttle(stage),
            },
            tags=dict(stage.get("tags", {})),
            outputs={"id": name, "name": name, "invokeUrl": self.invoke_url(rest_api_id, name)},
        )

    def invoke_url(self, rest_api_id: str, stage_name: str) -> str:
        """The stage's URL: for a PRIVATE API, the one a client in the VPC uses when its
        execute-api endpoint has private DNS on (AWS resolves the public name to it there)."""
        return f"https://{rest_api_id}.execute-api.{self.aws.region}.amazonaws.com/{stage_name}"

    def observe(self, want: Desired) -> Observed | None:
        """The stage by name among the API's stages (the read the deployment handler shares)."""
        rest_api_id = self.props_of(want)["restApiId"]
        name = self.props_of(want)["stageName"]
        stage = next(
            (s for s in stages(self.client, rest_api_id) or () if s.get("stageName") == name), None
        )
        return None if stage is None else self._observed(want.key, rest_api_id, stage)

    def create(self, want: Desired) -> Observed:
        """CreateStage with tags, then the throttle (CreateStage takes no method settings)."""
        have = self._create(
            want,
            lambda stage: self._observed(want.key, self.props_of(want)["restApiId"], stage),
            taken=lambda: self._made_before(want),
        )
        deltas = self.diff(want, have)
        return self.update(want, have, deltas) if deltas else have

    def _made_before(self, want: Desired) -> Observed:
        have = self.observe(want)
        assert have is not None  # made by a retry before us
        return have

    def _make(self, want: Desired) -> StageResponseTypeDef:
        p = self.props_of(want)
        return self.client.create_stage(
            restApiId=p["restApiId"],
            stageName=p["stageName"],
            deploymentId=p["deploymentId"],
            tags=dict(want.tags),
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateStage (deployment, throttle); then drop deployments no stage uses."""
        p = self.props_of(want)
        ops: list[PatchOperationTypeDef] = []
        moved = changed(deltas, "deploymentId")
        if moved:
            ops.append({"op": "replace", "path": "/deploymentId", "value": p["deploymentId"]})
        if changed(deltas, "throttle"):
            throttle = p["throttle"]
            if throttle is None:
                ops.append({"op": "remove", "path": f"/{ALL_METHODS}"})
            else:
                ops += [
                    {
                        "op": "replace",
                        "path": f"/{ALL_METHODS}/throttling/rateLimit",
                        "value": fmt_num(throttle["rateLimit"]),
                    },
                    {
                        "op": "replace",
                        "path": f"/{ALL_METHODS}/throttling/burstLimit",
                        "value": fmt_num(throttle["burstLimit"]),
                    },
                ]
        updated = self._update(want, have, ops)
        if moved:
            self._drop_unused_deployments(want, keep=p["deploymentId"])
        return updated

    def _send_update(
        self, want: Desired, have: Observed, changes: list[PatchOperationTypeDef]
    ) -> StageResponseTypeDef:
        p = self.props_of(want)
        return self.client.update_stage(
            restApiId=p["restApiId"], stageName=p["stageName"], patchOperations=changes
        )

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        return self._observed(want.key, self.props_of(want)["restApiId"], made)

    def _drop_unused_deployments(self, want: Desired, keep: str) -> None:
        """Delete our (fingerprinted) deployments that no stage of the API uses."""
        rest_api_id = self.props_of(want)["restApiId"]
        used = {s.get("deploymentId") for s in stages(self.client, rest_api_id) or ()} | {keep}
        stale = [
            d["id"]
            for d in deployments(self.client, rest_api_id)
            if d["id"] not in used and d.get("description", "").startswith(DESCRIPTION_PREFIX)
        ]
        for deployment_id in stale:
            delete_deployment(self, want, rest_api_id, deployment_id)

    def _send_delete(self, have: Observed) -> None:
        """NotFound is success."""
        self.client.delete_stage(restApiId=have.props["restApiId"], stageName=have.id)
