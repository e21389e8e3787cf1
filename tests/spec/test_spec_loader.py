"""Loading documents (controller.spec.loader): files, directories, strings, mappings, lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controller.spec import LoadedDocument, load_paths, load_text, parse_object
from controller.spec.loader import LocatedProblem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

DOC = textwrap.dedent(
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
        memory: 512
      service:
        cluster: shop
        desiredCount: 2
      loadBalancer:
        targetGroup:
          deregistrationDelaySeconds: 30
          healthCheck:
            path: /healthz
      api:
        usagePlans:
          - name: gold
            apiKeys: [partner-a]
    """
)


def line_of(text: str) -> int:
    """The 1-based line of `text` (a whole line of DOC, stripped)."""
    return next(n for n, line in enumerate(DOC.splitlines(), 1) if line.strip() == text)


def only(docs: list[LoadedDocument]) -> LoadedDocument:
    assert len(docs) == 1, docs
    return docs[0]


def test_examples_are_valid() -> None:
    """The five contract examples load with no problem at all."""
    docs = load_paths([EXAMPLES])
    assert len(docs) == 5
    for doc in docs:
        assert doc.valid, [str(p) for p in doc.problems]
        assert doc.problems == []
        assert doc.spec is not None


def test_base_document_is_valid() -> None:
    """The document these tests mutate is itself valid."""
    doc = only(load_text(DOC))
    assert doc.valid
    assert doc.problems == []
    assert doc.spec is not None
    assert doc.spec.owner == "shop/orders"


STRUCTURAL = [
    pytest.param(
        "path: /healthz",
        "          pathh: /healthz",
        "spec.loadBalancer.targetGroup.healthCheck.pathh",
        "unknown field (did you mean 'path'?)",
        id="unknown-field-at-depth",
    ),
    pytest.param(
        "desiredCount: 2",
        "    desiredCount: two",
        "spec.service.desiredCount",
        "must be a valid integer (got 'two')",
        id="wrong-type",
    ),
    pytest.param(
        "desiredCount: 2",
        "    launchType: fargate",
        "spec.service.launchType",
        "'fargate' must be one of 'FARGATE' or 'EC2'",
        id="not-one-of",
    ),
    pytest.param(
        "desiredCount: 2",
        "    desired_count: 2",
        "spec.service.desired_count",
        "unknown field (did you mean 'desiredCount'?)",
        id="snake-case-is-unknown",
    ),
    pytest.param(
        "desiredCount: 2",
        "    assignPublicIp: ENABLED",
        "spec.service.assignPublicIp",
        "a public IP is refused",
        id="public-ip-in-service",
    ),
    pytest.param(
        "vpcId: vpc-0abc",
        "    assignPublicIp: true",
        "spec.network.assignPublicIp",
        "assignPublicIp=DISABLED",
        id="public-ip-in-network",
    ),
    pytest.param(
        "memory: 512",
        "    publicIp: true",
        "spec.container.publicIp",
        "a public IP is refused",
        id="public-ip-anywhere",
    ),
    pytest.param(
        "port: 8080",
        "    port: 70000",
        "spec.container.port",
        "must be less than or equal to 65535 (got 70000)",
        id="out-of-range",
    ),
    pytest.param(
        "apiKeys: [partner-a]",
        "        apiKeys: [partner a]",
        "spec.api.usagePlans[0].apiKeys[0]",
        "must match pattern",
        id="list-item-path",
    ),
    pytest.param(
        "memory: 512",
        "    environment: {1BAD: x}",
        "spec.container.environment['1BAD']",
        "key must match pattern",
        id="map-key-path",
    ),
]


@pytest.mark.parametrize(("anchor", "replacement", "path", "fragment"), STRUCTURAL)
def test_structural_problem_names_path_and_line(
    anchor: str, replacement: str, path: str, fragment: str
) -> None:
    """A structural error is one problem with its full camelCase path and the line of its key."""
    line = line_of(anchor)
    lines = DOC.splitlines()
    lines[line - 1] = replacement
    doc = only(load_text("\n".join(lines), "x.yaml"))
    assert not doc.valid
    assert doc.spec is None
    (problem,) = doc.problems
    assert (problem.path, problem.line) == (path, line)
    assert fragment in problem.message
    assert str(problem) == f"x.yaml:{line}: {path}: {problem.message}"


