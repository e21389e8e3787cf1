"""Usage plans, API keys and the keys' membership in plans (rule 5; seed 002: a key that is in
no plan gets 403).

Plans and keys are found by their deterministic names (`<namespace>/<name>/<item>`), preferring
the ones with our owner tag. A plan's throttle, quota and API stages change through ONE
UpdateUsagePlan per reconcile (AWS allows one call per 20 s); a plan is detached from its stages
before it is deleted. A plan key has no tags: it is ours through its plan (and only listed when
its API key is ours too). API key values are never requested (`includeValues=False`), logged or
reported, although CreateApiKey and the plan-key calls return them.
Neighbours: `apigw_common` (the base, paging), `apigw_rest_api` (number and boolean patch values),
`apigw_stage` (the stage the plans name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from controller.aws import tags as ownership
from controller.errors import TemporaryError
from controller.handlers.apigw_common import (
    PAGE,
    V1,
    ApiGatewayHandler,
    NamedHandler,
    item_of,
    tags_of,
    throttle_is_temporary,
)
from controller.handlers.apigw_rest_api import fmt_bool, fmt_num
from controller.handlers.base import (
    Delta,
    Desired,
    Observed,
    changed,
    diff_props,
    props_as,
    tolerating,
)
from controller.model import kinds
from controller.model.props import Known
from controller.model.props_api import ApiKey, UsagePlan, UsagePlanKey

if TYPE_CHECKING:
    from types_boto3_apigateway import APIGatewayClient
    from types_boto3_apigateway.type_defs import (
        ApiKeyResponseTypeDef,
        ApiKeyTypeDef,
        CreateUsagePlanRequestTypeDef,
        PatchOperationTypeDef,
        UsagePlanResponseTypeDef,
        UsagePlanTypeDef,
    )

UPDATE_PLAN_DELAY = 20.0  # UpdateUsagePlan: 1 call per 20 s per account


def usage_plans(client: APIGatewayClient) -> Iterator[UsagePlanTypeDef]:
    """Every usage plan of the account and region (one list every spec's pass shares)."""
    for page in client.get_paginator("get_usage_plans").paginate(PaginationConfig=PAGE):
        yield from page.get("items", [])


def api_keys(client: APIGatewayClient) -> Iterator[ApiKeyTypeDef]:
    """Every API key, never with its value (one list every spec's pass shares: a `nameQuery`
    per key would be one call per key)."""
    pages = client.get_paginator("get_api_keys").paginate(
        includeValues=False, PaginationConfig=PAGE
    )
    for page in pages:
        yield from page.get("items", [])


def plan_key_ids(client: APIGatewayClient, plan_id: str) -> set[str] | None:
    """The ids of the API keys in a usage plan (one list for all its keys), None if it is gone."""
    pages = client.get_paginator("get_usage_plan_keys").paginate(
        usagePlanId=plan_id, PaginationConfig=PAGE
    )
    try:
        return {member.get("id", "") for page in pages for member in page.get("items", [])}
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) == "NotFoundException":
            return None
        raise


def _number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    return None if value is None else kind(value)


def plan_props(plan: UsagePlanTypeDef | UsagePlanResponseTypeDef) -> dict[str, Any]:
    """A usage plan in the desired props' shape (numbers as AWS types them: rate is a double)."""
    throttle, quota = plan.get("throttle"), plan.get("quota")
    return {
        "name": plan.get("name"),
        "throttle": {
            "rateLimit": _number(throttle.get("rateLimit"), float),
            "burstLimit": _number(throttle.get("burstLimit"), int),
        }
        if throttle
        else None,
        "quota": {
            "limit": _number(quota.get("limit"), int),
            "period": quota.get("period"),
            "offset": _number(quota.get("offset", 0), int),
        }
        if quota
        else None,
        "apiStages": sorted(
            (
                {"apiId": s.get("apiId", ""), "stage": s.get("stage", "")}
                for s in plan.get("apiStages", [])
            ),
            key=lambda s: (s["apiId"], s["stage"]),
        ),
    }


def _stage_ref(stage: Mapping[str, Any]) -> str:
    return f"{stage['apiId']}:{stage['stage']}"


def _section_ops(
    section: str, want: Mapping[str, Any] | None, have: Mapping[str, Any] | None
) -> list[PatchOperationTypeDef]:
    """Patch operations that turn `have` into `want` for `/throttle` or `/quota`."""
    if want is None:
        return [] if have is None else [{"op": "remove", "path": f"/{section}"}]
    op: Literal["add", "replace"] = "add" if have is None else "replace"
    return [
        {
            "op": op,
            "path": f"/{section}/{field}",
            "value": fmt_num(value) if isinstance(value, int | float) else str(value),
        }
        for field, value in want.items()
        if have is None or have.get(field) != value
    ]


