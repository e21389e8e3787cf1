"""Field paths and deterministic AWS names (controller.spec.names)."""

from __future__ import annotations

import re

import pytest

from controller.spec import PrivateService
from controller.spec.names import (
    API_KEY_NAME_LIMIT,
    ECS_SERVICE_NAME_LIMIT,
    NLB_NAME_LIMIT,
    TARGET_GROUP_NAME_LIMIT,
    aws_name,
    full_name,
    parse_path,
    render_path,
    shorten,
    type_at,
)

AWS_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
LONGEST_NAMESPACE, LONGEST_NAME = "n" * 63, "a" * 40


def service(namespace: str, name: str) -> PrivateService:
    return PrivateService.model_validate(
        {
            "apiVersion": "privateservice.io/v1alpha1",
            "kind": "PrivateService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "network": {"vpcId": "vpc-0a", "subnetIds": ["subnet-0a"]},
                "container": {"image": "x", "port": 80},
                "service": {"cluster": "c"},
            },
        }
    )


def test_short_names_are_kept_whole() -> None:
    """A name that fits is `ps-<namespace>-<name>-<suffix>`, unchanged."""
    assert aws_name(service("shop", "orders"), "tg", TARGET_GROUP_NAME_LIMIT) == "ps-shop-orders-tg"


@pytest.mark.parametrize("limit", [NLB_NAME_LIMIT, TARGET_GROUP_NAME_LIMIT, 20])
def test_long_names_are_shortened_with_a_digest(limit: int) -> None:
    """Too long: cut to the limit, ending in 8 hex digits, deterministic, valid for AWS."""
    ps = service(LONGEST_NAMESPACE, LONGEST_NAME)
    name = aws_name(ps, "nlb", limit)
    assert len(name) == limit
    assert AWS_NAME.match(name)
    assert re.search(r"-[0-9a-f]{8}$", name)
    assert name == aws_name(ps, "nlb", limit)
    assert name != aws_name(ps, "tg", limit)


def test_names_differing_only_past_the_cut_stay_distinct() -> None:
    """Two services whose names share a long prefix still get different shortened names."""
    a = aws_name(service("shop", "a" * 39 + "1"), "nlb", NLB_NAME_LIMIT)
    b = aws_name(service("shop", "a" * 39 + "2"), "nlb", NLB_NAME_LIMIT)
    assert a != b
    assert a[:-8] == b[:-8]


def test_shortening_never_leaves_a_hyphen_before_the_digest() -> None:
    """A cut that lands on a hyphen drops it, so no `--` appears."""
    assert "--" not in shorten("ps-" + "ab-" * 20, 24)


def test_limits_that_fit_by_construction() -> None:
    """With the longest namespace (63) and name (40), ECS service names and API key names fit
    without shortening; load balancer and target group names fit through the digest."""
    ps = service(LONGEST_NAMESPACE, LONGEST_NAME)
    whole = full_name(LONGEST_NAMESPACE, LONGEST_NAME, "ecs-service")
    assert len(whole) <= ECS_SERVICE_NAME_LIMIT
    assert aws_name(ps, "ecs-service", ECS_SERVICE_NAME_LIMIT) == whole
    longest_key = "k" * 64  # ApiKeyName's max_length
    assert len(full_name(LONGEST_NAMESPACE, LONGEST_NAME, longest_key)) <= API_KEY_NAME_LIMIT
    assert len(aws_name(ps, "target-group", TARGET_GROUP_NAME_LIMIT)) == TARGET_GROUP_NAME_LIMIT


@pytest.mark.parametrize(
    ("suffix", "limit"),
    [
        pytest.param("-tg", 32, id="edge-hyphen"),
        pytest.param("t_g", 32, id="underscore"),
        pytest.param("tg", 12, id="limit-too-small"),
    ],
)
def test_bad_arguments_are_refused(suffix: str, limit: int) -> None:
    """A suffix AWS would refuse, or a limit with no room for the digest, raises."""
    with pytest.raises(ValueError, match="name"):
        aws_name(service("shop", "orders"), suffix, limit)


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        pytest.param(
            ("spec", "api", "usagePlans", 0, "name"), "spec.api.usagePlans[0].name", id="list"
        ),
        pytest.param(("metadata", "name"), "metadata.name", id="plain"),
    ],
)
def test_paths_render_and_parse(loc: tuple[str | int, ...], text: str) -> None:
    """Pydantic locations render as dotted paths with [index], and parse back."""
    assert render_path(loc) == text
    assert parse_path(text) == loc


def test_odd_map_keys_are_quoted() -> None:
    """A map key that is not an identifier is shown in brackets, so the path stays readable."""
    assert render_path(("spec", "tags", "kubernetes.io/name")) == "spec.tags['kubernetes.io/name']"


@pytest.mark.parametrize(
    ("path", "exists"),
    [
        pytest.param(
            ("spec", "loadBalancer", "targetGroup", "healthCheck", "path"), True, id="deep"
        ),
        pytest.param(("spec", "api", "usagePlans", 0, "apiKeys", 1), True, id="indexes"),
        pytest.param(
            ("spec", "api", "usagePlans", "quota", "period"), True, id="list-without-index"
        ),
        pytest.param(("spec", "tags", "team"), True, id="map-key"),
        pytest.param(("spec", "container", "memroy"), False, id="typo"),
        pytest.param(("spec", "service", "desired_count"), False, id="snake-case"),
        pytest.param(("spec", "region", "x"), False, id="below-a-scalar"),
    ],
)
def test_type_at_walks_camel_case_fields(path: tuple[str | int, ...], exists: bool) -> None:
    """`type_at` follows camelCase names through models, lists and maps."""
    assert (type_at(path) is not None) == exists