def test_missing_field_points_at_its_parent() -> None:
    """A missing required field is reported at its path, on the line of the nearest parent."""
    doc = only(load_text(DOC.replace("    image: nginx:1.27\n", ""), "x.yaml"))
    (problem,) = doc.problems
    assert str(problem) == f"x.yaml:{line_of('container:')}: spec.container.image: Field required"


def test_rule_problem_has_the_line_of_its_nested_key() -> None:
    """Cross-field problems carry the line of the field they name."""
    doc = only(load_text(DOC.replace("memory: 512", "memory: 3000"), "x.yaml"))
    (problem,) = doc.problems
    assert problem.line == line_of("memory: 512")
    assert str(problem).startswith(
        f"x.yaml:{problem.line}: spec.container.memory: 3000 is not valid for cpu 256"
    )


def test_rule_problem_on_a_defaulted_field_uses_the_nearest_line() -> None:
    """A problem about a field left at its default points at the closest key that is written."""
    text = DOC.replace("desiredCount: 2", "desiredCount: 2\n    launchType: EC2")
    (problem,) = only(load_text(text)).problems
    assert (problem.path, problem.line) == ("spec.container.hostPort", line_of("container:"))


def test_structural_errors_skip_the_rules_reading_their_field() -> None:
    """A misspelt `memroy` makes `memory` unreliable: the rule reading it does not run."""
    text = DOC.replace("memory: 512", "memory: 3000\n    memroy: 1")
    assert [p.path for p in only(load_text(text)).problems] == ["spec.container.memroy"]


def test_warning_only_document_is_valid() -> None:
    """Rule 7 is a warning: the document stays valid (`psctl validate` exits 0)."""
    doc = only(
        load_text(
            DOC.replace("deregistrationDelaySeconds: 30", "deregistrationDelaySeconds: 300"),
            "x.yaml",
        )
    )
    assert doc.valid
    assert doc.spec is not None
    assert doc.errors == []
    assert len(doc.warnings) == 1
    line = line_of("deregistrationDelaySeconds: 30")
    assert str(doc.warnings[0]).startswith(
        f"x.yaml:{line}: warning: spec.loadBalancer.targetGroup.deregistrationDelaySeconds: 300"
    )


def test_errors_come_before_warnings() -> None:
    """A document's problems list errors first."""
    text = DOC.replace("deregistrationDelaySeconds: 30", "deregistrationDelaySeconds: 300")
    text = text.replace("memory: 512", "memory: 3000")
    assert [p.severity for p in only(load_text(text)).problems] == ["error", "warning"]


def test_yaml_syntax_error_has_its_line() -> None:
    """A YAML syntax error is one problem with the line where the parser stopped."""
    doc = only(load_text("apiVersion: x\nspec:\n  a: [1, 2\n  b: 3\n", "bad.yaml"))
    (problem,) = doc.problems
    assert problem.line == 4
    assert problem.path == ""
    assert str(problem).startswith("bad.yaml:4: YAML syntax error: ")


def test_multiple_documents_skip_empty_ones() -> None:
    """`---` separates documents; empty ones are skipped, indexes count stream positions."""
    other = DOC.replace("name: orders", "name: payments")
    docs = load_text(f"---\n{DOC}---\n---\n# only a comment\n---\n{other}", "multi.yaml")
    assert [(d.index, d.spec and d.spec.metadata.name) for d in docs] == [
        (0, "orders"),
        (3, "payments"),
    ]
    assert docs[1].line == DOC.count("\n") + 6


def test_documents_before_a_syntax_error_are_kept() -> None:
    """A broken document does not hide the valid ones before it."""
    docs = load_text(f"{DOC}---\nfoo: [\n")
    assert [d.valid for d in docs] == [True, False]