class UsagePlanHandler(NamedHandler):
    """`apigw.usage_plan`: props {name, throttle | None, quota | None, apiStages}."""

    kind = kinds.APIGW_USAGE_PLAN
    owned_key = "usage-plan/{item}"
    spelling = V1.of("UsagePlan")
    client: APIGatewayClient

    def props_of(self, want: Desired) -> UsagePlan[Known]:
        """The desired props as `UsagePlan` (`controller.model.props_api`)."""
        return props_as(want, UsagePlan[Known])

    def _live(self) -> Iterator[UsagePlanTypeDef]:
        return usage_plans(self.client)

    def _observed(self, key: str, plan: UsagePlanTypeDef | UsagePlanResponseTypeDef) -> Observed:
        return self._seen(key, plan, plan_props(plan))

    def diff(self, want: Desired, have: Observed) -> list[Delta]:
        """Field deltas (a throttle or quota to remove included), stages in observed order."""
        props = dict(want.props)
        props["apiStages"] = sorted(props["apiStages"], key=lambda s: (s["apiId"], s["stage"]))
        return diff_props(props, have.props)

    def _make(self, want: Desired) -> UsagePlanResponseTypeDef:
        """CreateUsagePlan with its stages, throttle, quota and tags."""
        p = self.props_of(want)
        request: CreateUsagePlanRequestTypeDef = {
            "name": p["name"],
            "description": f"privateservice {want.owner}",
            "apiStages": [{"apiId": s["apiId"], "stage": s["stage"]} for s in p["apiStages"]],
            "tags": dict(want.tags),
        }
        if (throttle := p["throttle"]) is not None:
            request["throttle"] = {
                "rateLimit": throttle["rateLimit"],
                "burstLimit": throttle["burstLimit"],
            }
        if (quota := p["quota"]) is not None:
            request["quota"] = {
                "limit": quota["limit"],
                "period": quota["period"],
                "offset": quota["offset"],
            }
        return self.client.create_usage_plan(**request)

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Throttle, quota and stages in ONE UpdateUsagePlan (AWS: 1 call per 20 s)."""
        p = self.props_of(want)
        ops: list[PatchOperationTypeDef] = []
        if changed(deltas, "throttle"):
            ops += _section_ops("throttle", p["throttle"], have.props.get("throttle"))
        if changed(deltas, "quota"):
            ops += _section_ops("quota", p["quota"], have.props.get("quota"))
        if changed(deltas, "apiStages"):
            wanted = {_stage_ref(s) for s in p["apiStages"]}
            held = {_stage_ref(s) for s in have.props.get("apiStages", [])}
            ops += [
                {"op": "remove", "path": "/apiStages", "value": ref}
                for ref in sorted(held - wanted)
            ]
            ops += [
                {"op": "add", "path": "/apiStages", "value": ref} for ref in sorted(wanted - held)
            ]
        if not ops:
            return have
        self.log_call("updating", want, id=have.id, paths=[op["path"] for op in ops])
        with throttle_is_temporary("UpdateUsagePlan", UPDATE_PLAN_DELAY):
            plan = self.client.update_usage_plan(usagePlanId=have.id, patchOperations=ops)
        return self._observed(want.key, plan)

    def _send_delete(self, have: Observed) -> None:
        """Detach the plan from its stages, then delete it."""
        stages = have.props.get("apiStages") or []
        if stages:
            with throttle_is_temporary("UpdateUsagePlan", UPDATE_PLAN_DELAY):
                self.client.update_usage_plan(
                    usagePlanId=have.id,
                    patchOperations=[
                        {"op": "remove", "path": "/apiStages", "value": _stage_ref(s)}
                        for s in stages
                    ],
                )
        self.client.delete_usage_plan(usagePlanId=have.id)


class ApiKeyHandler(NamedHandler):
    """`apigw.api_key`: props {name, enabled}. The key's value never leaves AWS through us."""

    kind = kinds.APIGW_API_KEY
    owned_key = "api-key/{item}"
    spelling = V1.of("ApiKey")
    client: APIGatewayClient

    def props_of(self, want: Desired) -> ApiKey:
        """The desired props as `ApiKey` (`controller.model.props_api`)."""
        return props_as(want, ApiKey)

    def _live(self) -> Iterator[ApiKeyTypeDef]:
        """Every key, never with its value; found by exactly our name (a `nameQuery` matches
        prefixes)."""
        return api_keys(self.client)

    def _observed(self, key: str, api_key: ApiKeyTypeDef | ApiKeyResponseTypeDef) -> Observed:
        """Only id, name, enabled and tags: never `value`."""
        props = {"name": api_key.get("name"), "enabled": api_key.get("enabled", False)}
        return self._seen(key, api_key, props)

    def _make(self, want: Desired) -> ApiKeyResponseTypeDef:
        """CreateApiKey (AWS generates the value; the answer's value is dropped at once)."""
        p = self.props_of(want)
        return self.client.create_api_key(
            name=p["name"],
            description=f"privateservice {want.owner}",
            enabled=p["enabled"],
            tags=dict(want.tags),
        )

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """UpdateApiKey for `enabled` (the name is identity)."""
        if not changed(deltas, "enabled"):
            return have
        enabled = self.props_of(want)["enabled"]
        self.log_call("updating", want, id=have.id, enabled=enabled)
        made = self.client.update_api_key(
            apiKey=have.id,
            patchOperations=[{"op": "replace", "path": "/enabled", "value": fmt_bool(enabled)}],
        )
        return self._observed(want.key, made)

    def _send_delete(self, have: Observed) -> None:
        self.client.delete_api_key(apiKey=have.id)


