"""Small pieces the headless commands share: Ctrl-C handling, lower bounds of numeric options, and
the output format of commands that print a report or write it to a file (scorecard, leaderboard)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SUFFIX_FORMATS = {
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


def choose_format(
    fmt: str | None,
    output: Path | None,
    *,
    as_json: bool = False,
    suffixes: Mapping[str, str] = SUFFIX_FORMATS,
) -> str:
    """--format, or --json, or the -o file's suffix (`suffixes`: the longest that ends the name); else a
    table on a terminal and Markdown when piped."""
    from models.errors import DuelError

    if as_json:
        if fmt not in (None, "json"):
            raise DuelError(f"--json and --format {fmt} contradict each other")
        fmt = "json"
    if fmt is None and output is not None:
        name = output.name.lower()
        fmt = next((suffixes[s] for s in sorted(suffixes, key=len, reverse=True) if name.endswith(s)), None)
        if fmt is None:
            formats = "|".join(dict.fromkeys(suffixes.values()))
            raise DuelError(f"cannot tell the format from '{output.name}': pass --format {formats}")
    if fmt == "table" and output is not None:
        raise DuelError("--format table is for the terminal: write a file as md, csv, json or html")
    return fmt or ("table" if sys.stdout.isatty() else "md")


def require_at_least(*checks: tuple[str, int | None, int]) -> None:
    """(option, value, minimum) triples; the first value below its minimum is a one-line error."""
    from models.errors import DuelError

    for name, value, low in checks:
        if value is not None and value < low:
            raise DuelError(f"{name} must be at least {low}")


class StopFlag:
    """A `should_stop` callable set by the first Ctrl-C; a second Ctrl-C raises KeyboardInterrupt."""

    def __init__(self, message: str) -> None:
        self.message = message  # what the first Ctrl-C prints (what will happen now)
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopFlag:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(self.message, file=sys.stderr)

    def __call__(self) -> bool:
        return self.requested
