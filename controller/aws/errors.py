"""What an AWS failure is, for code outside `controller.aws` and `controller.handlers`.

Only `aws/` and `handlers/` import botocore (an import-linter contract in pyproject keeps it so).
The engine, the runtime and the CLI still have to catch what a boto3 call raises and tell a
throttle from a refusal; they do it with these names:
- `ServiceError`: an error answer from an AWS service (botocore's `ClientError`);
- `AWS_ERRORS`: every failure of an AWS call (an error answer, or no answer at all);
- `requeue_delay(exc)`: seconds before retrying an error answer that may pass by itself (a
  throttle, a conflicting concurrent change), None for any other exception;
- `error_code(exc)`: the AWS error code of an error answer ("" for anything else).
Neighbours: `session` (`THROTTLE_CODES`, the counted clients), `controller.reconcile.engine`,
`controller.runtime.step`, `controller.cli`, `controller.cli_aws`.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from controller.aws.session import THROTTLE_CODES

ServiceError = ClientError
"""An error answer from an AWS service."""

AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
"""Every failure of an AWS call: an error answer, or none (connection, timeout, credentials)."""

CONFLICT_DELAY = 5.0
"""Seconds before retrying after a throttle or a conflicting concurrent change."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of an error answer; "" for any other exception."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def requeue_delay(exc: BaseException) -> float | None:
    """`CONFLICT_DELAY` for a throttle or a conflict answer, None for anything else."""
    if not isinstance(exc, ClientError):
        return None
    code = error_code(exc)
    if code in THROTTLE_CODES or code.endswith("ConflictException") or code == "Conflict":
        return CONFLICT_DELAY
    return None