class UsagePlanKeyHandler(ApiGatewayHandler):
    """`apigw.usage_plan_key`: props {usagePlanId, keyId}; owned through its usage plan."""

    kind = kinds.APIGW_USAGE_PLAN_KEY
    identity = ("usagePlanId", "keyId")
    spelling = V1.of("UsagePlanKey")
    client: APIGatewayClient

    def props_of(self, want: Desired) -> UsagePlanKey[Known]:
        """The desired props as `UsagePlanKey` (`controller.model.props_api`)."""
        return props_as(want, UsagePlanKey[Known])

    @staticmethod
    def _observed(key: str, plan_id: str, key_id: str, tags: dict[str, str]) -> Observed:
        return Observed(
            key=key,
            id=f"{plan_id}/{key_id}",
            props={"usagePlanId": plan_id, "keyId": key_id},
            tags=tags,
            outputs={"id": key_id},
        )

    def observe(self, want: Desired) -> Observed | None:
        """The key among its plan's keys (one list per plan, for all its keys); tags are the
        plan's, from the account's list of plans."""
        plan_id, key_id = self.props_of(want)["usagePlanId"], self.props_of(want)["keyId"]
        plan = next((p for p in usage_plans(self.client) if p.get("id") == plan_id), None)
        members = None if plan is None else plan_key_ids(self.client, plan_id)
        if plan is None or members is None or key_id not in members:
            return None
        return self._observed(want.key, plan_id, key_id, tags_of(plan))

    def create(self, want: Desired) -> Observed:
        """Put the API key in the plan (a key already in it is success)."""
        plan_id, key_id = self.props_of(want)["usagePlanId"], self.props_of(want)["keyId"]
        self.log_call("creating", want, usagePlanId=plan_id, keyId=key_id)
        with tolerating("ConflictException"):
            self.client.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
        have = self.observe(want)
        if have is None:
            msg = f"usage plan key {plan_id}/{key_id} not found right after creating it"
            raise TemporaryError(msg)
        self.log_call("created", want, id=have.id)
        return have

    def update(self, want: Desired, have: Observed, deltas: list[Delta]) -> Observed:
        """Nothing to update: another plan or key is another plan key."""
        del want, deltas
        return have

    def _send_delete(self, have: Observed) -> None:
        """Take the key out of the plan."""
        self.client.delete_usage_plan_key(
            usagePlanId=have.props["usagePlanId"], keyId=have.props["keyId"]
        )

    def list_owned(self, owner: str) -> list[Observed]:
        """Keys of our plans whose API key is ours: `usage-plan-key/<plan item>/<key item>`."""
        ours = {
            k["id"]: k.get("name", "")
            for k in api_keys(self.client)
            if ownership.is_owned(tags_of(k), owner)
        }
        out: list[Observed] = []
        for plan in usage_plans(self.client):
            tags = tags_of(plan)
            if not ownership.is_owned(tags, owner):
                continue
            plan_item = item_of(plan.get("name", ""), owner)
            for key_id in sorted(plan_key_ids(self.client, plan["id"]) or ()):
                if key_id in ours:
                    key = f"usage-plan-key/{plan_item}/{item_of(ours[key_id], owner)}"
                    out.append(self._observed(key, plan["id"], key_id, tags))
        return out
