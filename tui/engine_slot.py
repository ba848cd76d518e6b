"""The engine one side of the pair uses, guarded so one thread at a time touches it.

An engine serves one caller at a time (a llama.cpp context is not re-entrant), and a side's
generation, model switch and final close all run in different threads. Each takes the slot's lock
for as long as it uses the engine; waiting polls `should_stop` so a cancelled worker never hangs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engines.base import Engine
from engines.loading import POLL_S, CancelledWhileWaiting

__all__ = ["CancelledWhileWaiting", "EngineSlot"]


class EngineSlot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.ref: str | None = None
        self.failure: str | None = None  # why the last load left no engine (read by waiting workers)

    @contextmanager
    def hold(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[EngineSlot]:
        while not self._lock.acquire(timeout=POLL_S):
            if should_stop():
                raise CancelledWhileWaiting
        try:
            yield self
        finally:
            self._lock.release()
