"""Many requests in flight at once, for engines whose work happens elsewhere (a remote server).

`generate_concurrently` runs `collect(request, should_stop)` for up to `parallel` requests at a time
on worker threads and yields each `(index, result)` the moment it is done, out of order. Threads
are enough here: the work is waiting on sockets, which releases the GIL.

Cancellation: only the caller's thread polls the caller's `should_stop` (it may be a Textual
worker's flag); the workers see a threading.Event instead. When it fires, the requests in flight and
those not started come back as "cancelled" at once; the threads in flight stop at their next
streamed event and are not waited for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from engines.base import CANCELLED_BEFORE_START, GenerationRequest, GenerationResult, ShouldStop

POLL_S = 0.05  # how often the caller's should_stop is checked while requests are in flight

Collect = Callable[[GenerationRequest, ShouldStop], GenerationResult]


def generate_concurrently(
    requests: Sequence[GenerationRequest],
    parallel: int,
    collect: Collect,
    should_stop: ShouldStop | None = None,
) -> Iterator[tuple[int, GenerationResult]]:
    """Yield `(index, collect(requests[index]))` for every request, `parallel` at a time.

    An exception raised by `collect` (a failure of the whole engine) ends the iteration with it;
    requests still in flight are abandoned as if cancelled.
    """
    cancelled = threading.Event()
    order = iter(enumerate(requests))
    in_flight: dict[Future[GenerationResult], int] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="duel-request")

    def stopped() -> bool:
        if not cancelled.is_set() and should_stop is not None and should_stop():
            cancelled.set()
        return cancelled.is_set()

    def fill() -> None:
        while len(in_flight) < max(1, parallel) and not cancelled.is_set():
            item = next(order, None)
            if item is None:
                return
            index, request = item
            in_flight[pool.submit(collect, request, cancelled.is_set)] = index

    try:
        if not stopped():
            fill()
        while in_flight:
            done, _ = wait(in_flight, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                index = in_flight.pop(future)
                yield index, future.result()
            if stopped():
                for index in sorted(in_flight.values()):
                    yield index, GenerationResult("", CANCELLED_BEFORE_START)
                in_flight.clear()
                break
            fill()
        for index, _ in order:  # left over after a cancellation
            yield index, GenerationResult("", CANCELLED_BEFORE_START)
    finally:
        cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)
