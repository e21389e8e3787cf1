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


def _guarded(write: Callable[[], object]) -> None:
    try:
        write()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") == "ConditionalCheckFailedException":
            raise LeaseTakenError(str(exc)) from exc
        raise LeaseCallError(str(exc)) from exc
    except BotoCoreError as exc:
        raise LeaseCallError(str(exc)) from exc


class LeaseTable:
    """The item `name` of DynamoDB table `table` (partition key `pk`)."""

    def __init__(self, aws: ClientFactory, table: str, name: str) -> None:
        self.aws, self.table, self.name = aws, table, name

    def put(self, holder: str, duration: float) -> None:
        """Take the lease if it is free, lapsed, or already ours."""
        now = time.time()
        _guarded(
            lambda: self.aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": self.name},
                    "holder": {"S": holder},
                    "expiresAt": {"N": repr(now + duration)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expiresAt < :now OR holder = :me",
                ExpressionAttributeValues={":now": {"N": repr(now)}, ":me": {"S": holder}},
            )
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

    def delete(self, holder: str) -> None:
        """Give the lease back if it is ours."""
        _guarded(
            lambda: self.aws.client("dynamodb").delete_item(
                TableName=self.table,
                Key={"pk": {"S": self.name}},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": {"S": holder}},
            )
        )
