"""Small pieces the headless commands share: Ctrl-C handling and lower bounds of numeric options."""

from __future__ import annotations

import signal
import sys
from typing import Any


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
