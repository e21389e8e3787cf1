"""API Gateway v2 UpdateStage over HTTP (moto has none)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def api(aws):
    v2 = aws.client("apigatewayv2")
    api_id = v2.create_api(Name="api", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(
        ApiId=api_id,
        StageName="prod",
        AutoDeploy=True,
        DefaultRouteSettings={"ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 200},
        Tags={"team": "shop"},
    )
    return v2, api_id


def test_update_stage_sets_given_fields_and_keeps_the_rest(api):
    """AWS UpdateStage: "Updates a Stage"; fields given replace the stage's and the updated
    stage is returned (and read back by GetStage); tags and absent fields are kept."""
    v2, api_id = api
    updated = v2.update_stage(
        ApiId=api_id,
        StageName="prod",
        DefaultRouteSettings={"ThrottlingRateLimit": 1.5, "ThrottlingBurstLimit": 3},
    )
    assert updated["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 1.5,
        "ThrottlingBurstLimit": 3,
    }
    stage = v2.get_stage(ApiId=api_id, StageName="prod")
    assert stage["DefaultRouteSettings"] == updated["DefaultRouteSettings"]
    assert stage["AutoDeploy"] is True
    assert stage["Tags"] == {"team": "shop"}
    v2.update_stage(ApiId=api_id, StageName="prod", AutoDeploy=False, DefaultRouteSettings={})
    stage = v2.get_stage(ApiId=api_id, StageName="prod")
    assert stage["AutoDeploy"] is False
    assert "ThrottlingRateLimit" not in stage["DefaultRouteSettings"]


def test_update_missing_stage_is_not_found(api):
    """AWS: an unknown stage is NotFoundException, as for GetStage."""
    v2, api_id = api
    with pytest.raises(ClientError) as caught:
        v2.update_stage(ApiId=api_id, StageName="nope", AutoDeploy=False)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
