"""Colour for psctl's text output: plan, apply progress and status, Terraform-like.

Colour is used only when the stream is a terminal, `NO_COLOR` is not set (https://no-color.org)
and `--no-color` was not given: pipes, files and CI logs get plain text. A plan or progress line
is coloured by its action symbol (`+` create green, `~` update and `-/+` replace yellow, `-`
delete and `!` conflict or failure red, `=` kept and `…` waiting dim); a status line by its
phase. Standard library only. Neighbours: `controller.cli_aws` (the commands that print),
`controller.reconcile.render` (the symbols).
"""

from __future__ import annotations

import os
import re
from typing import TextIO

GREEN, YELLOW, RED, DIM, BOLD = "32", "33", "31", "2", "1"
SYMBOLS = {"+": GREEN, "~": YELLOW, "-/+": YELLOW, "-": RED, "!": RED, "=": DIM, "…": DIM}
PHASES = {
    "Ready": GREEN,
    "Provisioning": YELLOW,
    "Pending": DIM,
    "Degraded": RED,
    "Failed": RED,
    "Deleting": YELLOW,
}
_SYMBOL = re.compile(r"^(?P<lead>(?:\S+: )?\s*)(?P<sym>-/\+|[+~\-!=…])(?= )")
_PHASE = re.compile(r"^(?P<lead>\S+: )(?P<phase>" + "|".join(PHASES) + r")\b")


def wanted(stream: TextIO, no_color: bool = False) -> bool:
    """Whether to colour what goes to `stream`."""
    return not no_color and "NO_COLOR" not in os.environ and stream.isatty()


def paint(text: str, code: str) -> str:
    """`text` in the ANSI colour `code`."""
    return f"\033[{code}m{text}\033[0m"


def line(text: str, on: bool) -> str:
    """One plan, progress or status line, coloured by its action symbol or phase when `on`."""
    if not on:
        return text
    if found := _SYMBOL.match(text):
        return paint(text, SYMBOLS[found["sym"]])
    if found := _PHASE.match(text):
        rest = text[found.end() :]
        return found["lead"] + paint(found["phase"], PHASES[found["phase"]]) + rest
    return text


def lines(text: str, on: bool) -> str:
    """Every line of `text` through `line`."""
    return "\n".join(line(x, on) for x in text.split("\n")) if on else text
