"""API Gateway v1 deletes of missing resources and UpdateStage `remove` of a method setting."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _error(call, **params):
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_delete_rest_api_twice_is_not_found(build):
    """AWS: DeleteRestApi of a REST API that does not exist (any more) is a 404
    NotFoundException ("The requested resource is not found"), not a server error."""
    ag = build.apigateway
    api_id = ag.create_rest_api(name="api")["id"]
    ag.delete_rest_api(restApiId=api_id)
    assert _error(ag.get_rest_api, restApiId=api_id) == ("NotFoundException", 404)
    assert _error(ag.delete_rest_api, restApiId=api_id) == ("NotFoundException", 404)
    assert _error(ag.delete_rest_api, restApiId="nosuchapi") == ("NotFoundException", 404)


def test_delete_usage_plan_twice_is_not_found(build):
    """AWS: DeleteUsagePlan of a usage plan that does not exist is a 404 NotFoundException."""
    ag = build.apigateway
    plan_id = ag.create_usage_plan(name="plan")["id"]
    ag.delete_usage_plan(usagePlanId=plan_id)
    assert _error(ag.get_usage_plan, usagePlanId=plan_id) == ("NotFoundException", 404)
    assert _error(ag.delete_usage_plan, usagePlanId=plan_id) == ("NotFoundException", 404)
    assert _error(ag.delete_usage_plan, usagePlanId="nosuchplan") == ("NotFoundException", 404)


def test_delete_usage_plan_key_twice_is_not_found(build):
    """AWS: DeleteUsagePlanKey of a key that is not (any more) in the plan, or of a plan that
    does not exist, is a 404 NotFoundException; the key itself stays."""
    ag = build.apigateway
    plan_id = ag.create_usage_plan(name="plan")["id"]
    key_id = ag.create_api_key(name="key", enabled=True)["id"]
    other_key = ag.create_api_key(name="other", enabled=True)["id"]
    ag.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    ag.delete_usage_plan_key(usagePlanId=plan_id, keyId=key_id)
    assert ag.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []
    assert ag.get_api_key(apiKey=key_id)["id"] == key_id
    again = {"usagePlanId": plan_id, "keyId": key_id}
    assert _error(ag.delete_usage_plan_key, **again) == ("NotFoundException", 404)
    never = {"usagePlanId": plan_id, "keyId": other_key}
    assert _error(ag.delete_usage_plan_key, **never) == ("NotFoundException", 404)
    no_plan = {"usagePlanId": "nosuchplan", "keyId": key_id}
    assert _error(ag.delete_usage_plan_key, **no_plan) == ("NotFoundException", 404)


@pytest.fixture
def stage(build):
    """A stage `live` with a stage-wide (`*/*`) throttle and a `/GET` metrics setting."""
    ag = build.apigateway
    api_id, root_id = build.rest_api_method()
    ag.put_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET", type="MOCK")
    deployment = ag.create_deployment(restApiId=api_id)["id"]
    ag.create_stage(restApiId=api_id, stageName="live", deploymentId=deployment)
    ag.update_stage(
        restApiId=api_id,
        stageName="live",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "10"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "20"},
            {"op": "replace", "path": "/~1/GET/metrics/enabled", "value": "true"},
        ],
    )
    settings = ag.get_stage(restApiId=api_id, stageName="live")["methodSettings"]
    assert set(settings) == {"*/*", "~1/GET"}
    return api_id


def test_update_stage_remove_deletes_the_method_setting(build, stage):
    """AWS: UpdateStage `remove` on `/{resourcePath}/{httpMethod}` (`/*/*` for the stage-wide
    setting) deletes that method setting, so GetStage no longer lists it in methodSettings;
    the other method settings stay."""
    ag = build.apigateway
    updated = ag.update_stage(
        restApiId=stage, stageName="live", patchOperations=[{"op": "remove", "path": "/*/*"}]
    )
    assert set(updated["methodSettings"]) == {"~1/GET"}
    settings = ag.get_stage(restApiId=stage, stageName="live")["methodSettings"]
    assert set(settings) == {"~1/GET"}
    assert settings["~1/GET"]["metricsEnabled"] is True


def test_update_stage_remove_of_missing_method_setting_is_bad_request(build, stage):
    """AWS: removing a method setting the stage does not have is a BadRequestException
    ("Cannot remove method setting */* because there is no method setting for this method")."""
    ag = build.apigateway
    remove = [{"op": "remove", "path": "/*/*"}]
    ag.update_stage(restApiId=stage, stageName="live", patchOperations=remove)
    code, status = _error(
        ag.update_stage, restApiId=stage, stageName="live", patchOperations=remove
    )
    assert (code, status) == ("BadRequestException", 400)
    settings = ag.get_stage(restApiId=stage, stageName="live")["methodSettings"]
    assert set(settings) == {"~1/GET"}
