"""Snapshot rules shared by every source (controller.ports.source) and `make_source`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from controller.cli_wiring import make_source
from controller.sources import (
    DirectorySource,
    Invalid,
    S3Source,
    build_snapshot,
    fingerprint,
    parse_source_url,
)
from controller.spec import PrivateService, load_text

Doc = Callable[..., str]


def parse(text: str, source: str = "a.yaml") -> PrivateService:
    """The one valid spec of `text`."""
    (loaded,) = load_text(text, source)
    assert loaded.spec is not None
    return loaded.spec


def with_metadata(ps: PrivateService, **changes: object) -> PrivateService:
    """`ps` with some metadata fields (camelCase) changed, as Kubernetes (or a user) would."""
    data = ps.model_dump(mode="json", by_alias=True)
    data["metadata"].update(changes)
    return PrivateService.model_validate(data)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"resourceVersion": "4711"}, id="resourceVersion"),
        pytest.param({"generation": 7}, id="generation"),
        pytest.param({"uid": "8d7c-uid"}, id="uid"),
        pytest.param({"managedFields": [{"manager": "kubectl"}]}, id="managedFields"),
        pytest.param({"creationTimestamp": "2024-05-01T10:00:00Z"}, id="creationTimestamp"),
    ],
)
def test_fingerprint_ignores_what_kubernetes_sets(doc: Doc, changes: dict[str, object]) -> None:
    """Metadata Kubernetes changes on its own is not a change of the spec."""
    ps = parse(doc("orders"))
    assert fingerprint(with_metadata(ps, **changes)) == fingerprint(ps)


def test_fingerprint_ignores_status(doc: Doc) -> None:
    """The status a custom resource carries back is output, never input."""
    ps = parse(doc("orders"))
    assert fingerprint(ps.model_copy(update={"status": {"phase": "Ready"}})) == fingerprint(ps)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param({}, {"image": "nginx:1.28"}, id="image"),
        pytest.param({}, {"delay": 60}, id="a-target-group-field"),
        pytest.param({}, {"namespace": "other"}, id="namespace"),
    ],
)
def test_fingerprint_sees_spec_changes(
    doc: Doc, before: dict[str, object], after: dict[str, object]
) -> None:
    """Anything the user declared changes the fingerprint."""
    assert fingerprint(parse(doc("orders", **before))) != fingerprint(parse(doc("orders", **after)))


def test_fingerprint_sees_labels_and_annotations(doc: Doc) -> None:
    """Labels and annotations are the user's metadata: a change is a change."""
    ps = parse(doc("orders"))
    assert fingerprint(with_metadata(ps, labels={"team": "shop"})) != fingerprint(ps)
    assert fingerprint(with_metadata(ps, annotations={"a": "b"})) != fingerprint(ps)


def test_fingerprint_is_stable_across_parses_and_key_order(doc: Doc) -> None:
    """The same spec written with other key order and defaults spelled out has one fingerprint."""
    text = doc("orders")
    reordered = text.replace(
        "  name: orders\n  namespace: shop\n", "  namespace: shop\n  name: orders\n"
    )
    explicit = text.replace("    port: 8080\n", "    port: 8080\n    cpu: 256\n")
    assert reordered != text
    assert explicit != text
    assert fingerprint(parse(text)) == fingerprint(parse(reordered)) == fingerprint(parse(explicit))
    assert len(fingerprint(parse(text))) == 64


def test_a_document_with_only_warnings_is_valid(doc: Doc) -> None:
    """Warnings do not keep a spec out; they travel in `warnings` for the status."""
    snap = build_snapshot({"a.yaml": load_text(doc("orders", delay=120), "a.yaml")})
    assert set(snap.specs) == {"shop/orders"}
    assert snap.invalid == ()
    (warning,) = snap.warnings["shop/orders"]
    assert warning.startswith("a.yaml:17: warning: spec.loadBalancer.targetGroup.")
    assert snap.complete


def test_a_broken_rule_is_invalid_with_its_owner(doc: Doc) -> None:
    """A document whose model parses but breaks a rule: no spec, an Invalid naming the owner."""
    snap = build_snapshot({"a.yaml": load_text(doc("orders", broken_rule=True), "a.yaml")})
    assert snap.specs == {}
    (invalid,) = snap.invalid
    assert invalid.location == "a.yaml#0"
    assert invalid.owner == "shop/orders"
    assert "healthCheck.timeoutSeconds: 10 must be less than" in invalid.problems[0]
    assert snap.owners == {"shop/orders"}, "still declared: the runtime must not prune it"
    assert snap.complete


def test_a_structural_error_leaves_the_owner_unknown_and_the_snapshot_incomplete(
    doc: Doc,
) -> None:
    """Without a model the owner is unknown, so a missing spec may be this one: no pruning."""
    snap = build_snapshot({"a.yaml": load_text(doc("orders", image=""), "a.yaml")})
    (invalid,) = snap.invalid
    assert invalid.owner is None
    assert invalid.problems == (
        "a.yaml:11: spec.container.image: must be a valid string (got None)",
    )
    assert not snap.complete