def test_not_our_kind_is_a_problem() -> None:
    """A document of another apiVersion or kind is reported, not validated."""
    doc = only(load_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "cm.yaml"))
    assert [str(p) for p in doc.problems] == [
        "cm.yaml:1: apiVersion: 'v1' is not ours: expected privateservice.io/v1alpha1",
        "cm.yaml:2: kind: 'ConfigMap' is not ours: expected PrivateService",
    ]


def test_missing_kind_and_non_mapping_documents() -> None:
    """A document without kind, or that is not a mapping, is a problem."""
    docs = load_text("apiVersion: privateservice.io/v1alpha1\n---\n- a list\n")
    assert [str(p) for d in docs for p in d.problems] == [
        "<string>:1: kind: missing: expected PrivateService",
        "<string>:3: a document must be a mapping, not a list",
    ]


def test_duplicate_key_is_an_error() -> None:
    """YAML would silently keep the last of two equal keys: refuse it instead."""
    text = DOC.replace("desiredCount: 2", "desiredCount: 2\n    desiredCount: 3")
    (problem,) = only(load_text(text)).problems
    duplicate_line = line_of("desiredCount: 2") + 1
    assert (problem.path, problem.line) == ("spec.service.desiredCount", duplicate_line)
    assert "duplicate key" in problem.message


def test_directory_loads_yaml_files_sorted_not_recursively(tmp_path: Path) -> None:
    """A directory means its *.yaml and *.yml files, sorted, without subdirectories or dotfiles."""
    for name in ("b.yml", "a.yaml", ".hidden.yaml", "notes.txt", "sub/c.yaml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(DOC)
    docs = load_paths([tmp_path])
    assert [Path(d.source).name for d in docs] == ["a.yaml", "b.yml"]
    assert all(d.valid for d in docs)


def test_missing_and_unreadable_files_are_problems(tmp_path: Path) -> None:
    """A path that does not exist, or a file that is not UTF-8, is one problem each."""
    (tmp_path / "latin1.yaml").write_bytes(b"kind: \xe9\n")
    docs = load_paths([tmp_path / "nope.yaml", tmp_path / "latin1.yaml"])
    assert [d.valid for d in docs] == [False, False]
    assert str(docs[0].problems[0]) == f"{tmp_path / 'nope.yaml'}: no such file or directory"
    assert "cannot read" in docs[1].problems[0].message


def test_parse_object_accepts_a_kubernetes_custom_resource() -> None:
    """A custom resource read back from Kubernetes (server fields, status) validates."""
    obj = only(load_text(DOC)).spec
    assert obj is not None
    raw = obj.model_dump(by_alias=True, mode="json", exclude_none=True)
    raw["metadata"] |= {
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "generation": 3,
        "uid": "u-1",
        "resourceVersion": "42",
        "finalizers": ["privateservice.io/cleanup"],
        "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
    }
    raw["status"] = {"phase": "Ready"}
    doc = parse_object(raw, "kubernetes:shop/orders")
    assert doc.valid
    assert doc.spec is not None
    assert doc.spec.metadata.generation == 3


def test_parse_object_problems_have_no_line() -> None:
    """Problems of a mapping carry its source but no line."""
    doc = parse_object(
        {
            "apiVersion": "privateservice.io/v1alpha1",
            "kind": "PrivateService",
            "metadata": {"name": "Orders"},
            "spec": {},
        },
        "kubernetes:default/Orders",
    )
    assert [str(p) for p in doc.problems][:2] == [
        "kubernetes:default/Orders: metadata.name: must match pattern "
        "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' (got 'Orders')",
        "kubernetes:default/Orders: spec.network: Field required",
    ]


def test_located_problem_renders_like_a_compiler() -> None:
    """`file:line: [warning: ]path: message`, leaving out what is unknown."""
    problem = LocatedProblem("spec.a", "bad", "warning", "f.yaml", 3)
    assert str(problem) == "f.yaml:3: warning: spec.a: bad"
    assert problem.location.line == 3
    assert str(LocatedProblem("", "gone", "error", "f.yaml", None)) == "f.yaml: gone"
