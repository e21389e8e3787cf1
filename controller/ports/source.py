"""What every spec source hands the runtime: a snapshot of the specs it holds and what is wrong.

Sources are level-based: each `snapshot()` returns the whole current content of the source (not
events), and the runtime diffs two snapshots: an owner that appears is new, one whose
`fingerprint` differs changed, one that left `owners` was removed (pruned only with `--prune`,
and only from a `complete` snapshot). A document with errors never stops a snapshot and never
hides other documents: it becomes an `Invalid` with its rendered, located problems.

Rules `build_snapshot` applies for every source:
- a document with only warnings is valid: its spec is in `specs`, its warnings in `warnings`;
- a document with errors is `Invalid` (with its `owner` when the model parsed) and not in `specs`;
- two documents declaring the same owner: the first by location wins (even an invalid one), the
  other is `Invalid` with "metadata: <owner> is already declared in <location>";
- anything unreadable (a file, an object, the source itself) or a document whose owner is unknown
  makes the snapshot incomplete: a spec missing from it may still exist.
It sits in `controller.ports`, below the runtime, Kubernetes and the sources, so that every
source implements it and the runtime consumes it without either importing the other.
Neighbours: `controller.spec.loader` (parsing and located problems), `controller.sources` and
`controller.kube.source` (the sources), the runtime (the only consumer).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from controller.spec import LoadedDocument, LocatedProblem, PrivateService

# Metadata that Kubernetes, or the controller itself, changes: not a change of the spec.
VOLATILE_METADATA = frozenset(
    {
        "resourceVersion",
        "managedFields",
        "generation",
        "uid",
        "creationTimestamp",
        "selfLink",
        "finalizers",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    }
)


@dataclass(frozen=True)
class Invalid:
    """Something of a source that yields no spec, and why.

    `location` is `file`, `file#<document index>`, `s3://bucket/key#<index>` or the source itself;
    `problems` are rendered (`file:line: path: message`); `owner` is `<namespace>/<name>` when
    the document parsed far enough to tell (the runtime can then keep that spec's last good
    version and write the problems to its status).
    """

    location: str
    problems: tuple[str, ...]
    owner: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything a source holds at one moment."""

    specs: Mapping[str, PrivateService]
    """owner -> valid spec."""
    origins: Mapping[str, str]
    """owner -> location of the document that declared it (valid or not)."""
    invalid: tuple[Invalid, ...]
    """What yields no spec, in location order."""
    warnings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """owner -> rendered warnings of its (valid) document; owners without warnings are absent."""
    complete: bool = True
    """False when part of the source could not be read or a broken document's owner is unknown:
    an owner missing from this snapshot may still exist, so nothing may be pruned on it."""
    deleting: frozenset[str] = frozenset()
    """Owners whose deletion was asked for in the source itself (a Kubernetes object with a
    deletionTimestamp): their AWS resources go (or stay, under Retain) whatever `--prune` says,
    then `Feedback.release` lets the object go."""

    @property
    def owners(self) -> frozenset[str]:
        """Every owner the source declares, with a valid spec or an invalid document."""
        return frozenset(self.origins)


class Feedback(Protocol):
    """What a source that can hold status takes back from the controller (Kubernetes).

    Each method raises `controller.errors.TemporaryError` when the write failed; the controller
    logs it and tries again with the next pass. Only the leader calls them.
    """

    changed: asyncio.Event
    """Set when the source changed: the controller takes a snapshot at once."""

    async def prepare(self, owner: str) -> bool:
        """Before a pass (e.g. add a finalizer); False when the spec is gone meanwhile."""
        ...

    async def report(self, owner: str, status: Mapping[str, Any]) -> None:
        """The spec's status after a pass."""
        ...

    async def report_invalid(self, owner: str, problems: Sequence[str]) -> None:
        """The document of `owner` is invalid: status Failed with these problems."""
        ...

    async def event(
        self, owner: str, kind: Literal["Normal", "Warning"], reason: str, message: str
    ) -> None:
        """Something worth telling the owner of the spec (a drift, a failure)."""
        ...

    async def release(self, owner: str) -> None:
        """The spec's AWS resources are deleted (or retained): let the spec go."""
        ...


class Source(Protocol):
    """Where specs come from (a directory, an S3 prefix, Kubernetes)."""

    name: str
    """How logs and status name the source: `dir:<path>`, `s3://bucket/prefix`, ..."""

    @property
    def feedback(self) -> Feedback | None:
        """Where status and events go back to, for a source that holds them (Kubernetes)."""
        ...

    async def snapshot(self) -> Snapshot:
        """The whole current content; a broken document or an unreadable part is reported in
        the snapshot. Raises `controller.errors.TemporaryError` when the poll should be retried
        later (throttling, a connection failure)."""
        ...


def fingerprint(ps: PrivateService) -> str:
    """A stable sha256 of what the user declared: no status, no metadata Kubernetes sets."""
    data = ps.model_dump(mode="json", by_alias=True, exclude={"status"})
    metadata = data.get("metadata", {})
    for key in VOLATILE_METADATA:
        metadata.pop(key, None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _render(problems: Sequence[LocatedProblem]) -> tuple[str, ...]:
    return tuple(str(p) for p in problems)


def build_snapshot(files: Mapping[str, Sequence[LoadedDocument] | Invalid]) -> Snapshot:
    """Assemble a snapshot from every file (or object) of a source, keyed by its location.

    Each value is the file's documents (a document's location is `<file>#<index>`) or an
    `Invalid` for the whole file when it could not be read. Files are taken in location order.
    """
    specs: dict[str, PrivateService] = {}
    origins: dict[str, str] = {}
    warnings: dict[str, tuple[str, ...]] = {}
    invalid: list[Invalid] = []
    complete = True
    for file in sorted(files):
        content = files[file]
        if isinstance(content, Invalid):
            invalid.append(content)
            complete = False
            continue
        for doc in sorted(content, key=lambda d: d.index):
            location = f"{file}#{doc.index}"
            owner = doc.spec.owner if doc.spec is not None else None
            problems = _render(doc.problems)
            if owner is None:
                invalid.append(Invalid(location, problems))
                complete = False
            elif owner in origins:
                message = f"{owner} is already declared in {origins[owner]}"
                duplicate = LocatedProblem("metadata", message, "error", doc.source, doc.line)
                invalid.append(Invalid(location, (*problems, str(duplicate)), owner))
            else:
                origins[owner] = location
                if not doc.valid:
                    invalid.append(Invalid(location, problems, owner))
                    continue
                assert doc.spec is not None  # valid implies parsed
                specs[owner] = doc.spec
                if doc.warnings:
                    warnings[owner] = _render(doc.warnings)
    return Snapshot(specs, origins, tuple(invalid), warnings, complete)


def source_problem(location: str, message: str) -> Invalid:
    """An `Invalid` for a whole file, object or source: `<location>: <message>`."""
    return Invalid(location, (str(LocatedProblem("", message, "error", location, None)),))