@pytest.mark.parametrize(
    ("first_broken", "winner_valid"),
    [
        pytest.param(False, True, id="valid-first"),
        pytest.param(True, False, id="invalid-first-still-claims-the-owner"),
    ],
)
def test_duplicate_owner_first_location_wins(
    doc: Doc, first_broken: bool, winner_valid: bool
) -> None:
    """Two documents with one owner: the first by location wins, the other is reported."""
    files = {  # given in reverse order: sorting by location decides, not insertion
        "b.yaml": load_text(doc("orders", image="nginx:2"), "b.yaml"),
        "a.yaml": load_text(doc("orders", broken_rule=first_broken), "a.yaml"),
    }
    snap = build_snapshot(files)
    assert snap.origins == {"shop/orders": "a.yaml#0"}
    assert ("shop/orders" in snap.specs) is winner_valid
    duplicate = snap.invalid[-1]
    assert duplicate.location == "b.yaml#0"
    assert duplicate.owner == "shop/orders"
    assert duplicate.problems[-1] == (
        "b.yaml:1: metadata: shop/orders is already declared in a.yaml#0"
    )


def test_documents_of_one_file_are_ordered_by_index(doc: Doc) -> None:
    """Within one file the earlier document wins a duplicate owner."""
    text = doc("orders") + "---\n" + doc("orders", image="nginx:2")
    snap = build_snapshot({"a.yaml": load_text(text, "a.yaml")})
    assert snap.origins == {"shop/orders": "a.yaml#0"}
    assert snap.specs["shop/orders"].spec.container.image == "nginx:1.27"
    assert [i.location for i in snap.invalid] == ["a.yaml#1"]


def test_an_unreadable_file_makes_the_snapshot_incomplete(doc: Doc) -> None:
    """A whole-file problem is reported as is; other files still count."""
    problem = Invalid("b.yaml", ("b.yaml: cannot read: boom",))
    snap = build_snapshot({"a.yaml": load_text(doc("orders"), "a.yaml"), "b.yaml": problem})
    assert set(snap.specs) == {"shop/orders"}
    assert snap.invalid == (problem,)
    assert not snap.complete


class Boom:
    """An AWS context factory that must not be called."""

    def __call__(self) -> object:
        raise AssertionError("a directory source needs no AWS")


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        pytest.param("specs", DirectorySource, id="relative-path"),
        pytest.param("/etc/privateservice", DirectorySource, id="absolute-path"),
        pytest.param("s3://bucket/specs", S3Source, id="s3"),
    ],
)
def test_make_source_picks_by_form(spec: str, kind: type) -> None:
    """A path is a directory, s3:// an S3 prefix; AWS is made only for S3."""
    factory = object if kind is S3Source else Boom()
    source = make_source(spec, factory)
    assert isinstance(source, kind)
    if isinstance(source, DirectorySource):
        assert source.path == Path(spec)
        assert source.name == f"dir:{spec}"
    else:
        assert source.name == "s3://bucket/specs/"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("kubernetes:shop", "--source kubernetes --namespace NS", id="kubernetes-ns"),
        pytest.param("https://example.com/specs", "unknown source scheme 'https'", id="https"),
        pytest.param("s3://", "names no bucket", id="s3-without-bucket"),
        pytest.param("", "an empty source", id="empty"),
    ],
)
def test_make_source_refuses(spec: str, message: str) -> None:
    """What is not a source says so clearly."""
    with pytest.raises(ValueError, match=message):
        make_source(spec, Boom())


def test_make_source_kubernetes_needs_no_aws_and_no_cluster_until_it_runs() -> None:
    """`kubernetes` is the Kubernetes source (its client is made on first use); --namespace
    applies to it alone."""
    from controller.kube.source import KubernetesSource

    source = make_source("kubernetes", Boom(), namespace="shop")
    assert isinstance(source, KubernetesSource)
    assert source.name == "kubernetes:shop"
    with pytest.raises(ValueError, match="applies to the kubernetes source only"):
        make_source("specs/", Boom(), namespace="shop")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("s3://specs", ("specs", ""), id="whole-bucket"),
        pytest.param("s3://specs/", ("specs", ""), id="whole-bucket-slash"),
        pytest.param("s3://specs/prod", ("specs", "prod/"), id="prefix-is-a-folder"),
        pytest.param("s3://specs/prod/", ("specs", "prod/"), id="prefix-slash"),
        pytest.param("s3://my.specs-1/a/b", ("my.specs-1", "a/b/"), id="nested"),
    ],
)
def test_parse_source_url(url: str, expected: tuple[str, str]) -> None:
    """A prefix names a folder: `s3://b/prod` does not pick up `prod-old/`."""
    assert parse_source_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("specs/prod", "is not an S3 URL", id="no-scheme"),
        pytest.param("gs://specs/prod", "is not an S3 URL", id="other-scheme"),
        pytest.param("s3:/specs", "is not an S3 URL", id="one-slash"),
        pytest.param("s3:///prod", "names no bucket", id="empty-bucket"),
        pytest.param("s3://a/prod", "is not a bucket name", id="short-bucket"),
        pytest.param("s3://bad bucket/prod", "is not a bucket name", id="space"),
    ],
)
def test_parse_source_url_refuses(url: str, message: str) -> None:
    """A bad URL fails at start-up with the URL and what was expected."""
    with pytest.raises(ValueError, match=message):
        parse_source_url(url)
