"""Unit tests of the Lambda authorizer checks (`authorizer-not-invokable`,
`authorizer-runtime-deprecated`) and of the IAM matching they rest on (ArnLike per component,
StringLike wildcards), on hand-written shapes (apigw_shapes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from apigw_shapes import ACCOUNT, API, AUTHORIZER, FUNCTION, PERMISSION, REGION, rest, unknown

from controller.doctor.checks.apigw_auth import (
    authorizer_not_invokable,
    authorizer_runtime_deprecated,
    deprecated_since,
    invoke_allowed,
)
from controller.doctor.checks.apigw_common import arn_like, like
from controller.doctor.facts import Facts

SOURCE = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/authorizers/{AUTHORIZER}"
TODAY = dt.date(2026, 12, 3)


def _condition(f: Facts) -> dict[str, Any]:
    policy = f.function_policies[FUNCTION]
    assert policy is not None
    return policy["Statement"][0]["Condition"]["ArnLike"]  # type: ignore[no-any-return]


NOT_INVOKABLE = [
    pytest.param(
        lambda f: f.functions.__setitem__(FUNCTION, None),
        [FUNCTION, "does not exist", "update-authorizer", AUTHORIZER],
        id="function-missing",
    ),
    pytest.param(
        lambda f: f.function_policies.__setitem__(FUNCTION, None),
        ["resource policy does not exist", "add-permission", f"--source-arn {SOURCE}"],
        id="no-policy",
    ),
    pytest.param(
        lambda f: _condition(f).__setitem__(
            "AWS:SourceArn", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:otherapi/*"
        ),
        ["has no statement", SOURCE],
        id="source-arn-of-another-api",
    ),
    pytest.param(
        lambda f: _condition(f).__setitem__(
            "AWS:SourceArn", f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:{API}/*"
        ),
        ["has no statement"],
        id="source-arn-other-region",
    ),
    pytest.param(
        lambda f: f.function_policies[FUNCTION]["Statement"][0].update(
            Principal={"Service": "events.amazonaws.com"}
        ),
        ["has no statement"],
        id="principal-not-apigateway",
    ),
    pytest.param(None, [], id="healthy"),
    pytest.param(
        lambda f: _condition(f).__setitem__(
            "AWS:SourceArn", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/authorizers/*"
        ),
        [],
        id="wildcard-authorizers",
    ),
    pytest.param(
        lambda f: f.function_policies[FUNCTION]["Statement"][0].pop("Condition"),
        [],
        id="no-condition-any-source",
    ),
    pytest.param(
        lambda f: (
            f.authorizers[API][0].update(authorizerCredentials="arn:aws:iam::1:role/invoker"),
            f.function_policies.__setitem__(FUNCTION, None),
        ),
        [],
        id="credentials-role-not-policy",
    ),
    pytest.param(
        lambda f: (unknown(f, "authorizer"), f.functions.__setitem__(FUNCTION, None)),
        [],
        id="unknown",
    ),
    pytest.param(
        lambda f: (f.functions.clear(), f.function_policies.clear()), [], id="function-not-read"
    ),
    pytest.param(
        lambda f: (
            f.resources[API][1]["resourceMethods"]["ANY"].update(
                authorizationType="NONE", authorizerId=None
            ),
            f.functions.__setitem__(FUNCTION, None),
        ),
        [],
        id="authorizer-unused",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), NOT_INVOKABLE)
def test_authorizer_not_invokable(
    mutate: Callable[[Facts], object] | None, expected: list[str]
) -> None:
    """Found when the function is missing or its policy admits no apigateway.amazonaws.com call
    with this authorizer's SourceArn; quiet on a matching wildcard, a role, unknown or unused."""
    facts = rest()
    if mutate is not None:
        mutate(facts)
    found = authorizer_not_invokable(facts)
    if not expected:
        assert found == []
        return
    assert [f.code for f in found] == ["authorizer-not-invokable"]
    text = f"{found[0].message} {found[0].fix_cli}"
    for part in expected:
        assert part in text, (part, text)
    assert found[0].severity == "error"
    assert found[0].hop == "authorizer"


