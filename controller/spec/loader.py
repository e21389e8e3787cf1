"""Loading PrivateService documents: YAML (files, directories, strings) or mappings -> models.

Each document becomes a `LoadedDocument`: the validated `PrivateService` (or None) and every
problem found, each with its file and line (`examples/x.yaml:12: spec.container.memory: ...`).
Structural problems come from the models (`models`, one per pydantic error, named by camelCase
path); the cross-field rules (`rules.check`) run on the valid document, or on a repaired copy
(`salvage`) when it is structurally invalid. A document is valid when it has no error
(warnings are fine). Neighbours: `models`, `rules`, `salvage`, the CLI (`psctl validate` prints
these problems) and the spec sources (directory, S3, Kubernetes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from controller.spec import salvage
from controller.spec.guard import DEFAULT_LIMITS, Limits, bracket_depth, scan, size_problem
from controller.spec.models import API_VERSION, KIND, PrivateService
from controller.spec.names import (
    Loc,
    did_you_mean,
    field_types,
    is_model,
    parse_path,
    render_path,
    type_at,
)
from controller.spec.rules import Severity, check

YAML_SUFFIXES = (".yaml", ".yml")
_PUBLIC_IP_FIELDS = {"assignpublicip", "assign_public_ip", "publicip", "public_ip"}
_PUBLIC_IP_MESSAGE = (
    "a public IP is refused: tasks always run in the private subnets with "
    "assignPublicIp=DISABLED (contract rule 4); remove this field"
)


@dataclass(frozen=True)
class Located:
    """Where something is: a source (file path, `<string>`, `kubernetes:ns/name`) and a line."""

    source: str
    line: int | None


@dataclass(frozen=True)
class LocatedProblem:
    """A problem with the place it was found; `str()` is the line `psctl validate` prints."""

    path: str
    message: str
    severity: Severity
    source: str
    line: int | None

    @property
    def location(self) -> Located:
        return Located(self.source, self.line)

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        prefix = "warning: " if self.severity == "warning" else ""
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: {prefix}{what}"


@dataclass
class LoadedDocument:
    """One document of a source: its model when structurally valid, and all its problems."""

    source: str
    index: int
    spec: PrivateService | None
    problems: list[LocatedProblem] = field(default_factory=list)
    line: int | None = None

    @property
    def location(self) -> Located:
        return Located(self.source, self.line)

    @property
    def errors(self) -> list[LocatedProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[LocatedProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        """True when the document has no error (warnings do not count)."""
        return self.spec is not None and not self.errors


class _Document:
    """One YAML document's data and the line of every key and list item in it."""

    def __init__(self, source: str, index: int, node: yaml.Node | None) -> None:
        self.source, self.index = source, index
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[Loc, int]] = []
        if node is not None:
            self._walk(node, (), set())

    def _walk(self, node: yaml.Node, loc: Loc, visited: set[int]) -> None:
        if id(node) in visited:  # an alias: its lines are where its anchor is (never expanded)
            return
        visited.add(id(node))
        if not loc:
            self.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.duplicates.append(((*loc, key), line))
                seen.add(key)
                self.lines[(*loc, key)] = line
                self._walk(value_node, (*loc, key), visited)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines[(*loc, i)] = item.start_mark.line + 1
                self._walk(item, (*loc, i), visited)

    def line_of(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest ancestor that is in the document."""
        for depth in range(len(loc), -1, -1):
            if (line := self.lines.get(loc[:depth])) is not None:
                return line
        return None


# -- validation -------------------------------------------------------------------------------


def _got(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: ErrorDetails) -> str:
    """A readable message for one pydantic error (its path is rendered separately)."""
    kind, loc, value = error["type"], error["loc"], error.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        parent = type_at(loc[:-1])
        known = sorted(field_types(parent)) if is_model(parent) else []
        unknown = "unknown field" + did_you_mean(name, known)
        return _PUBLIC_IP_MESSAGE if name.lower() in _PUBLIC_IP_FIELDS else unknown
    if kind == "missing":
        message = "Field required"
    elif kind == "literal_error":
        message = f"{_got(value)} must be one of {error.get('ctx', {}).get('expected', '?')}"
    elif kind in ("value_error", "assertion_error"):
        message = re.sub(r"^(Value|Assertion) error, ", "", error["msg"])
    else:
        should = re.sub(r"^(Input|String|List|Dictionary|Value) should ", "must ", error["msg"])
        key = "key " if loc and loc[-1] == "[key]" else ""
        message = f"{key}{should} (got {_got(value)})"
    return message


def _problem(
    doc: _Document, loc: Loc, message: str, severity: Severity = "error"
) -> LocatedProblem:
    return LocatedProblem(render_path(loc), message, severity, doc.source, doc.line_of(loc))


def _validate(data: object, doc: _Document) -> LoadedDocument:
    duplicate = "duplicate key: YAML keeps only the last value; remove one"
    problems = [
        LocatedProblem(render_path(loc), duplicate, "error", doc.source, line)
        for loc, line in doc.duplicates
    ]
    result = LoadedDocument(doc.source, doc.index, None, problems, doc.line_of(()))
    if not isinstance(data, Mapping):
        problems.append(_problem(doc, (), f"a document must be a mapping, not {_got(data)}"))
        return result
    for key, expected in (("apiVersion", API_VERSION), ("kind", KIND)):
        if data.get(key) != expected:
            got = "missing" if key not in data else f"{_got(data[key])} is not ours"
            problems.append(_problem(doc, (key,), f"{got}: expected {expected}"))
    if problems:
        return result
    try:
        ps = PrivateService.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(s for s in error["loc"] if s != "[key]")
            problems.append(_problem(doc, loc, _message(error)))
        # the rules reading no field in error still run: every problem in one validate
        rest = salvage.rule_problems(data, exc.errors(include_url=False))
        problems.extend(_problem(doc, parse_path(p.path), p.message, p.severity) for p in rest)
        problems.sort(key=lambda p: p.severity != "error")
        return result
    result.spec = ps
    problems.extend(_problem(doc, parse_path(p.path), p.message, p.severity) for p in check(ps))
    problems.sort(key=lambda p: p.severity != "error")
    return result


def _syntax_problem(source: str, index: int, exc: yaml.YAMLError) -> LoadedDocument:
    line, detail = None, " ".join(str(exc).split())
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        line = exc.problem_mark.line + 1
        detail = "; ".join(part for part in (exc.context, exc.problem) if part) or detail
    message = f"YAML syntax error: {detail}"
    return LoadedDocument(
        source, index, None, [LocatedProblem("", message, "error", source, line)], line
    )


def _unreadable(source: str, index: int, line: int | None, exc: BaseException) -> LoadedDocument:
    """A document that could not be built or checked: a problem, never an exception."""
    if isinstance(exc, RecursionError):
        why = "nested too deeply to read"
    elif isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        why = "an integer with too many digits"
    else:
        why = f"{type(exc).__name__}: {exc}"
    problem = LocatedProblem("", f"cannot read this document: {why}", "error", source, line)
    return LoadedDocument(source, index, None, [problem], line)


def _compose(text: str, source: str, first: int = 0) -> Iterator[LoadedDocument]:
    loader = yaml.SafeLoader(text)
    index = first
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                line = node.start_mark.line + 1
                try:
                    doc = _Document(source, index, node)
                    data = loader.construct_document(node)
                    checked = None if data is None else _validate(data, doc)
                except yaml.YAMLError:
                    raise
                except (RecursionError, ValueError, TypeError, ArithmeticError) as exc:
                    checked = _unreadable(source, index, line, exc)
                if checked is not None:
                    yield checked
            index += 1
    except yaml.YAMLError as exc:
        yield _syntax_problem(source, index, exc)
    except RecursionError as exc:  # composing: the guard's depth limit was raised too high
        yield _unreadable(source, index, None, exc)
    finally:
        loader.dispose()


def _documents(text: str, source: str, limits: Limits) -> Iterator[LoadedDocument]:
    too_large = size_problem(text, limits)
    if too_large is not None:
        yield _file_problem(source, too_large)
        return
    too_deep = bracket_depth(text, limits)
    if too_deep is not None:
        problem = LocatedProblem("", too_deep[0], "error", source, too_deep[1])
        yield LoadedDocument(source, 0, None, [problem], too_deep[1])
        return
    try:
        spans = scan(text, limits)
    except yaml.YAMLError:
        spans = []  # the loader reports it, with its line
    if not any(span.problem for span in spans):
        yield from _compose(text, source)
        return
    for span in spans:  # build each document alone, on its own lines, except those over a limit
        if span.problem is not None:
            problem = LocatedProblem("", span.problem, "error", source, span.problem_line)
            yield LoadedDocument(source, span.index, None, [problem], span.line)
        else:
            alone = "\n" * (span.line - 1) + text[span.start : span.end]
            yield from _compose(alone, source, span.index)


def load_text(
    text: str, source: str = "<string>", limits: Limits = DEFAULT_LIMITS
) -> list[LoadedDocument]:
    """Every non-empty document of a YAML stream (`---` separates documents). A document that
    cannot be read (over a limit of `limits`, a syntax error) is one with a problem."""
    return list(_documents(text, source, limits))


def _file_problem(source: str, message: str) -> LoadedDocument:
    return LoadedDocument(source, 0, None, [LocatedProblem("", message, "error", source, None)])


def _files(path: Path) -> list[Path]:
    """`path` itself, or every `*.yaml` / `*.yml` of a directory (sorted, not recursive)."""
    if not path.is_dir():
        return [path]
    return sorted(
        p
        for p in path.iterdir()
        if p.suffix in YAML_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def load_paths(
    paths: Iterable[str | Path], limits: Limits = DEFAULT_LIMITS
) -> list[LoadedDocument]:
    """Every document of the given files and directories, in order (unreadable, empty or over
    a limit of `limits`: a problem naming the file)."""
    documents: list[LoadedDocument] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            documents.append(_file_problem(str(given), "no such file or directory"))
            continue
        for file in _files(path):
            source = str(file)
            try:
                text = file.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                where = f"byte {exc.start}"
                documents.append(_file_problem(source, f"cannot read: not UTF-8 at {where}"))
                continue
            except OSError as exc:
                documents.append(_file_problem(source, f"cannot read: {exc}"))
                continue
            loaded = load_text(text, source, limits)
            if not loaded:
                loaded = [_file_problem(source, "no document in this file (it is empty)")]
            documents.extend(loaded)
    return documents


def parse_object(obj: Mapping[str, Any], source: str) -> LoadedDocument:
    """One document from a mapping (a Kubernetes custom resource, JSON): no line numbers."""
    return _validate(obj, _Document(source, 0, None))
