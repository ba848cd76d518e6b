"""One model load at a time in this process, whoever the caller: chat panes, benchmarks, `duel chat`.

With verbose=False, llama-cpp-python points the process's fds 1 and 2 at /dev/null while a model
loads and restores what it saw afterwards; two loads that overlap would restore /dev/null for good
(the TUI lost its screen that way). So the llama.cpp engine takes LOAD_LOCK around every load.

The lock is re-entrant so that a caller may hold it for a longer step that ends in a load: the TUI
queues a pane's whole model switch on it (closing the old model, resolving, assembling or downloading
the new file, loading it), so two panes never hold two half-loaded models at once. Such callers wait
through `one_load_at_a_time`, which polls `should_stop` so a cancelled switch never hangs in the queue.
It lives here, below the TUI, because engines never import tui.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LOAD_LOCK = threading.RLock()
POLL_S = 0.05


class CancelledWhileWaiting(Exception):
    """The caller stopped waiting (its `should_stop` said so) before its turn came."""


@contextmanager
def one_load_at_a_time(should_stop: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """Hold LOAD_LOCK for the block; raise CancelledWhileWaiting if `should_stop()` while waiting."""
    while not LOAD_LOCK.acquire(timeout=POLL_S):
        if should_stop():
            raise CancelledWhileWaiting
    try:
        yield
    finally:
        LOAD_LOCK.release()
