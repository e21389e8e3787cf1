"""The S3 source (controller.sources.s3) against the sandbox over HTTP: ETags, errors, reports."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from controller.aws.s3 import THROTTLED_DELAY
from controller.aws.session import AwsContext, AwsSettings
from controller.errors import TemporaryError
from controller.sources import S3Source, Snapshot
from controller.sources.s3 import MAX_OBJECT_BYTES

if TYPE_CHECKING:
    from controller.sandbox import SandboxAccess

Doc = Callable[..., str]
BUCKET = "specs"


@pytest.fixture
def s3(aws: SandboxAccess) -> Any:
    """A plain S3 client on the sandbox, with the bucket `specs` created."""
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def aws_ctx(aws: SandboxAccess) -> AwsContext:
    """The controller's counted AWS context on the sandbox."""
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url))


def gets(ctx: AwsContext) -> int:
    """GetObject calls so far."""
    return ctx.counter.snapshot()[("s3", "GetObject")]


def images(snap: Snapshot) -> dict[str, str]:
    """owner -> container image."""
    return {owner: ps.spec.container.image for owner, ps in snap.specs.items()}


async def test_objects_added_changed_and_removed_fetching_only_new_etags(
    s3: Any, aws_ctx: AwsContext, doc: Doc
) -> None:
    """Each snapshot is the prefix's content; only objects with a new ETag are fetched."""
    source = S3Source(f"s3://{BUCKET}/prod", aws_ctx)
    assert source.name == "s3://specs/prod/"
    assert (await source.snapshot()).specs == {}

    s3.put_object(Bucket=BUCKET, Key="prod/orders.yaml", Body=doc("orders"))
    s3.put_object(Bucket=BUCKET, Key="prod/team/billing.yml", Body=doc("billing"))
    snap = await source.snapshot()
    assert images(snap) == {"shop/orders": "nginx:1.27", "shop/billing": "nginx:1.27"}
    assert snap.origins["shop/orders"] == "s3://specs/prod/orders.yaml#0"
    assert gets(aws_ctx) == 2

    assert await source.snapshot() == snap
    assert gets(aws_ctx) == 2, "unchanged ETags: nothing fetched"

    s3.put_object(Bucket=BUCKET, Key="prod/orders.yaml", Body=doc("orders", image="nginx:1.28"))
    assert images(await source.snapshot())["shop/orders"] == "nginx:1.28"
    assert gets(aws_ctx) == 3

    s3.delete_object(Bucket=BUCKET, Key="prod/team/billing.yml")
    snap = await source.snapshot()
    assert images(snap) == {"shop/orders": "nginx:1.28"}
    assert snap.complete
    assert gets(aws_ctx) == 3


async def test_only_yaml_objects_under_the_prefix_folder(
    s3: Any, aws_ctx: AwsContext, doc: Doc
) -> None:
    """Other prefixes (even `prod-old/`), other suffixes and dotfiles are not specs."""
    for key, name in [
        ("prod/orders.yaml", "orders"),
        ("prod-old/orders.yaml", "old"),
        ("staging/orders.yaml", "staging"),
        ("prod/readme.md", "readme"),
        ("prod/.draft.yaml", "draft"),
    ]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=doc(name))
    snap = await S3Source(f"s3://{BUCKET}/prod", aws_ctx).snapshot()
    assert set(snap.specs) == {"shop/orders"}
    assert gets(aws_ctx) == 1


async def test_invalid_object_is_reported_with_its_line(
    s3: Any, aws_ctx: AwsContext, doc: Doc
) -> None:
    """A bad document is an Invalid located at s3://bucket/key:line; the rest stays."""
    s3.put_object(Bucket=BUCKET, Key="orders.yaml", Body=doc("orders"))
    s3.put_object(Bucket=BUCKET, Key="broken.yaml", Body=doc("billing", broken_rule=True))
    snap = await S3Source(f"s3://{BUCKET}", aws_ctx).snapshot()
    assert set(snap.specs) == {"shop/orders"}
    (invalid,) = snap.invalid
    assert invalid.location == "s3://specs/broken.yaml#0"
    assert invalid.owner == "shop/billing"
    assert invalid.problems[0].startswith(
        "s3://specs/broken.yaml:20: spec.loadBalancer.targetGroup.healthCheck.timeoutSeconds"
    )


