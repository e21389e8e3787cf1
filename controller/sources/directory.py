"""Specs from a directory: every `*.yaml` / `*.yml` in it, polled, several documents per file.

Each `snapshot()` lists the directory (not recursively; dotfiles skipped, which also skips the
`..data` links of a mounted ConfigMap) and re-parses only the files whose inode, mtime or size
changed since the previous snapshot; a file that left the directory takes its specs with it. A
missing directory or an unreadable file is reported in the snapshot, never raised. File I/O runs
in a worker thread. `path` may also name a single file. Neighbours: `controller.ports.source`
(snapshot rules), `controller.spec.loader` (parsing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import structlog

from controller.ports.source import (
    Feedback,
    Invalid,
    Snapshot,
    build_snapshot,
    source_problem,
)
from controller.spec import LoadedDocument, load_text
from controller.spec.guard import DEFAULT_LIMITS, Limits
from controller.spec.loader import YAML_SUFFIXES

log = structlog.get_logger(__name__)

Stamp = tuple[int, int, int]  # (inode, mtime_ns, size)
Content = Sequence[LoadedDocument] | Invalid


class DirectorySource:
    """The `*.yaml` / `*.yml` files of one directory (or one file)."""

    def __init__(self, path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits  # a file over them is an invalid document, never an exception
        self.name = f"dir:{self.path}"
        self.feedback: Feedback | None = None
        self._cache: dict[str, tuple[Stamp, Content]] = {}
        self._lock = asyncio.Lock()

    async def snapshot(self) -> Snapshot:
        """Every spec of the directory now; only changed files are read again."""
        async with self._lock:
            return await asyncio.to_thread(self._scan)

    def _files(self) -> list[Path] | Invalid:
        try:
            if self.path.is_file():
                return [self.path]
            return sorted(
                entry
                for entry in self.path.iterdir()
                if entry.suffix in YAML_SUFFIXES
                and not entry.name.startswith(".")
                and entry.is_file()
            )
        except FileNotFoundError:
            return source_problem(str(self.path), "no such directory")
        except OSError as exc:
            return source_problem(str(self.path), f"cannot list: {exc}")

    def _scan(self) -> Snapshot:
        files = self._files()
        if isinstance(files, Invalid):
            self._cache.clear()
            return build_snapshot({files.location: files})
        contents: dict[str, Content] = {}
        cache: dict[str, tuple[Stamp, Content]] = {}
        for file in files:
            location = str(file)
            try:
                st = file.stat()
            except FileNotFoundError:  # removed since the listing
                continue
            except OSError as exc:
                contents[location] = source_problem(location, f"cannot read: {exc}")
                continue
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            cached = self._cache.get(location)
            if cached is not None and cached[0] == stamp:
                content = cached[1]
            else:  # stat before reading: a write after it shows as a new stamp next time
                content = self._read(file, location)
            if not isinstance(content, Invalid):  # a failed read is tried again next time
                cache[location] = (stamp, content)
            contents[location] = content
        self._cache = cache
        return build_snapshot(contents)

    def _read(self, file: Path, location: str) -> Content:
        try:
            if file.stat().st_size > self.limits.max_bytes:
                size = file.stat().st_size
                return source_problem(
                    location, f"too large: {size} bytes (at most {self.limits.max_bytes})"
                )
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return []
        except UnicodeDecodeError as exc:
            return source_problem(location, f"cannot read: not UTF-8 at byte {exc.start}")
        except OSError as exc:
            return source_problem(location, f"cannot read: {exc}")
        docs = load_text(text, location, self.limits)
        log.debug("spec file read", source=self.name, file=location, documents=len(docs))
        return docs