@pytest.mark.parametrize(
    ("runtime", "found"),
    [
        pytest.param("nodejs16.x", True, id="nodejs16-deprecated-2024"),
        pytest.param("python3.9", True, id="python39-deprecated-2025"),
        pytest.param("go1.x", True, id="go1x"),
        pytest.param("python3.13", False, id="python313-supported"),
        pytest.param("nodejs22.x", False, id="nodejs22-until-2027"),
        pytest.param(None, False, id="no-runtime-container-image"),
    ],
)
def test_authorizer_runtime_deprecated(runtime: str | None, found: bool) -> None:
    """Found for a runtime whose deprecation date (Lambda runtimes page) has passed, naming the
    date and a supported replacement; quiet otherwise."""
    facts = rest()
    config = facts.functions[FUNCTION]
    assert config is not None
    config["Runtime"] = runtime
    got = authorizer_runtime_deprecated(facts, TODAY)
    if not found:
        assert got == []
        return
    assert [f.code for f in got] == ["authorizer-runtime-deprecated"]
    assert runtime is not None
    assert runtime in got[0].message
    assert "deprecated since" in got[0].message
    assert got[0].severity == "warning"
    assert f"update-function-configuration --function-name {FUNCTION} --runtime" in got[0].fix_cli


def test_runtime_check_quiet_when_unknown_or_absent() -> None:
    """An unreadable authorizer hop, or a function never read, gives no runtime finding."""
    facts = rest()
    facts.functions[FUNCTION] = {"FunctionArn": FUNCTION, "Runtime": "nodejs16.x"}
    assert authorizer_runtime_deprecated(unknown(facts, "authorizer"), TODAY) == []
    absent = rest()
    absent.functions.clear()
    assert authorizer_runtime_deprecated(absent, TODAY) == []


def test_deprecation_dates_are_the_published_ones() -> None:
    """nodejs18.x was deprecated on 2025-09-01: not the day before, from that day on."""
    assert deprecated_since("nodejs18.x", dt.date(2025, 8, 31)) is None
    assert deprecated_since("nodejs18.x", dt.date(2025, 9, 1)) == dt.date(2025, 9, 1)
    assert deprecated_since("python3.14", TODAY) is None


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        pytest.param(
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/*", SOURCE, True, id="api-star"
        ),
        pytest.param("arn:aws:execute-api:*:*:*", SOURCE, True, id="all-stars"),
        pytest.param(
            f"arn:aws:execute-api:us-east-?:{ACCOUNT}:{API}/*", SOURCE, True, id="question"
        ),
        pytest.param(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}", SOURCE, False, id="no-star"),
        pytest.param("arn:aws:execute-api:*", SOURCE, False, id="star-does-not-span-colons"),
        pytest.param(
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:A1B2C3D4E5/*", SOURCE, False, id="case"
        ),
    ],
)
def test_arn_like(pattern: str, arn: str, matches: bool) -> None:
    """ArnLike matches the six colon-delimited components separately, with * and ?."""
    assert arn_like(pattern, arn) is matches


def test_like_and_policy_deny() -> None:
    """StringLike's ? is one character; an explicit Deny for the source wins over the Allow."""
    assert like("vpce-?", "vpce-1")
    assert not like("vpce-?", "vpce-12")
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "lambda:*",
        "Resource": FUNCTION,
        "Condition": {"ArnLike": {"aws:sourcearn": SOURCE}},
    }
    policy = {"Statement": [*PERMISSION["Statement"], deny]}
    assert invoke_allowed(PERMISSION, FUNCTION, SOURCE)
    assert not invoke_allowed(policy, FUNCTION, SOURCE)
