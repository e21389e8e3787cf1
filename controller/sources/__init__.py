"""Where specs come from: a directory, an S3 prefix, or Kubernetes custom resources.

Every source returns level-based `Snapshot`s (see `base`); the runtime polls them, diffs two
snapshots and decides what to apply, report or prune. `controller.cli_wiring.make_source` turns the
command line's `--source` into a source. Neighbours: `controller.ports.source` (the snapshot and
the protocol), `controller.spec` (parsing), `controller.aws.s3` (the S3 reads), the runtime (the
only consumer, through the protocol).
"""

from __future__ import annotations

from controller.ports.source import (
    Feedback,
    Invalid,
    Snapshot,
    Source,
    build_snapshot,
    fingerprint,
)
from controller.sources.directory import DirectorySource
from controller.sources.s3 import S3Source, parse_source_url

__all__ = [
    "DirectorySource",
    "Feedback",
    "Invalid",
    "S3Source",
    "Snapshot",
    "Source",
    "build_snapshot",
    "fingerprint",
    "parse_source_url",
]
