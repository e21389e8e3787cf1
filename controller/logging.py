"""structlog set-up: console or JSON lines on stderr, at a chosen level."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "warning", fmt: str = "console") -> None:
    """Route structlog to stderr; JSON for machines, console for people."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        # resolve sys.stderr at each write: it may be replaced after set-up (tests, daemons)
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
