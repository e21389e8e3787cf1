"""What the handler tests share: an AwsContext on the sandbox and a Desired resource owned by
`default/orders` (the owner every handler test module uses)."""

from __future__ import annotations

from typing import Any

from controller.aws import tags as ownership
from controller.aws.session import AwsContext, AwsSettings
from controller.handlers.base import Desired
from controller.model.stack import Resource

OWNER = "default/orders"


def context(aws: Any, **kw: Any) -> AwsContext:
    """A context on the sandbox (`kw`: more AwsSettings, e.g. read_cache_seconds)."""
    return AwsContext(AwsSettings(region=aws.region, endpoint_url=aws.endpoint_url, **kw))


def desired(
    key: str, kind: str, component: str, props: dict[str, Any], owner: str = OWNER
) -> Desired:
    """A stack resource as the engine hands it to a handler, with `owner`'s tags."""
    tags = ownership.owner_tags(owner, component, {"team": "payments"})
    return Desired(Resource(key, kind, component, props), props, tags, owner)
