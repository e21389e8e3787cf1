"""One spec per `namespace/name`: a second document declaring an owner is an error.

The owner (`<namespace>/<name>`) keys everything the controller creates, so two documents with
the same one would be two desired states of one service: `plan` would show two plans, `apply`
would apply both (the last wins). `mark_duplicates` adds to every later document an error
naming the first one's file and line, as `psctl run` does for its sources
(`controller.ports.source.build_snapshot`), so validate, plan, apply, delete and status refuse
them alike. Neighbours: `loader` (`load_paths` calls this on every document it loaded).
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.spec.loader import LoadedDocument, LocatedProblem


def mark_duplicates(docs: Sequence[LoadedDocument]) -> list[LoadedDocument]:
    """`docs`, each later declaration of an owner with an error naming the first one."""
    first: dict[str, LoadedDocument] = {}
    for doc in docs:
        if doc.spec is None:
            continue
        owner = doc.spec.owner
        if (earlier := first.setdefault(owner, doc)) is doc:
            continue
        where = earlier.source if earlier.line is None else f"{earlier.source}:{earlier.line}"
        message = (
            f"{owner} is already declared in {where}: one document per namespace/name "
            "(rename one, or delete the copy)"
        )
        doc.problems.insert(0, LocatedProblem("metadata", message, "error", doc.source, doc.line))
    return list(docs)
