"""Limits on a YAML stream, checked on its events before any document is built.

PyYAML builds a document recursively (a 1,000-deep document raises RecursionError), and an
alias refers to a node by reference, so nine lines of aliases stand for a billion nodes once
anything walks the data (the alias bomb). `scan` reads the stream's events, which PyYAML's
parser produces without recursion, and measures each document: its nesting depth and its node
count with every alias expanded (memoised per anchor, so the bomb is counted, never expanded).
A document over a limit is reported with its line and never built; the others are built alone.
The limits are `Limits`' defaults, or `PSCTL_SPEC_MAX_BYTES`, `_DEPTH`, `_NODES` from the
environment (`limits_from_env`), for every command and source of the process.
Neighbours: `controller.spec.loader` (the only caller), the sources (which pass their `Limits`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace

import yaml


@dataclass(frozen=True)
class Limits:
    """What one spec file or document may cost. The defaults accept every example many times
    over (their deepest path is 7 levels, their largest document a few hundred nodes)."""

    max_bytes: int = 1024 * 1024
    """Size of one file (or S3 object) in UTF-8 bytes."""
    max_depth: int = 64
    """Nesting of mappings and lists in one document."""
    max_nodes: int = 100_000
    """Nodes of one document with every alias expanded (the alias bomb's measure)."""


ENV = {
    "max_bytes": "PSCTL_SPEC_MAX_BYTES",
    "max_depth": "PSCTL_SPEC_MAX_DEPTH",
    "max_nodes": "PSCTL_SPEC_MAX_NODES",
}
"""The environment variables that set each limit for every command and source of a process."""


def limits_from_env(env: Mapping[str, str] | None = None) -> Limits:
    """`Limits` with any of `ENV` set in `env` (default: the process environment); a value that
    is not a positive integer is an error naming the variable."""
    env = os.environ if env is None else env
    given: dict[str, int] = {}
    for name, variable in ENV.items():
        raw = env.get(variable)
        if raw is None or raw == "":
            continue
        if not raw.isdigit() or int(raw) < 1:
            msg = f"{variable}={raw!r}: expected a positive integer"
            raise ValueError(msg)
        given[name] = int(raw)
    return replace(Limits(), **given)


def _process_limits() -> Limits:
    try:
        return limits_from_env()
    except ValueError as exc:  # one line, not a traceback at import: the defaults apply
        sys.stderr.write(f"psctl: {exc}; the default spec limits apply\n")
        return Limits()


DEFAULT_LIMITS = _process_limits()
_FAST: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML has it (its events, marks and errors are the same, 10x as fast);
only the events are read here, the documents are built by PyYAML's own loader."""


@dataclass(frozen=True)
class Span:
    """One document of the stream: where it is, and why it must not be built (or None)."""

    index: int
    start: int  # character offset of its first event
    end: int  # character offset after its last event
    line: int  # 1-based line of its first event
    problem: str | None = None
    problem_line: int | None = None


class _Measure:
    """The running measures of one document."""

    def __init__(self, limits: Limits, index: int, start: int, line: int) -> None:
        self.limits, self.index, self.start, self.line = limits, index, start, line
        self.depth = 0
        self.stack: list[tuple[int, str | None]] = []  # (expanded size so far, anchor)
        self.anchors: dict[str, int] = {}
        self.total = 0  # expanded nodes of the whole document, once closed
        self.problem: str | None = None
        self.problem_line: int | None = None

    def fail(self, message: str, line: int) -> None:
        if self.problem is None:
            self.problem, self.problem_line = message, line

    def leaf(self, size: int, anchor: str | None, line: int) -> None:
        cap = self.limits.max_nodes + 1
        size = min(size, cap)
        if anchor is not None:
            self.anchors[anchor] = size
        if self.stack:
            done, own = self.stack[-1]
            size = min(done + size, cap)
            self.stack[-1] = (size, own)
        else:
            self.total = size
        if size > self.limits.max_nodes:
            self.fail(
                f"too many nodes once aliases are expanded (more than {self.limits.max_nodes}): "
                "an alias bomb?",
                line,
            )

    def open(self, anchor: str | None, line: int) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            self.fail(f"nested more than {self.limits.max_depth} levels deep", line)
        self.stack.append((1, anchor))

    def close(self, line: int) -> None:
        self.depth -= 1
        size, anchor = self.stack.pop()
        self.leaf(size, anchor, line)


def bracket_depth(text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[str, int] | None:
    """(why, line) when `[`/`{` nest deeper than the limit anywhere (outside quotes and
    comments), else None. Needed before the parser runs: PyYAML's scanner keeps a possible
    simple key per open flow collection and checks them all at every token, so 5,000 `[` cost
    it 30 s. A `[` inside a plain scalar counts too, which can only make this stricter."""
    depth, line, quote, comment, previous = 0, 1, "", False, "\n"
    for char in text:
        if char == "\n":
            line, comment = line + 1, False
        elif comment:
            pass
        elif quote:
            if char == quote:
                quote = ""
        elif char == "#" and previous in " \t\n":
            comment = True
        elif char in "'\"" and previous in " \t\n[{,:-":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > limits.max_depth:
                return f"nested more than {limits.max_depth} levels deep", line
        elif char in "]}":
            depth = max(depth - 1, 0)
        previous = char
    return None


def scan(text: str, limits: Limits = DEFAULT_LIMITS) -> list[Span]:
    """Every document of `text` with its measures; raises `yaml.YAMLError` on a syntax error
    (the loader reports it with its line)."""
    try:
        return _scan(text, limits, _FAST)
    except yaml.YAMLError:
        if _FAST is yaml.SafeLoader:
            raise
        # libyaml refuses some streams PyYAML reads (nesting past its own limit of 1,000):
        # measure those with PyYAML's parser, which says where the limit here is passed
        return _scan(text, limits, yaml.SafeLoader)


def _scan(text: str, limits: Limits, loader: type[yaml.SafeLoader]) -> list[Span]:
    spans: list[Span] = []
    doc: _Measure | None = None
    for event in yaml.parse(text, Loader=loader):
        mark = event.start_mark
        line = 0 if mark is None else mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            doc = _Measure(limits, len(spans), 0 if mark is None else mark.index, line)
        elif doc is None:
            continue
        elif isinstance(event, yaml.DocumentEndEvent):
            end = len(text) if event.end_mark is None else event.end_mark.index
            spans.append(Span(doc.index, doc.start, end, doc.line, doc.problem, doc.problem_line))
            doc = None
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            doc.open(event.anchor, line)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            doc.close(line)
        elif isinstance(event, yaml.ScalarEvent):
            doc.leaf(1, event.anchor, line)
        elif isinstance(event, yaml.AliasEvent):
            doc.leaf(doc.anchors.get(event.anchor or "", 1), None, line)
    return spans


def size_problem(text: str, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why `text` is too large to read, or None."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > limits.max_bytes:
        return f"too large: {size} bytes (a spec file holds at most {limits.max_bytes})"
    return None
