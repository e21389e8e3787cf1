"""A running controller for tests: a directory of specs, the sandbox, a webhook, SNS -> SQS."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from controller.aws.budget import Budget
from controller.aws.session import AwsContext, AwsSettings
from controller.runtime.controller import Controller
from controller.runtime.main import make_dispatcher
from controller.runtime.settings import RuntimeSettings
from controller.sources.directory import DirectorySource
from controller.sources.s3 import S3Source

EXAMPLE = Path(__file__).parents[2] / "examples" / "orders-rest-nlb.yaml"


def orders_doc(name: str = "orders", **spec: Any) -> dict[str, Any]:
    """The orders example renamed, with top-level spec overrides (e.g. drift=..., alerts=...)."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    doc["metadata"]["name"] = name
    doc["spec"].update(spec)
    return doc


def write(directory: Path, doc: dict[str, Any], filename: str | None = None) -> Path:
    """Write one spec document; returns its path."""
    path = directory / (filename or f"{doc['metadata']['name']}.yaml")
    path.write_text(yaml.safe_dump(doc))
    return path


async def eventually(
    check: Callable[[], Any], timeout: float, what: str, every: float = 0.2
) -> Any:
    """Poll `check` (sync, or returning an awaitable) until truthy; fail with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


class Webhook:
    """A loopback HTTP server that records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()

        async def hook(request: web.Request) -> web.Response:
            self.received.append(await request.json())
            return web.json_response({"ok": True})

        app.router.add_post("/hook", hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class SnsQueue:
    """An SNS topic with an SQS queue subscribed: what a real alert subscriber would see."""

    def __init__(self, access: Any) -> None:
        self.sqs = access.client("sqs")
        sns = access.client("sns")
        self.topic_arn = sns.create_topic(Name="psctl-alerts")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="psctl-alerts")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        """Every alert delivered so far (SNS envelope unwrapped)."""
        while True:
            msgs = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not msgs:
                return self.received
            for m in msgs:
                self.received.append(json.loads(json.loads(m["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


class Running:
    """A Controller running in the test's event loop."""

    def __init__(
        self, directory: Path | str, access: Any, budget: Budget | None = None, **settings: Any
    ) -> None:
        """`budget`: the controller's client-side AWS budget (default: none on the sandbox)."""
        base = {
            "listen_host": "127.0.0.1",
            "listen_port": 0,
            "poll_seconds": 0.2,
            "max_requeue_seconds": 0.3,
            "backoff": (0.2, 0.5, 1.0),
            "alert_window_seconds": 300.0,
            # drift tests time corrections against resyncSeconds: reads stay fresh within it
            "read_cache_seconds": 2.0,
        }
        self.settings = RuntimeSettings(**(base | settings))
        self.aws = AwsContext(
            AwsSettings(
                region=access.region,
                endpoint_url=access.endpoint_url,
                read_cache_seconds=self.settings.read_cache_seconds,
                budget=None if budget is None else "share=1",
            )
        )
        if budget is not None:
            self.aws.budget = budget  # before any client exists: every call goes through it
        source = (
            S3Source(directory, self.aws)
            if isinstance(directory, str)
            else DirectorySource(directory)
        )
        self.controller = Controller(
            source,
            self.aws,
            self.settings,
            make_dispatcher(self.aws, self.settings),
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.controller.run())
        await eventually(lambda: self.controller.server.bound_port, 10, "the HTTP server")
        return self

    async def __aexit__(self, *_: object) -> None:
        self.controller.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.controller.server.bound_port}"

    def phase(self, owner: str) -> str | None:
        state = self.controller.states.get(owner)
        return None if state is None else state.status.get("phase")

    def mutating(self) -> int:
        return sum(self.aws.counter.mutating().values())
