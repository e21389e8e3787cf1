"""Pure helpers of the authorizer and REST API handlers: URIs, runtimes, policy canonical form."""

from __future__ import annotations

import json

import pytest

from controller.handlers.apigw_authorizer import function_arn, runtime_warning
from controller.handlers.apigw_rest_api import canonical_policy, parse_policy

ARN = "arn:aws:lambda:us-east-1:123456789012:function:auth"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{ARN}/invocations"


@pytest.mark.parametrize(
    ("uri", "arn"),
    [
        pytest.param(URI, ARN, id="invocation URI: the function inside"),
        pytest.param("arn:aws:lambda:odd", "arn:aws:lambda:odd", id="anything else: as it is"),
    ],
)
def test_function_arn(uri: str, arn: str):
    """The function is read back from the authorizer's URI."""
    assert function_arn(uri) == arn


@pytest.mark.parametrize(
    ("runtime", "warned"),
    [
        pytest.param("nodejs12.x", True, id="seed 002's runtime"),
        pytest.param("python3.8", True, id="python 3.8"),
        pytest.param("go1.x", True, id="go1.x"),
        pytest.param("nodejs20.x", False, id="supported"),
        pytest.param(None, False, id="container image: no runtime"),
    ],
)
def test_runtime_warning(runtime: str | None, warned: bool):
    """Deprecated runtimes are reported with the field to look at."""
    warning = runtime_warning(ARN, runtime)
    assert (warning is not None) is warned
    if warning:
        assert runtime in warning
        assert "spec.api.authorizer.lambdaArn" in warning


DESIRED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
            "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1"]}},
        }
    ],
}
STORED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123/*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        }
    ],
}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(json.dumps(STORED), id="plain JSON"),
        pytest.param(json.dumps(STORED).replace('"', '\\"'), id="escaped, as AWS returns it"),
        pytest.param(json.dumps(DESIRED), id="as we wrote it"),
    ],
)
def test_a_stored_policy_equals_the_desired_one_in_canonical_form(raw: str):
    """ARN-expanded resources, scalar one-element lists and escaping are not drift."""
    assert canonical_policy(parse_policy(raw)) == canonical_policy(DESIRED)


def test_an_opened_policy_is_drift():
    """A policy without the endpoint condition differs."""
    opened = {"Version": "2012-10-17", "Statement": [{**DESIRED["Statement"][0], "Condition": {}}]}
    assert canonical_policy(opened) != canonical_policy(DESIRED)
