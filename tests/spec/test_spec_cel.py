"""The CRD's CEL rules (controller.spec.cel) agree with the pydantic rules (controller.spec.rules).

Each case of the rules table is evaluated with celpy against the spec as the API server sees it
(the CRD schema's defaults filled in) and as the models fill it in: a valid spec passes every CEL
rule; a broken one fails exactly the CEL rules naming the fields `check` names.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml
from _pytest.mark.structures import ParameterSet
from celpy.adapter import json_to_cel
from celpy.celtypes import BoolType
from test_spec_rules import BASE, BROKEN, VALID, merge

from controller.spec import PrivateService, check
from controller.spec.cel import SPEC_RULES, CelRule
from controller.spec.crd import crd, spec_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

# Cases of BROKEN whose rule has no CEL counterpart (see controller.spec.cel): CEL accepts them.
CONTROLLER_ONLY = {
    "alb-priority-duplicate",
    "api-key-required-no-plan",
    "api-key-required-plan-without-keys",
    "usage-plan-duplicate",
    "api-key-twice-in-plan",
    "ignore-field-unknown",
    "ignore-field-below-scalar",
}
FORMS = ("server-defaulted", "model-defaulted")


@cache
def program(rule: str) -> celpy.Runner:
    env = celpy.Environment()
    return env.program(env.compile(rule))


def server_defaulted(value: Any, schema: dict[str, Any]) -> Any:
    """`value` with the schema's defaults filled in, as the API server does before validating."""
    if isinstance(value, dict) and "properties" in schema:
        props: dict[str, Any] = schema["properties"]
        out = {k: copy.deepcopy(s["default"]) for k, s in props.items() if "default" in s}
        out.update(value)
        return {k: server_defaulted(v, props[k]) if k in props else v for k, v in out.items()}
    if isinstance(value, list) and "items" in schema:
        return [server_defaulted(item, schema["items"]) for item in value]
    return value


def spec_as(form: str, doc: dict[str, Any]) -> dict[str, Any]:
    if form == "server-defaulted":
        return server_defaulted(doc["spec"], spec_schema())  # type: ignore[no-any-return]
    ps = PrivateService.model_validate(doc, by_name=False)
    # A null field is absent for the API server (nulls are not sent); the model dumps None.
    return ps.spec.model_dump(by_alias=True, mode="json", exclude_none=True)


def failing(spec: dict[str, Any]) -> list[str]:
    """The fields named by the CEL rules `spec` breaks; every rule must evaluate to a bool."""
    activation = {"self": json_to_cel(spec)}
    out = []
    for rule in SPEC_RULES:
        result = program(rule.rule).evaluate(activation)
        assert isinstance(result, BoolType), (rule.message, result)
        if not result:
            out.append(rule.field)
    return sorted(out)


def doc_of(patch: dict[str, Any]) -> dict[str, Any]:
    return merge(BASE, {"spec": patch})


def cases(params: list[ParameterSet]) -> list[ParameterSet]:
    """Each case once per form, with its id as a value."""
    return [
        pytest.param(*p.values, p.id, form, id=f"{p.id}-{form}") for p in params for form in FORMS
    ]


@pytest.mark.parametrize(("patch", "path", "fragment", "case", "form"), cases(BROKEN))
def test_broken_spec_fails_the_cel_rules_for_the_same_field(
    patch: dict[str, Any], path: str, fragment: str, case: str, form: str
) -> None:
    """Where a CEL counterpart exists, CEL refuses the spec at the field `check` names."""
    doc = doc_of(patch)
    expected = sorted(
        p.path for p in check(PrivateService.model_validate(doc)) if p.severity == "error"
    )
    assert expected == [path]
    assert failing(spec_as(form, doc)) == ([] if case in CONTROLLER_ONLY else expected)


@pytest.mark.parametrize(("patch", "case", "form"), cases(VALID))
def test_valid_spec_passes_every_cel_rule(patch: dict[str, Any], case: str, form: str) -> None:
    """A spec `check` accepts is accepted by every CEL rule."""
    doc = doc_of(patch)
    assert check(PrivateService.model_validate(doc)) == []
    assert failing(spec_as(form, doc)) == []


def test_several_broken_rules_fail_one_cel_rule_each() -> None:
    """Independent problems are all refused, as `check` reports them all."""
    doc = doc_of({"container": {"cpu": 300, "hostPort": 1}, "loadBalancer": {"staticIps": True}})
    expected = sorted(p.path for p in check(PrivateService.model_validate(doc)))
    for form in FORMS:
        assert failing(spec_as(form, doc)) == expected


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 512),
        (256, 1024),
        (256, 2048),
        (256, 1536),
        (512, 1024),
        (512, 5120),
        (1024, 1024),
        (1024, 8192),
        (2048, 16384),
        (2048, 16896),
        (4096, 31744),
        (8192, 16384),
        (8192, 20480),
        (8192, 65536),
        (16384, 40960),
        (16384, 36864),
        (128, 128),
    ],
)
def test_fargate_sizes_agree(cpu: int, memory: int) -> None:
    """The Fargate cpu/memory table: CEL and `check` refuse the same sizes."""
    doc = doc_of({"container": {"cpu": cpu, "memory": memory}})
    expected = sorted(p.path for p in check(PrivateService.model_validate(doc)))
    for form in FORMS:
        assert failing(spec_as(form, doc)) == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("form", FORMS)
def test_examples_pass_every_cel_rule(path: Path, form: str) -> None:
    """Every shipped example is accepted by the CRD's CEL rules."""
    assert failing(spec_as(form, yaml.safe_load(path.read_text()))) == []


def test_the_crd_carries_the_rules_on_spec() -> None:
    """`x-kubernetes-validations` of the spec schema are `SPEC_RULES`, in order."""
    root = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    validations = root["properties"]["spec"]["x-kubernetes-validations"]
    assert validations == [rule.validation() for rule in SPEC_RULES]
    assert len({(r.rule, r.field) for r in SPEC_RULES}) == len(SPEC_RULES)


@pytest.mark.parametrize("rule", SPEC_RULES, ids=lambda r: f"{r.field}:{r.text[:24]}")
def test_field_path_exists_and_matches_the_message(rule: CelRule) -> None:
    """Each fieldPath is a field of the spec schema and the message starts with it."""
    node = spec_schema()
    for step in rule.field_path.split(".")[1:]:
        node = node["properties"][step]
    assert rule.message.startswith(f"spec{rule.field_path}: ")
    assert "\n" not in rule.message
