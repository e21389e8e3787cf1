"""Every problem in one validate (controller.spec.salvage): the cross-field rules still run on
a structurally invalid document, and a repaired field never causes a problem of its own."""

from __future__ import annotations

import textwrap

import pytest

from controller.spec import load_text

BASE = textwrap.dedent(
    """\
    apiVersion: privateservice.io/v1alpha1
    kind: PrivateService
    metadata:
      name: orders
      namespace: shop
    spec:
      network:
        vpcId: vpc-0abc
        subnetIds: [subnet-0a, subnet-0b]
      container:
        image: nginx:1.27
        port: 8080
        cpu: 256
        memory: 512
      service:
        cluster: shop
      drift:
        mode: Correct
    """
)


def paths(text: str) -> list[str]:
    """The error paths of the one document of `text`."""
    (doc,) = load_text(text)
    return sorted(p.path for p in doc.problems if p.severity == "error")


@pytest.mark.parametrize(
    ("structural", "rule", "expected"),
    [
        pytest.param(
            ("name: orders", "name: Orders_X"),
            ("cpu: 256", "cpu: 300"),
            ["metadata.name", "spec.container.cpu"],
            id="bad-name-and-cpu",
        ),
        pytest.param(
            ("mode: Correct", "mode: Fix\n    ignoreFields: [container.imag]"),
            ("", ""),
            ["spec.drift.ignoreFields[0]", "spec.drift.mode"],
            id="drift-mode-and-ignore-fields",
        ),
        pytest.param(
            ("port: 8080", "port: 70000"),
            (
                "memory: 512",
                "memory: 4096\n  loadBalancer:\n    listener: {port: 443, protocol: TLS}\n"
                "  api:\n    type: HTTP\n    usagePlans: [{name: gold}]",
            ),
            [
                "spec.api.usagePlans",
                "spec.container.memory",
                "spec.container.port",
                "spec.loadBalancer.listener.certificateArn",
            ],
            id="bad-port-memory-tls-http-usage-plans",
        ),
    ],
)
def test_structural_errors_no_longer_hide_rule_problems(
    structural: tuple[str, str], rule: tuple[str, str], expected: list[str]
) -> None:
    """The issue's three cases: every problem is reported together."""
    text = BASE.replace(*structural).replace(*rule)
    assert paths(text) == expected


CONNECT = "cluster: shop\n    serviceConnect: {namespace: ns, discoveryName: d, port: 9000}"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # cpu dropped: its default 256 must not make memory 4096 "invalid for cpu 256"
        pytest.param(
            [("cpu: 256\n    memory: 512", "cpu: lots\n    memory: 4096")],
            ["spec.container.cpu"],
            id="cpu-default",
        ),
        # port replaced by a placeholder: serviceConnect.port is not compared with it
        pytest.param(
            [("port: 8080", "port: 0"), ("cluster: shop", CONNECT)],
            ["spec.container.port"],
            id="port-placeholder",
        ),
        # a usage plan without its name is dropped: apiKeyRequired is not "without keys"
        pytest.param(
            [
                (
                    "mode: Correct",
                    "mode: Correct\n  api:\n    apiKeyRequired: true\n"
                    "    usagePlans: [{apiKeys: [a]}]",
                )
            ],
            ["spec.api.usagePlans[0].name"],
            id="usage-plan-dropped",
        ),
    ],
)
def test_a_repaired_field_causes_no_problem_of_its_own(
    changes: list[tuple[str, str]], expected: list[str]
) -> None:
    """Rules reading a field in error are skipped: no false problem from a default or a
    placeholder."""
    text = BASE
    for old, new in changes:
        text = text.replace(old, new)
    assert paths(text) == expected


def test_a_misspelt_field_hides_the_rules_reading_the_field_meant() -> None:
    """`memroy` next to a bad memory: `memory` is unreliable, its rule does not run."""
    text = BASE.replace("memory: 512", "memory: 3000\n    memroy: 1")
    assert paths(text) == ["spec.container.memroy"]


def test_a_far_off_unknown_field_does_not_hide_the_rules() -> None:
    """An unknown field close to no known one leaves the other rules running."""
    text = BASE.replace("memory: 512", "memory: 3000\n    flavour: 1")
    assert paths(text) == ["spec.container.flavour", "spec.container.memory"]


def test_a_document_beyond_repair_reports_its_structural_problems() -> None:
    """`spec` not a mapping: only the structural problem, no crash."""
    text = BASE[: BASE.index("spec:")] + "spec: 3\n"
    assert paths(text) == ["spec"]
