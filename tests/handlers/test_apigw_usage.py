"""UsagePlanHandler, ApiKeyHandler and UsagePlanKeyHandler against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs
from support import context, desired

from controller.aws import tags as ownership
from controller.handlers.apigw_usage import ApiKeyHandler, UsagePlanHandler, UsagePlanKeyHandler
from controller.handlers.base import Desired

OWNER = "default/orders"


def make_stage(aws: Any, stage: str = "prod") -> str:
    """A REST API with a method, a deployment and `stage` (what a plan can name)."""
    apigw = aws.client("apigateway")
    api = apigw.create_rest_api(name=OWNER, tags=ownership.owner_tags(OWNER, "rest-api", {}))
    apigw.put_method(
        restApiId=api["id"],
        resourceId=api["rootResourceId"],
        httpMethod="ANY",
        authorizationType="NONE",
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=api["rootResourceId"],
        httpMethod="ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri="http://backend.example:80/",
    )
    deployment = apigw.create_deployment(restApiId=api["id"])
    for name in (stage, "canary"):
        apigw.create_stage(restApiId=api["id"], stageName=name, deploymentId=deployment["id"])
    return str(api["id"])


@pytest.fixture
def api_id(aws: Any) -> str:
    return make_stage(aws)


@pytest.fixture
def plans(aws: Any) -> UsagePlanHandler:
    return UsagePlanHandler(context(aws))


@pytest.fixture
def keys(aws: Any) -> ApiKeyHandler:
    return ApiKeyHandler(context(aws))


@pytest.fixture
def plan_keys(aws: Any) -> UsagePlanKeyHandler:
    return UsagePlanKeyHandler(context(aws))


def plan_desired(api_id: str, item: str = "gold", **over: Any) -> Desired:
    props = {
        "name": f"{OWNER}/{item}",
        "throttle": {"rateLimit": 50.0, "burstLimit": 100},
        "quota": {"limit": 100000, "period": "MONTH", "offset": 0},
        "apiStages": [{"apiId": api_id, "stage": "prod"}],
    } | over
    return desired(f"usage-plan/{item}", "apigw.usage_plan", "usage-plan", props)


def key_desired(item: str = "partner-a", *, enabled: bool = True) -> Desired:
    return desired(
        f"api-key/{item}",
        "apigw.api_key",
        "api-key",
        {"name": f"{OWNER}/{item}", "enabled": enabled},
    )


def key_value(aws: Any, key_id: str) -> str:
    return str(aws.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)["value"])


# --- usage plans ----------------------------------------------------------------------------


def test_plan_lifecycle(aws: Any, plans: UsagePlanHandler, api_id: str) -> None:
    want = plan_desired(api_id)
    assert plans.observe(want) is None

    made = plans.create(want)
    assert made.outputs == {"id": made.id}
    have = plans.observe(want)
    assert have is not None
    assert have.id == made.id
    assert plans.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert have.tags[ownership.COMPONENT] == "usage-plan"
    assert plans.create(want).id == made.id  # a retried create makes nothing new

    more = plan_desired(api_id, quota={"limit": 5000, "period": "MONTH", "offset": 0})
    deltas = plans.diff(more, have)
    assert [(d.path, d.desired, d.actual) for d in deltas] == [("quota.limit", 5000, 100000)]
    updated = plans.update(more, have, deltas)
    assert plans.diff(more, updated) == []
    again = plans.observe(more)
    assert again is not None
    assert plans.diff(more, again) == []

    counted = context(aws)
    handler = UsagePlanHandler(counted)
    several = plan_desired(
        api_id,
        throttle=None,
        quota={"limit": 7, "period": "DAY", "offset": 0},
        apiStages=[{"apiId": api_id, "stage": "prod"}, {"apiId": api_id, "stage": "canary"}],
    )
    deltas = handler.diff(several, again)
    assert sorted(d.path for d in deltas) == [
        "apiStages",
        "quota.limit",
        "quota.period",
        "throttle",
    ]
    updated = handler.update(several, again, deltas)
    assert counted.counter.mutating() == {("apigateway", "UpdateUsagePlan"): 1}  # one call
    assert handler.diff(several, updated) == []
    again = handler.observe(several)
    assert again is not None
    assert handler.diff(several, again) == []

    plans.delete(again)
    assert plans.observe(want) is None


def test_plan_added_throttle_and_quota(plans: UsagePlanHandler, api_id: str) -> None:
    bare = plan_desired(api_id, throttle=None, quota=None)
    have = plans.create(bare)
    assert have.props["throttle"] is None
    assert have.props["quota"] is None
    assert plans.diff(bare, have) == []
    full = plan_desired(api_id)
    have = plans.update(full, have, plans.diff(full, have))
    assert plans.diff(full, have) == []


def test_plan_delete_twice(aws: Any, api_id: str) -> None:
    handler = UsagePlanHandler(context(aws, max_attempts=1))
    want = plan_desired(api_id)
    have = handler.create(want)
    handler.delete(have)
    handler.delete(have)  # detaching the stages of a missing plan: NotFound
    assert handler.observe(want) is None


def test_stageless_plan_delete_twice(aws: Any, api_id: str) -> None:
    handler = UsagePlanHandler(context(aws, max_attempts=1))
    have = handler.create(plan_desired(api_id, apiStages=[]))
    handler.delete(have)
    handler.delete(have)


def test_plan_same_name_without_owner_tag(aws: Any, plans: UsagePlanHandler, api_id: str) -> None:
    apigw = aws.client("apigateway")
    foreign = apigw.create_usage_plan(name=f"{OWNER}/gold", tags={"team": "other"})
    want = plan_desired(api_id)
    have = plans.observe(want)
    assert have is not None
    assert have.id == foreign["id"]
    assert not have.owned_by(OWNER)
    assert plans.list_owned(OWNER) == []

    mine = apigw.create_usage_plan(name=f"{OWNER}/gold", tags=dict(want.tags))
    have = plans.observe(want)
    assert have is not None
    assert have.id == mine["id"]  # ours wins over a same-named foreign one
    assert [(o.key, o.id) for o in plans.list_owned(OWNER)] == [("usage-plan/gold", mine["id"])]


# --- API keys -------------------------------------------------------------------------------


def test_key_lifecycle_never_shows_the_value(aws: Any, keys: ApiKeyHandler) -> None:
    want = key_desired()
    assert keys.observe(want) is None
    with capture_logs() as logs:
        made = keys.create(want)
        have = keys.observe(want)
        assert have is not None
        disabled = key_desired(enabled=False)
        deltas = keys.diff(disabled, have)
        assert [(d.path, d.desired, d.actual) for d in deltas] == [("enabled", False, True)]
        updated = keys.update(disabled, have, deltas)
        owned = keys.list_owned(OWNER)
    value = key_value(aws, made.id)
    assert len(value) >= 20
    assert value not in repr(logs)
    for observed in (made, have, updated, *owned):
        assert value not in repr(observed)
        assert "value" not in observed.props
    assert {log["event"] for log in logs} >= {"creating", "created", "updating"}

    assert have.id == made.id
    assert keys.diff(want, have) == []
    assert have.owned_by(OWNER)
    assert keys.diff(disabled, updated) == []
    assert [(o.key, o.id) for o in owned] == [("api-key/partner-a", made.id)]
    assert keys.create(disabled).id == made.id  # a retried create makes nothing new

    keys.delete(updated)
    assert keys.observe(want) is None
    keys.delete(updated)  # twice is fine
    assert keys.list_owned(OWNER) == []


def test_key_name_is_matched_exactly(aws: Any, keys: ApiKeyHandler) -> None:
    longer = keys.create(key_desired("partner-ab"))
    assert keys.observe(key_desired("partner-a")) is None  # GetApiKeys matches prefixes
    shorter = keys.create(key_desired("partner-a"))
    assert shorter.id != longer.id
    assert sorted(o.key for o in keys.list_owned(OWNER)) == [
        "api-key/partner-a",
        "api-key/partner-ab",
    ]


def test_key_same_name_without_owner_tag(aws: Any, keys: ApiKeyHandler) -> None:
    apigw = aws.client("apigateway")
    foreign = apigw.create_api_key(name=f"{OWNER}/partner-a", enabled=True, tags={"team": "other"})
    have = keys.observe(key_desired())
    assert have is not None
    assert have.id == foreign["id"]
    assert not have.owned_by(OWNER)
    assert keys.list_owned(OWNER) == []


# --- usage plan keys ------------------------------------------------------------------------


def test_plan_key_lifecycle(
    aws: Any,
    plans: UsagePlanHandler,
    keys: ApiKeyHandler,
    plan_keys: UsagePlanKeyHandler,
    api_id: str,
) -> None:
    plan = plans.create(plan_desired(api_id))
    key = keys.create(key_desired())
    want = desired(
        "usage-plan-key/gold/partner-a",
        "apigw.usage_plan_key",
        "usage-plan-key",
        {"usagePlanId": plan.id, "keyId": key.id},
    )
    assert plan_keys.observe(want) is None

    with capture_logs() as logs:
        made = plan_keys.create(want)
        have = plan_keys.observe(want)
        owned = plan_keys.list_owned(OWNER)
    value = key_value(aws, key.id)
    assert value not in repr(logs)
    for observed in (made, have, *owned):
        assert value not in repr(observed)

    assert have is not None
    assert plan_keys.diff(want, have) == []
    assert have.owned_by(OWNER)  # through the plan's tags
    assert have.tags == plan.tags
    assert plan_keys.create(want).id == made.id  # a retried create is fine
    assert [(o.key, o.props) for o in owned] == [
        ("usage-plan-key/gold/partner-a", {"usagePlanId": plan.id, "keyId": key.id})
    ]

    plan_keys.delete(have)
    assert plan_keys.observe(want) is None
    assert plan_keys.list_owned(OWNER) == []


def test_plan_key_delete_twice(
    aws: Any, plans: UsagePlanHandler, keys: ApiKeyHandler, api_id: str
) -> None:
    handler = UsagePlanKeyHandler(context(aws, max_attempts=1))
    plan = plans.create(plan_desired(api_id))
    key = keys.create(key_desired())
    have = handler.create(
        desired(
            "usage-plan-key/gold/partner-a",
            "apigw.usage_plan_key",
            "usage-plan-key",
            {"usagePlanId": plan.id, "keyId": key.id},
        )
    )
    handler.delete(have)
    handler.delete(have)


def test_plan_keys_of_foreign_keys_or_plans_are_not_listed(
    aws: Any,
    plans: UsagePlanHandler,
    keys: ApiKeyHandler,
    plan_keys: UsagePlanKeyHandler,
    api_id: str,
) -> None:
    apigw = aws.client("apigateway")
    plan = plans.create(plan_desired(api_id))
    foreign_key = apigw.create_api_key(name="someone-else", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan.id, keyId=foreign_key["id"], keyType="API_KEY")
    foreign_plan = apigw.create_usage_plan(name="someone-elses-plan", tags={"team": "other"})
    key = keys.create(key_desired())
    apigw.create_usage_plan_key(usagePlanId=foreign_plan["id"], keyId=key.id, keyType="API_KEY")
    assert plan_keys.list_owned(OWNER) == []

    in_foreign = desired(
        "usage-plan-key/gold/partner-a",
        "apigw.usage_plan_key",
        "usage-plan-key",
        {"usagePlanId": foreign_plan["id"], "keyId": key.id},
    )
    have = plan_keys.observe(in_foreign)
    assert have is not None
    assert not have.owned_by(OWNER)


def test_plan_key_of_missing_plan_is_absent(
    plan_keys: UsagePlanKeyHandler, keys: ApiKeyHandler
) -> None:
    key = keys.create(key_desired())
    want = desired(
        "usage-plan-key/gold/partner-a",
        "apigw.usage_plan_key",
        "usage-plan-key",
        {"usagePlanId": "nosuchplan", "keyId": key.id},
    )
    assert plan_keys.observe(want) is None
