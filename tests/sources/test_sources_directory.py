"""The directory source (controller.sources.directory): polling files, caching, reporting."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controller.sources import DirectorySource, Snapshot
from controller.sources import directory as directory_module
from controller.spec import LoadedDocument

Doc = Callable[..., str]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts `load_text` calls of the directory source, by file name."""
    counts: Counter[str] = Counter()
    real = directory_module.load_text

    def spy(text: str, source: str = "<string>", *limits: Any) -> list[LoadedDocument]:
        counts[Path(source).name] += 1
        return real(text, source, *limits)

    monkeypatch.setattr(directory_module, "load_text", spy)
    return counts


def images(snap: Snapshot) -> dict[str, str]:
    """owner -> container image: enough to see which version of a spec a snapshot holds."""
    return {owner: ps.spec.container.image for owner, ps in snap.specs.items()}


def bump_mtime(path: Path) -> None:
    """Move the file's mtime on by a second: a rewrite within the clock's resolution shows."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


async def test_created_changed_and_removed_files_are_seen(tmp_path: Path, doc: Doc) -> None:
    """Each snapshot is the directory's whole current content."""
    source = DirectorySource(tmp_path)
    assert (await source.snapshot()).specs == {}

    (tmp_path / "orders.yaml").write_text(doc("orders"))
    (tmp_path / "billing.yml").write_text(doc("billing"))
    snap = await source.snapshot()
    assert images(snap) == {"shop/orders": "nginx:1.27", "shop/billing": "nginx:1.27"}
    assert snap.origins == {
        "shop/orders": f"{tmp_path}/orders.yaml#0",
        "shop/billing": f"{tmp_path}/billing.yml#0",
    }

    (tmp_path / "orders.yaml").write_text(doc("orders", image="nginx:1.28"))
    bump_mtime(tmp_path / "orders.yaml")
    assert images(await source.snapshot())["shop/orders"] == "nginx:1.28"

    (tmp_path / "billing.yml").unlink()
    snap = await source.snapshot()
    assert images(snap) == {"shop/orders": "nginx:1.28"}
    assert snap.complete, "a removed file is a removal, not an unreadable part"


