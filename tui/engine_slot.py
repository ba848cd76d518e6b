"""The engine a pane uses, guarded so one thread at a time touches it.

An engine serves one caller at a time (a llama.cpp context is not re-entrant), and a pane's
generation, model switch and shutdown all run in different threads. Each takes the slot's lock
for as long as it uses the engine; waiting polls `should_stop` so a cancelled worker never hangs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engines.base import Engine
from engines.loading import CancelledWhileWaiting, one_load_at_a_time

# A pane's whole model switch (closing the old model, resolving, assembling or downloading the new one,
# loading it) holds the process-wide load lock of engines/loading.py, which the engine's own load
# takes too: one lock, so no load anywhere overlaps a switch.
__all__ = ["CancelledWhileWaiting", "EngineSlot", "one_load_at_a_time"]


class EngineSlot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.ref: str | None = None
        self.failure: str | None = None  # why the last load left no engine (read by waiting workers)

    @contextmanager
    def hold(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[EngineSlot]:
        while not self._lock.acquire(timeout=0.05):
            if should_stop():
                raise CancelledWhileWaiting
        try:
            yield self
        finally:
            self._lock.release()

    def close(self, timeout_s: float = 10.0) -> bool:
        """Close the engine once no thread uses it; False if it stayed busy past `timeout_s`."""
        if not self._lock.acquire(timeout=timeout_s):
            return False
        try:
            engine, self.engine, self.ref = self.engine, None, None
            if engine is not None:
                with one_load_at_a_time():
                    engine.close()
            return True
        finally:
            self._lock.release()
