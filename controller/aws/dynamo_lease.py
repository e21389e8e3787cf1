"""The DynamoDB writes of the leader lease: conditional put, update and delete of one item.

The item layout and the conditions are described in `controller.runtime.lease`, which decides
what a write's success or failure means. Here a write either succeeds, raises `LeaseTakenError` (its
condition failed: another replica holds the lease), or raises `LeaseCallError` (any other AWS
failure, its message being botocore's). Neighbours: `controller.runtime.lease.DynamoLease` (the
only user).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from controller.errors import ControllerError


class ClientFactory(Protocol):
    """Anything with boto3 clients: `AwsContext`, or a test's sandbox access."""

    def client(self, service: str) -> Any:
        """A boto3 client."""


class LeaseCallError(ControllerError):
    """A lease write that failed for any reason but its condition."""


class LeaseTakenError(LeaseCallError):
    """A lease write whose condition failed: another replica holds the lease."""


class LeaseMissingError(LeaseTakenError):
    """An acquire that found no item at all (deleted, or never made): see `LeaseTable.put`."""


def _guarded(write: Callable[[], object], *, tells_missing: bool = False) -> None:
    try:
        write()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") == "ConditionalCheckFailedException":
            if tells_missing and "Item" not in exc.response:  # ALL_OLD, and nothing was there
                raise LeaseMissingError(str(exc)) from exc
            raise LeaseTakenError(str(exc)) from exc
        raise LeaseCallError(str(exc)) from exc
    except BotoCoreError as exc:
        raise LeaseCallError(str(exc)) from exc


class LeaseTable:
    """The item `name` of DynamoDB table `table` (partition key `pk`)."""

    def __init__(self, aws: ClientFactory, table: str, name: str) -> None:
        self.aws, self.table, self.name = aws, table, name

    def put(self, holder: str, duration: float, *, allow_missing: bool = False) -> None:
        """Take the lease if it lapsed or is already ours; a missing item only with
        `allow_missing` (the caller has seen it missing for a whole term), else
        `LeaseMissingError`. A failed condition returns the old item (ALL_OLD), which is how
        "missing" is told from "held"."""
        now = time.time()
        condition = "expiresAt < :now OR holder = :me"
        if allow_missing:
            condition = f"attribute_not_exists(pk) OR {condition}"
        _guarded(
            lambda: self.aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": self.name},
                    "holder": {"S": holder},
                    "expiresAt": {"N": repr(now + duration)},
                },
                ConditionExpression=condition,
                ExpressionAttributeValues={":now": {"N": repr(now)}, ":me": {"S": holder}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            tells_missing=True,
        )

    def update(self, holder: str, duration: float) -> None:
        """Push `expiresAt` on if the lease is still ours and has not lapsed."""
        now = time.time()
        _guarded(
            lambda: self.aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"pk": {"S": self.name}},
                UpdateExpression="SET expiresAt = :exp",
                ConditionExpression="holder = :me AND expiresAt > :now",
                ExpressionAttributeValues={
                    ":exp": {"N": repr(now + duration)},
                    ":now": {"N": repr(now)},
                    ":me": {"S": holder},
                },
            )
        )

    def release(self, holder: str) -> None:
        """Give the lease back if it is ours: it lapses now (the item stays, so that a standby
        takes it at its next try instead of waiting a term as for a missing one)."""
        _guarded(
            lambda: self.aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"pk": {"S": self.name}},
                UpdateExpression="SET expiresAt = :lapsed",
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":lapsed": {"N": "0"}, ":me": {"S": holder}},
            )
        )