async def test_same_size_rewrite_is_seen_by_mtime(tmp_path: Path, doc: Doc) -> None:
    """Same size, new content: the changed mtime alone triggers a re-read."""
    path = tmp_path / "orders.yaml"
    path.write_text(doc("orders", image="nginx:1.27"))
    source = DirectorySource(tmp_path)
    await source.snapshot()
    before = path.stat()
    path.write_text(doc("orders", image="nginx:1.28"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == before.st_size
    assert images(await source.snapshot()) == {"shop/orders": "nginx:1.28"}


async def test_unchanged_files_are_not_parsed_again(
    tmp_path: Path, doc: Doc, parses: Counter[str]
) -> None:
    """Only a file whose stamp changed is parsed again; the others come from the cache."""
    (tmp_path / "a.yaml").write_text(doc("a"))
    (tmp_path / "b.yaml").write_text(doc("b"))
    source = DirectorySource(tmp_path)
    first = await source.snapshot()
    assert parses == {"a.yaml": 1, "b.yaml": 1}

    assert await source.snapshot() == first
    assert parses == {"a.yaml": 1, "b.yaml": 1}

    (tmp_path / "b.yaml").write_text(doc("b", image="nginx:2"))
    bump_mtime(tmp_path / "b.yaml")
    assert images(await source.snapshot()) == {"shop/a": "nginx:1.27", "shop/b": "nginx:2"}
    assert parses == {"a.yaml": 1, "b.yaml": 2}


async def test_several_documents_per_file(tmp_path: Path, doc: Doc) -> None:
    """Every document of a `---` stream is a spec, located by its index."""
    text = doc("orders") + "---\n" + doc("billing") + "---\n" + doc("ledger", namespace="fin")
    (tmp_path / "all.yaml").write_text(text)
    snap = await DirectorySource(tmp_path).snapshot()
    assert snap.origins == {
        "shop/orders": f"{tmp_path}/all.yaml#0",
        "shop/billing": f"{tmp_path}/all.yaml#1",
        "fin/ledger": f"{tmp_path}/all.yaml#2",
    }


async def test_invalid_document_is_reported_and_touches_nothing_else(
    tmp_path: Path, doc: Doc
) -> None:
    """A bad document is an Invalid with file:line; its neighbours, here and elsewhere, stay."""
    same = doc("orders") + "---\n" + doc("broken", image="") + "---\n" + doc("billing")
    (tmp_path / "a.yaml").write_text(same)
    (tmp_path / "b.yaml").write_text(doc("ledger"))
    snap = await DirectorySource(tmp_path).snapshot()
    assert set(snap.specs) == {"shop/orders", "shop/billing", "shop/ledger"}
    (invalid,) = snap.invalid
    assert invalid.location == f"{tmp_path}/a.yaml#1"
    line = len(doc("orders").splitlines()) + 1 + 11  # after doc 0 and its `---`
    assert invalid.problems == (
        f"{tmp_path}/a.yaml:{line}: spec.container.image: must be a valid string (got None)",
    )
    assert not snap.complete, "the broken document's owner is unknown: nothing may be pruned"


async def test_yaml_syntax_error_keeps_earlier_documents(tmp_path: Path, doc: Doc) -> None:
    """A syntax error stops its file's stream there; what came before still counts."""
    (tmp_path / "a.yaml").write_text(doc("orders") + "---\nmetadata: [unclosed\n")
    snap = await DirectorySource(tmp_path).snapshot()
    assert set(snap.specs) == {"shop/orders"}
    (invalid,) = snap.invalid
    assert invalid.location == f"{tmp_path}/a.yaml#1"
    assert "YAML syntax error" in invalid.problems[0]


async def test_duplicate_owner_across_files(tmp_path: Path, doc: Doc) -> None:
    """The same owner in two files: the first file (by name) wins, the other is reported."""
    (tmp_path / "b.yaml").write_text(doc("orders", image="nginx:from-b"))
    (tmp_path / "a.yaml").write_text(doc("orders", image="nginx:from-a"))
    snap = await DirectorySource(tmp_path).snapshot()
    assert images(snap) == {"shop/orders": "nginx:from-a"}
    (invalid,) = snap.invalid
    assert invalid.location == f"{tmp_path}/b.yaml#0"
    assert invalid.problems == (
        f"{tmp_path}/b.yaml:1: metadata: shop/orders is already declared in {tmp_path}/a.yaml#0",
    )


async def test_missing_directory_is_reported_not_raised(tmp_path: Path, doc: Doc) -> None:
    """A missing directory is an Invalid for itself (incomplete); once created it is read."""
    path = tmp_path / "specs"
    source = DirectorySource(path)
    snap = await source.snapshot()
    assert snap.specs == {}
    assert snap.invalid[0].location == str(path)
    assert snap.invalid[0].problems == (f"{path}: no such directory",)
    assert not snap.complete

    path.mkdir()
    (path / "orders.yaml").write_text(doc("orders"))
    snap = await source.snapshot()
    assert set(snap.specs) == {"shop/orders"}
    assert snap.complete


async def test_only_visible_yaml_files_at_the_top_are_read(tmp_path: Path, doc: Doc) -> None:
    """Dotfiles, other suffixes and subdirectories are not specs (nor ConfigMap `..data`)."""
    (tmp_path / "orders.yaml").write_text(doc("orders"))
    (tmp_path / ".hidden.yaml").write_text(doc("hidden"))
    (tmp_path / "notes.txt").write_text(doc("notes"))
    (tmp_path / "orders.yaml.bak").write_text(doc("backup"))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "deep.yaml").write_text(doc("deep"))
    (tmp_path / "dir.yaml").mkdir()
    snap = await DirectorySource(tmp_path).snapshot()
    assert set(snap.specs) == {"shop/orders"}
    assert snap.invalid == ()


async def test_unreadable_file_is_reported_and_read_again(tmp_path: Path, doc: Doc) -> None:
    """A file that cannot be read is an Invalid for the file, and is not cached: it is read
    again next poll even with the same stamp (as after a chmod, which moves no mtime)."""
    (tmp_path / "good.yaml").write_text(doc("orders"))
    bad = tmp_path / "bad.yaml"
    fixed = doc("billing").encode()
    bad.write_bytes(b"\xff\xfe" + b"x" * (len(fixed) - 2))
    stamp = bad.stat()
    source = DirectorySource(tmp_path)
    snap = await source.snapshot()
    assert set(snap.specs) == {"shop/orders"}
    (invalid,) = snap.invalid
    assert invalid.location == str(bad)
    assert invalid.problems[0].startswith(f"{bad}: cannot read: ")
    assert not snap.complete

    bad.write_bytes(fixed)
    os.utime(bad, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert bad.stat().st_mtime_ns == stamp.st_mtime_ns
    assert bad.stat().st_size == stamp.st_size
    snap = await source.snapshot()
    assert set(snap.specs) == {"shop/orders", "shop/billing"}
    assert snap.complete


async def test_a_single_file_path(tmp_path: Path, doc: Doc) -> None:
    """The path may name one file: that file is the whole source."""
    path = tmp_path / "orders.yaml"
    path.write_text(doc("orders"))
    (tmp_path / "other.yaml").write_text(doc("other"))
    assert set((await DirectorySource(path).snapshot()).specs) == {"shop/orders"}
