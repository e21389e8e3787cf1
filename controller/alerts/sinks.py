"""Where alerts go: the log, an SNS topic, a webhook (a chat tool's incoming webhook, say).

A sink delivers one alert to one target (a topic ARN, a URL; None for the log) and returns once
delivered, or raises `DeliveryError` once it has given up (after its own retries). Sinks never
decide *whether* to send: the dispatcher does, and it alone keeps a failing sink away from the
reconciliation. Webhook URLs often carry a token in their path, so only the scheme and host of a
URL are ever logged. Neighbours: `controller.alerts.model` (`Alert.to_json` is what is sent),
`controller.alerts.dispatcher` (the only caller), `controller.aws.sns` (the publish call).
"""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections.abc import Callable, Sequence
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import structlog

from controller.alerts.model import Alert
from controller.aws import sns
from controller.aws.session import AwsContext

log = structlog.get_logger(__name__)

SUBJECT_CHARS = 100
_SUBJECT_ALPHABET = frozenset(string.printable) - frozenset("\t\n\r\x0b\x0c")
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
MAX_RETRY_AFTER_SECONDS = 60.0


class DeliveryError(Exception):
    """A sink gave up on one alert (after its retries, or on an answer that retrying won't fix)."""


class Sink(Protocol):
    """Delivers one alert to one target; `name` keys the dispatcher's counters."""

    name: str

    async def send(self, alert: Alert, target: str | None) -> None:
        """Deliver `alert` to `target`, or raise `DeliveryError` when giving up."""

    async def close(self) -> None:
        """Release connections; the sink is not used afterwards."""


def safe_url(url: str) -> str:
    """`scheme://host[:port]` of a URL: enough to tell targets apart, never its token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class LogSink:
    """Every alert, as one structured warning `drift alert` with all its fields."""

    name = "log"

    async def send(self, alert: Alert, target: str | None) -> None:
        """Log the alert (the target is ignored: the log is always there)."""
        log.warning("drift alert", **alert.to_json())

    async def close(self) -> None:
        """Nothing to release."""


def sns_subject(alert: Alert) -> str:
    """An SNS subject: printable ASCII, one line, at most 100 characters."""
    raw = f"[{alert.severity}] {alert.kind} {alert.service} {alert.component} {alert.field}"
    clean = "".join(c if c in _SUBJECT_ALPHABET else "?" for c in raw)
    return clean[:SUBJECT_CHARS]


class SnsSink:
    """Publishes `Alert.to_json()` as the message of an SNS topic (the target is its ARN)."""

    name = "sns"

    def __init__(self, aws: AwsContext) -> None:
        self._aws = aws

    def _publish(self, alert: Alert, topic_arn: str) -> None:
        message = json.dumps(alert.to_json(), default=str)
        sns.publish(self._aws, topic_arn, sns_subject(alert), message)

    async def send(self, alert: Alert, target: str | None) -> None:
        """Publish in a worker thread (boto3 is synchronous); botocore retries transient errors."""
        if not target:
            raise DeliveryError("no SNS topic ARN")
        try:
            await asyncio.to_thread(self._publish, alert, target)
        except Exception as exc:
            raise DeliveryError(f"SNS publish to {target} failed: {exc}") from exc

    async def close(self) -> None:
        """Nothing to release (the AwsContext owns its clients)."""


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return None


class WebhookSink:
    """POSTs `Alert.to_json()` (with its `text`) to a URL, retrying with backoff and jitter.

    Retried: connection errors, timeouts, 429 and 5xx (a 429's `Retry-After` is honoured up to
    60 s). Not retried: any other answer that is not 2xx. `retries` retries follow the first
    attempt, waiting `backoff[i]` (the last one repeats) times a jitter of 0.8-1.2.
    """

    name = "webhook"

    def __init__(
        self,
        session_factory: Callable[[], aiohttp.ClientSession] = aiohttp.ClientSession,
        retries: int = 5,
        backoff: Sequence[float] = (0.5, 1, 2, 4, 8),
        timeout: float = 5,
    ) -> None:
        self._session_factory = session_factory
        self._session: aiohttp.ClientSession | None = None
        self.retries = retries
        self.backoff = tuple(backoff) or (1.0,)
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def _delay(self, attempt: int) -> float:
        base = self.backoff[min(attempt, len(self.backoff) - 1)]
        return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography

    async def _post(self, url: str, payload: dict[str, object]) -> tuple[bool, float | None, str]:
        """One attempt: (done, retry-after, problem); raises DeliveryError when not retryable."""
        if self._session is None or self._session.closed:
            self._session = self._session_factory()
        try:
            async with self._session.post(
                url, json=payload, timeout=self.timeout, allow_redirects=False
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True, None, ""
                problem = f"HTTP {response.status}"
                if response.status not in RETRY_STATUSES:
                    raise DeliveryError(f"webhook {safe_url(url)} answered {problem}")
                return False, _retry_after(response), problem
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, None, type(exc).__name__

    async def send(self, alert: Alert, target: str | None) -> None:
        """Deliver to the URL `target`; raise `DeliveryError` after the last retry."""
        if not target:
            raise DeliveryError("no webhook URL")
        payload = alert.to_json()
        problem = ""
        for attempt in range(self.retries + 1):
            done, retry_after, problem = await self._post(target, payload)
            if done:
                return
            if attempt == self.retries:
                break
            delay = max(self._delay(attempt), retry_after or 0.0)
            log.info(
                "webhook delivery failed; retrying",
                url=safe_url(target),
                problem=problem,
                attempt=attempt + 1,
                retry_in=round(delay, 2),
            )
            await asyncio.sleep(delay)
        raise DeliveryError(
            f"webhook {safe_url(target)} failed {self.retries + 1} times, last: {problem}"
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
