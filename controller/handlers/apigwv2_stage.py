"""The HTTP API's stage: auto-deployed, with the spec's throttle as its default route settings.

HTTP APIs need no deployment resource: an auto-deploy stage deploys every change to routes and
integrations itself (and moto has no CreateDeployment anyway). The stage carries tags; the
throttle is `DefaultRouteSettings.ThrottlingRateLimit/ThrottlingBurstLimit`. UpdateStage replaces
the default route settings as a whole, so an update re-reads them and keeps what is not ours
(detailed metrics, logging). Outputs: `name`, and `invokeUrl`
(`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, no stage for `$default`) for
the status endpoint.
Neighbours: `apigw_common` (the base), `apigwv2_api` (the API), `apigwv2_route` (what it deploys),
`controller.reconcile.status` (reads `invokeUrl`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from controller.handlers.apigw_common import V2, ApiGatewayHandler
from controller.handlers.base import Delta, Desired, Observed, changed, props_as
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import HttpStage

if TYPE_CHECKING:
    from types_boto3_apigatewayv2 import ApiGatewayV2Client
    from types_boto3_apigatewayv2.type_defs import GetStageResponseTypeDef

RATE, BURST = "ThrottlingRateLimit", "ThrottlingBurstLimit"
CREATED: dict[Literal["apiId", "stageName", "autoDeploy"], str] = {
    "apiId": "ApiId",
    "stageName": "StageName",
    "autoDeploy": "AutoDeploy",
}
"""Props CreateStage takes as they are, and how it spells them."""


DEFAULT_STAGE = "$default"


def invoke_url(api_id: str, region: str, stage: str) -> str:
    """The execute-api URL of a stage of an HTTP API: `$default` is served from the base of
    the URL, with no stage prefix
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    path = "" if stage == DEFAULT_STAGE else stage
    return f"https://{api_id}.execute-api.{region}.{suffix}/{path}"


def throttle_of(settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Default route settings -> {rateLimit, burstLimit}, or None when neither is set."""
    settings = settings or {}
    if settings.get(RATE) is None and settings.get(BURST) is None:
        return None
    return {"rateLimit": settings.get(RATE), "burstLimit": settings.get(BURST)}


def route_settings(
    current: Mapping[str, Any] | None, throttle: Mapping[str, Any] | None
) -> dict[str, Any]:
    """`current` default route settings with the throttle replaced by `throttle` (or removed)."""
    out = {k: v for k, v in (current or {}).items() if k not in (RATE, BURST)}
    if throttle is not None:
        out |= {RATE: float(throttle["rateLimit"]), BURST: int(throttle["burstLimit"])}
    return out


class HttpStageHandler(ApiGatewayHandler):
    """`apigwv2.stage`: props {apiId, stageName, autoDeploy, throttle | None}."""

    kind = kinds.APIGWV2_STAGE
    client: ApiGatewayV2Client
    identity = ("apiId", "stageName")
    spelling = V2.of("Stage", "StageName")
    create_log = (("stageName", "stageName"),)

    def props_of(self, want: Desired) -> HttpStage[Known]:
        """The desired props as `HttpStage` (`controller.model.props_api`)."""
        return props_as(want, HttpStage[Known])

    def _observed(self, key: str, api_id: str, stage: Mapping[str, Any]) -> Observed:
        name = str(stage.get("StageName", ""))
        return Observed(
            key=key,
            id=name,
            props={
                "apiId": api_id,
                "stageName": name,
                "autoDeploy": bool(stage.get("AutoDeploy", False)),
                "throttle": throttle_of(stage.get("DefaultRouteSettings")),
            },
            tags={str(k): str(v) for k, v in (stage.get("Tags") or {}).items()},
            outputs={
                "id": name,
                "name": name,
                "invokeUrl": invoke_url(api_id, self.aws.region, name),
            },
        )

    def _get(self, api_id: str, name: str) -> GetStageResponseTypeDef | None:
        try:
            stage = self.client.get_stage(ApiId=api_id, StageName=name)
        except ClientError as exc:
            if self.is_not_found(exc):
                return None
            raise
        return stage

    def observe(self, want: Desired) -> Observed | None:
        """GetStage by API and name."""
        api_id = self.props_of(want)["apiId"]
        stage = self._get(api_id, self.props_of(want)["stageName"])
        return None if stage is None else self._observed(want.key, api_id, stage)

    def create(self, want: Desired) -> Observed:
        """CreateStage with auto-deploy, the throttle and tags (after a look-up; one made by a
        retry before us is a ConflictException, then found again)."""
        return self._create(
            want,
            lambda stage: self._observed(want.key, self.props_of(want)["apiId"], stage),
            taken=lambda: self.reobserve(want),
        )

    def _make(self, want: Desired) -> Any:
        fields: dict[str, Any] = {
            field: self.props_of(want)[prop] for prop, field in CREATED.items()
        }
        settings = route_settings(None, self.props_of(want)["throttle"])
        if settings:
            fields["DefaultRouteSettings"] = settings
        return self.client.create_stage(Tags=dict(want.tags), **fields)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """One UpdateStage: auto-deploy, and the default route settings with our throttle."""
        p = self.props_of(want)
        fields: dict[str, Any] = {}
        if changed(deltas, "autoDeploy"):
            fields["AutoDeploy"] = p["autoDeploy"]
        if changed(deltas, "throttle"):
            current = self._get(p["apiId"], p["stageName"])
            held = None if current is None else current.get("DefaultRouteSettings")
            fields["DefaultRouteSettings"] = route_settings(held, p["throttle"])
        return self._update(want, have, fields)

    def _send_update(self, want: Desired, have: Observed, changes: dict[str, Any]) -> Any:
        p = self.props_of(want)
        return self.client.update_stage(ApiId=p["apiId"], StageName=p["stageName"], **changes)

    def _answered(self, want: Desired, have: Observed, made: Any) -> Observed:
        """UpdateStage's answer, with the tags we had when it leaves them out."""
        updated = self._observed(want.key, self.props_of(want)["apiId"], made)
        updated.tags = updated.tags or have.tags
        return updated

    def _send_delete(self, have: Observed) -> None:
        """NotFound (or the API gone) is success."""
        self.client.delete_stage(ApiId=have.props["apiId"], StageName=have.id)