async def test_missing_bucket_is_reported_not_raised(
    aws: SandboxAccess, aws_ctx: AwsContext
) -> None:
    """NoSuchBucket is an Invalid for the source, and the snapshot says it is incomplete."""
    snap = await S3Source("s3://no-such-bucket/prod", aws_ctx).snapshot()
    assert snap.specs == {}
    (invalid,) = snap.invalid
    assert invalid.location == "s3://no-such-bucket/prod/"
    assert invalid.problems[0].startswith("s3://no-such-bucket/prod/: cannot list: NoSuchBucket")
    assert not snap.complete


async def test_object_too_large_is_reported_without_fetching(
    s3: Any, aws_ctx: AwsContext, doc: Doc
) -> None:
    """An object above the limit is never downloaded."""
    s3.put_object(Bucket=BUCKET, Key="huge.yaml", Body=b"#" * (MAX_OBJECT_BYTES + 1))
    snap = await S3Source(f"s3://{BUCKET}", aws_ctx).snapshot()
    (invalid,) = snap.invalid
    assert invalid.location == "s3://specs/huge.yaml"
    assert "too large" in invalid.problems[0]
    assert gets(aws_ctx) == 0


def listing(*keys: str) -> dict[str, Any]:
    """A ListObjectsV2 response naming `keys`."""
    contents = [{"Key": k, "ETag": f'"{k}"', "Size": 10} for k in keys]
    return {"Contents": contents, "IsTruncated": False, "KeyCount": len(keys)}


def stubbed_context(region: str) -> AwsContext:
    """A context without retries whose S3 client a `Stubber` will answer."""
    return AwsContext(AwsSettings(region=region, max_attempts=1))


async def test_throttling_raises_temporary_error() -> None:
    """SlowDown is transient: the runtime polls again later, after the given delay."""
    ctx = stubbed_context("us-east-1")
    with Stubber(ctx.client("s3")) as stub:
        stub.add_client_error("list_objects_v2", "SlowDown", "slow down", 503)
        with pytest.raises(TemporaryError, match="throttled") as caught:
            await S3Source("s3://specs", ctx).snapshot()
    assert caught.value.delay == THROTTLED_DELAY


async def test_object_access_denied_is_reported_and_fetched_again() -> None:
    """A forbidden object is an Invalid for it (not cached); the next poll tries it again."""
    ctx = stubbed_context("us-east-1")
    with Stubber(ctx.client("s3")) as stub:
        stub.add_response("list_objects_v2", listing("a.yaml"))
        stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        stub.add_response("list_objects_v2", listing("a.yaml"))
        stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        source = S3Source("s3://specs", ctx)
        for _ in range(2):
            snap = await source.snapshot()
            (invalid,) = snap.invalid
            assert invalid.problems == (
                "s3://specs/a.yaml: cannot read: AccessDenied: Access Denied",
            )
            assert not snap.complete
        stub.assert_no_pending_responses()


async def test_connection_failure_raises_temporary_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint that does not answer is transient, not a broken source."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # signing comes before connecting
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    ctx = AwsContext(
        AwsSettings(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1)
    )
    with pytest.raises(TemporaryError, match="ListObjectsV2"):
        await S3Source("s3://specs", ctx).snapshot()


def got(body: str, etag: str) -> dict[str, Any]:
    """A GetObject response."""
    data = body.encode()
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ETag": etag}


async def test_every_page_is_listed_and_a_throttled_poll_loses_no_fetch(doc: Doc) -> None:
    """Objects of every ListObjectsV2 page count; what was fetched before a throttle is kept."""
    ctx = stubbed_context("us-east-1")
    first = {**listing("a.yaml"), "IsTruncated": True, "NextContinuationToken": "t1"}
    with Stubber(ctx.client("s3")) as stub:
        # poll 1: two pages; a.yaml fetched, then b.yaml throttled
        stub.add_response("list_objects_v2", first, {"Bucket": "specs", "Prefix": ""})
        stub.add_response(
            "list_objects_v2",
            listing("b.yaml"),
            {"Bucket": "specs", "Prefix": "", "ContinuationToken": "t1"},
        )
        stub.add_response("get_object", got(doc("a"), '"a.yaml"'))
        stub.add_client_error("get_object", "SlowDown", "slow down", 503)
        # poll 2: only b.yaml is fetched
        stub.add_response("list_objects_v2", first)
        stub.add_response("list_objects_v2", listing("b.yaml"))
        stub.add_response(
            "get_object", got(doc("b"), '"b.yaml"'), {"Bucket": "specs", "Key": "b.yaml"}
        )
        source = S3Source("s3://specs", ctx)
        with pytest.raises(TemporaryError):
            await source.snapshot()
        assert set((await source.snapshot()).specs) == {"shop/a", "shop/b"}
        stub.assert_no_pending_responses()
