"""S3 reads of the spec source: list a prefix, get an object, and what their failures mean.

What may pass by itself (throttling, a 5xx, a connection failure) raises `TemporaryError`; what
will not (no such bucket, access denied) raises `ReadError` with a short description; an object
deleted between the listing and the read is `None`. Neighbours: `controller.sources.s3` (the only
user), `session` (the counted client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from controller.errors import ControllerError, TemporaryError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

THROTTLED_DELAY = 15.0
"""Seconds before the next poll after S3 asked us to slow down."""
TRANSIENT_DELAY = 5.0
"""Seconds before the next poll after a connection failure or a 5xx."""

_THROTTLE_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
)
_TRANSIENT_CODES = frozenset({"RequestTimeout", "InternalError", "ServiceUnavailable"})
_TRANSIENT_BOTOCORE = (BotoConnectionError, HTTPClientError, IncompleteReadError)
_MISSING_CODES = ("NoSuchKey", "404")


class ReadError(ControllerError):
    """An S3 read that retrying soon will not fix; `str()` is `Code: message`."""


def _transient(exc: ClientError | BotoCoreError, what: str) -> TemporaryError | None:
    """The `TemporaryError` to raise for `exc`, or None when retrying soon will not help."""
    if isinstance(exc, _TRANSIENT_BOTOCORE):
        return TemporaryError(f"{what}: {exc}", TRANSIENT_DELAY)
    if not isinstance(exc, ClientError):
        return None
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if code in _THROTTLE_CODES:
        return TemporaryError(f"{what}: throttled ({code})", THROTTLED_DELAY)
    if code in _TRANSIENT_CODES or status >= 500:
        return TemporaryError(f"{what}: {code or status}", TRANSIENT_DELAY)
    return None


def _describe(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    return str(exc)


def list_objects(
    client: S3Client, bucket: str, prefix: str, what: str
) -> list[tuple[str, str, int]]:
    """(key, ETag, size) of every object under `prefix` (ListObjectsV2, paginated, recursive).

    `what` names the call in a `TemporaryError`'s message.
    """
    objects: list[tuple[str, str, int]] = []
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            objects.extend(
                (obj.get("Key", ""), obj.get("ETag", ""), obj.get("Size", 0))
                for obj in page.get("Contents", [])
            )
    except (ClientError, BotoCoreError) as exc:
        if (temporary := _transient(exc, what)) is not None:
            raise temporary from exc
        raise ReadError(_describe(exc)) from exc
    return objects


def get_object(
    client: S3Client, bucket: str, key: str, what: str
) -> tuple[bytes, str | None] | None:
    """(body, ETag) of one object, or None when it is gone (deleted since it was listed)."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
        body = response["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        if (temporary := _transient(exc, what)) is not None:
            raise temporary from exc
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in (
            _MISSING_CODES
        ):
            return None
        raise ReadError(_describe(exc)) from exc
    return body, response.get("ETag")
