"""Where specs come from: a directory, an S3 prefix, or Kubernetes custom resources.

Every source returns level-based `Snapshot`s (see `base`); the runtime polls them, diffs two
snapshots and decides what to apply, report or prune. `make_source` turns the command line's
`--source` into a source. Neighbours: `controller.spec` (parsing), `controller.aws` (the S3
client), the runtime (the only consumer).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from controller.sources.base import (
    Feedback,
    Invalid,
    Snapshot,
    Source,
    build_snapshot,
    fingerprint,
)
from controller.sources.directory import DirectorySource
from controller.sources.s3 import S3Source, parse_source_url

if TYPE_CHECKING:
    from controller.aws.session import AwsContext

__all__ = [
    "DirectorySource",
    "Feedback",
    "Invalid",
    "S3Source",
    "Snapshot",
    "Source",
    "build_snapshot",
    "fingerprint",
    "make_source",
    "parse_source_url",
]


def make_source(
    spec: str,
    aws_factory: Callable[[], AwsContext],
    *,
    namespace: str | None = None,
    holder: str = "privateservice-controller",
) -> Source:
    """`s3://bucket/prefix` -> `S3Source`, `kubernetes` -> `KubernetesSource` (of `namespace`,
    or of every namespace), anything else -> a path.

    `aws_factory` is called only for S3, so a directory source needs no AWS region.
    """
    if namespace is not None and spec != "kubernetes":
        raise ValueError(f"--namespace {namespace!r} applies to the kubernetes source only")
    if spec.startswith("kubernetes:"):
        raise ValueError(f"{spec!r}: use --source kubernetes --namespace NS for one namespace")
    if spec == "kubernetes":
        from controller.kube.client import make_client
        from controller.kube.source import KubernetesSource

        return KubernetesSource(make_client, namespace, holder=holder)
    if spec.startswith("s3://"):
        parse_source_url(spec)  # a bad URL fails before any AWS set-up
        return S3Source(spec, aws_factory())
    scheme, sep, _ = spec.partition("://")
    if sep:
        raise ValueError(
            f"{spec!r}: unknown source scheme {scheme!r} "
            "(expected a directory, s3://bucket/prefix or kubernetes)"
        )
    if not spec:
        raise ValueError("an empty source: expected a directory, s3://bucket/prefix or kubernetes")
    return DirectorySource(Path(spec))
