"""Sharing the machine's cores between engines that generate at the same time.

llama.cpp spins one worker per thread and each worker busy-waits at every graph barrier, so two
contexts that each take all cores fight over them: on the 2-core machines of LLAMA_CPP_NOTES, two
SmolLM2 instances with 1 thread each made 65-76 tokens/s together, and with 2 threads each (4 on
2 cores) 34-67. So engines running together get disjoint shares that add up to the cores we may
use, and never less than one thread each (with more engines than cores, some oversubscription is
unavoidable and the least bad choice).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol


def available_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity where the OS reports it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # not on Linux
        return max(os.cpu_count() or 1, 1)


def split_threads(n_engines: int, total: int | None = None) -> list[int]:
    """Threads for each of `n_engines` engines running at once, as even as possible.

    The first engines get the spare threads when `total` does not divide evenly. Every engine gets
    at least one thread, so the shares add up to `max(total, n_engines)`.
    """
    if n_engines < 1:
        raise ValueError(f"n_engines must be >= 1, got {n_engines}")
    cores = available_cores() if total is None else max(int(total), 1)
    base, spare = divmod(max(cores, n_engines), n_engines)
    return [base + (1 if i < spare else 0) for i in range(n_engines)]


class _SetsThreads(Protocol):
    def set_threads(self, n_threads: int) -> None: ...


def rebalance_threads(running: Sequence[_SetsThreads], total: int | None = None) -> list[int]:
    """Give the engines still generating the whole budget again, e.g. when one of two finishes.

    Without this, the engine left running keeps its half and the freed cores idle: the bundled
    SmolLM2 finishes a 256-token reply well before the Qwen, which then ran on one of two cores.
    `set_threads` takes effect at the engine's next decode, so it may be called mid-stream.
    """
    if not running:
        return []
    shares = split_threads(len(running), total)
    for engine, share in zip(running, shares, strict=True):
        engine.set_threads(share)
    return shares
