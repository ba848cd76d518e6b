"""Runs in the benchmark worker thread: turns runner events into batched messages for the screen.

It adds to each finished item the runner reports (`ItemDone` carries the stored result, `TaskStarted`
the reused ones) the item text from the suite, and keeps each task's running score with its 95%
interval (benchmarks.stats). Messages go out at most every `interval_s` for item events, at once for
events that change the layout (a task starting or ending, a model loading, the run ending), so a fast
engine cannot flood the UI with thousands of messages a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.message import Message

from benchmarks import events as ev
from benchmarks.item_texts import item_prompt
from benchmarks.results import PROPORTION_METRICS, ItemResult
from benchmarks.suites import Suite
from tui.widgets.bench_messages import BenchBatch, FeedEntry, TaskScore

BOOTSTRAP_EVERY_S = 1.0  # a bootstrap interval (ROUGE) is recomputed at most this often while running
IMMEDIATE = (
    ev.RunStarted,
    ev.ModelLoading,
    ev.ModelLoaded,
    ev.TaskStarted,
    ev.TaskFinished,
    ev.Notice,
    ev.RunFinished,
)


class BenchRelay:
    def __init__(
        self,
        suites: dict[str, Suite],
        post: Callable[[Message], object],
        *,
        interval_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.suites = suites
        self.items = {name: {item.id: item for item in suite.items} for name, suite in suites.items()}
        self.post = post
        self.interval_s = interval_s
        self.clock = clock
        self.run_id: int | None = None
        self._buffer: list[Any] = []
        self._last_flush = 0.0
        self._entries: dict[tuple[str, str], list[FeedEntry]] = {}
        self._metric: dict[tuple[str, str], str] = {}
        self._intervals: dict[tuple[str, str], tuple[float | None, float | None, float]] = {}

    # ----- the runner's on_event --------------------------------------------------------------
    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.run_id = event.run_id
            self._buffer.append(event)
        elif isinstance(event, ev.ItemDone):
            entry = self.entry(event.result, cached=False)
            key = (event.model_ref, event.suite)
            self._entries.setdefault(key, []).append(entry)
            self._buffer += [entry, self._score(key)]
        elif isinstance(event, ev.TaskStarted):
            key = (event.model_ref, event.suite)
            self._metric[key] = event.metric
            self._entries[key] = [self.entry(result, cached=True) for result in event.reused]
            self._buffer += [event, *self._entries[key], self._score(key, final=True)]
        elif isinstance(event, ev.TaskFinished):
            self._buffer += [self._score((event.model_ref, event.suite), final=True), event]
        elif isinstance(event, ev.ModelProgress):
            # Assembling a big file reports often; only the latest figure matters.
            self._buffer = [e for e in self._buffer if not isinstance(e, ev.ModelProgress)]
            self._buffer.append(event)
        else:
            self._buffer.append(event)
        if isinstance(event, IMMEDIATE) or self.clock() - self._last_flush >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            # Only the newest running score of each task is worth drawing.
            last = {(e.model_ref, e.suite): i for i, e in enumerate(batch) if isinstance(e, TaskScore)}
            batch = [
                e
                for i, e in enumerate(batch)
                if not isinstance(e, TaskScore) or last[(e.model_ref, e.suite)] == i
            ]
            self.post(BenchBatch(batch))
        self._last_flush = self.clock()

    # ----- building entries -------------------------------------------------------------------
    def entry(self, result: ItemResult, cached: bool) -> FeedEntry:
        suite = self.suites[result.suite]
        item = self.items[result.suite].get(result.item_id)
        return FeedEntry(result, suite.task, item_prompt(suite, item) if item else "", cached)

    # ----- running score ----------------------------------------------------------------------
    def _score(self, key: tuple[str, str], final: bool = False) -> TaskScore:
        from benchmarks import stats

        entries = self._entries.get(key, [])
        metric = self._metric.get(key, "")
        values = [e.primary for e in entries]
        n = len(values)
        computed = [e.result.latency_s for e in entries if not e.cached]
        value = sum(values) / n if n else None
        low = high = None
        if n and metric in PROPORTION_METRICS:
            low, high = stats.wilson_ci(round(sum(values)), n)
        elif n:
            previous = self._intervals.get(key)
            now = self.clock()
            if final or previous is None or now - previous[2] >= BOOTSTRAP_EVERY_S:
                low, high = stats.mean_ci(values)
                self._intervals[key] = (low, high, now)
            else:
                low, high = previous[0], previous[1]
        return TaskScore(
            model_ref=key[0],
            suite=key[1],
            metric=metric,
            n=n,
            value=value,
            low=low,
            high=high,
            failures=sum(1 for e in entries if e.result.failed),
            computed=len(computed),
            mean_latency_s=sum(computed) / len(computed) if computed else None,
        )
