"""Specs from an S3 prefix: every `*.yaml` / `*.yml` object under `s3://bucket/prefix/`, polled.

Each `snapshot()` lists the prefix (ListObjectsV2, paginated, recursive; dotfiles skipped) and
GETs only the objects whose ETag changed since the previous snapshot. What cannot work until
someone acts (no such bucket, access denied, an object too large or not UTF-8) is reported in
the snapshot; what may pass by itself (throttling, a 5xx, a connection failure) raises
`TemporaryError` so that the runtime polls again later. boto3 is synchronous: the poll runs in a
worker thread. Neighbours: `controller.ports.source` (snapshot rules), `controller.spec.loader`
(parsing), `controller.aws.s3` (the S3 calls and what their failures mean).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import structlog

from controller.aws.s3 import ReadError, get_object, list_objects
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

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

    from controller.aws.session import AwsContext

log = structlog.get_logger(__name__)

MAX_OBJECT_BYTES = 1024 * 1024
"""Larger objects are reported, not read: a spec is a few kilobytes."""
_BUCKET = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]$")

Content = Sequence[LoadedDocument] | Invalid


def parse_source_url(text: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix); a non-empty prefix is a folder (ends with `/`).

    >>> parse_source_url("s3://specs-bucket/prod")
    ('specs-bucket', 'prod/')
    """
    scheme, sep, rest = text.partition("://")
    if not sep or scheme != "s3":
        raise ValueError(f"{text!r} is not an S3 URL: expected s3://bucket/prefix")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{text!r} names no bucket: expected s3://bucket/prefix")
    if not _BUCKET.match(bucket):
        raise ValueError(
            f"{text!r}: {bucket!r} is not a bucket name (3 to 255 letters, digits, '.', '-' or '_')"
        )
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


class S3Source:
    """The `*.yaml` / `*.yml` objects under one S3 prefix."""

    def __init__(self, url: str, aws: AwsContext, limits: Limits = DEFAULT_LIMITS) -> None:
        self.bucket, self.prefix = parse_source_url(url)
        self.limits = limits  # an object over them is an invalid document (issue 15, item 6)
        self.name = f"s3://{self.bucket}/{self.prefix}"
        self.feedback: Feedback | None = None
        self._aws = aws
        self._cache: dict[str, tuple[str, Content]] = {}  # key -> (ETag, content)
        self._lock = asyncio.Lock()

    async def snapshot(self) -> Snapshot:
        """Every spec under the prefix now; only objects with a new ETag are fetched."""
        async with self._lock:
            return await asyncio.to_thread(self._scan)

    def _scan(self) -> Snapshot:
        client: S3Client = self._aws.client("s3")
        try:
            listed = self._list(client)
        except ReadError as exc:
            log.debug("cannot list the spec source", source=self.name, error=str(exc))
            problem = source_problem(self.name, f"cannot list: {exc}")
            return build_snapshot({self.name: problem})
        contents: dict[str, Content] = {}
        for key in set(self._cache) - set(listed):
            del self._cache[key]
        for key, (etag, size) in listed.items():
            location = f"s3://{self.bucket}/{key}"
            cached = self._cache.get(key)
            if cached is not None and cached[0] == etag:
                entry: tuple[str, Content] | None = cached
            else:
                entry = self._fetch(client, key, location, etag, size)
            if entry is None:  # deleted since the listing
                self._cache.pop(key, None)
                continue
            if isinstance(entry[1], Invalid):  # a failed read is tried again next time
                self._cache.pop(key, None)
            else:  # kept at once: a TemporaryError later in this poll loses no fetch
                self._cache[key] = entry
            contents[location] = entry[1]
        return build_snapshot(contents)

    def _list(self, client: S3Client) -> dict[str, tuple[str, int]]:
        """key -> (ETag, size) of every spec object under the prefix."""
        objects: dict[str, tuple[str, int]] = {}
        what = f"{self.name}: ListObjectsV2"
        for key, etag, size in list_objects(client, self.bucket, self.prefix, what):
            path = PurePosixPath(key)
            if path.suffix in YAML_SUFFIXES and not path.name.startswith("."):
                objects[key] = (etag, size)
        return objects

    def _fetch(
        self, client: S3Client, key: str, location: str, etag: str, size: int
    ) -> tuple[str, Content] | None:
        """(ETag, content) of one object, or None when it is gone."""
        if size > min(MAX_OBJECT_BYTES, self.limits.max_bytes):
            most = min(MAX_OBJECT_BYTES, self.limits.max_bytes)
            return etag, source_problem(
                location, f"too large: {size} bytes (a spec file holds at most {most})"
            )
        try:
            read = get_object(client, self.bucket, key, f"{location}: GetObject")
        except ReadError as exc:
            return etag, source_problem(location, f"cannot read: {exc}")
        if read is None:
            return None
        body, read_etag = read
        etag = read_etag or etag  # the version read, should it have changed since
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return etag, source_problem(location, f"cannot read: not UTF-8 at byte {exc.start}")
        docs = load_text(text, location, self.limits)
        log.debug("spec object read", source=self.name, object=location, documents=len(docs))
        return etag, docs
