"""What the benchmark worker tells the benchmark screen (Textual messages as dataclasses).

The worker runs `benchmarks.runner.run_bench` in a thread and never touches widgets: it turns the
runner's progress events into `BenchBatch` messages (several events per message, at a bounded rate),
adding what the feed needs (prompt excerpt, each answer, correct or not) and the running interval.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from benchmarks.item_texts import answer_of
from benchmarks.results import ItemResult


def short_ref(ref: str) -> str:
    """How a model reference is labelled on screen: a path by its file name, no engine options."""
    ref = ref.split("?", 1)[0]
    return os.path.basename(ref) if ("/" in ref or ref.endswith(".gguf")) else ref


@dataclass(frozen=True)
class FeedEntry:
    """One model's finished answer to one item, as the item feed, the item screen and the scorecard's
    items table show it: the stored result, the suite's task and the item text."""

    result: ItemResult
    task: str
    prompt: str  # the item text (post, question, article), with the options of a multiple-choice item
    cached: bool  # not computed now: reused from an earlier run (shown dimmed)

    @property
    def correct(self) -> bool | None:
        """Right or wrong; None for summaries (scored by ROUGE, not right/wrong)."""
        return self.result.score.correct

    @property
    def primary(self) -> float:
        """The item's score on the suite's main metric (1/0, or ROUGE-L)."""
        return self.result.score.value

    @property
    def answer(self) -> str:
        """What the feed shows: the parsed prediction, or the summary."""
        return answer_of(self.result, self.task)

    @property
    def key(self) -> str:
        return f"{self.result.suite}/{self.result.item_id}"


@dataclass(frozen=True)
class TaskScore:
    """The running score of one model on one suite, with its 95% interval (from benchmarks.stats)."""

    model_ref: str
    suite: str
    metric: str
    n: int
    value: float | None
    low: float | None
    high: float | None
    failures: int
    computed: int  # items computed in this session (the rest were reused)
    mean_latency_s: float | None  # over the computed items: what the ETA is made of


@dataclass
class BenchBatch(Message):
    """Runner events (benchmarks.events), FeedEntry and TaskScore objects, in the order they happened."""

    events: list[Any]


@dataclass
class BenchFailed(Message):
    """The run could not start or broke off: one line for the user."""

    error: str
    unexpected: bool = False


@dataclass
class BenchEnded(Message):
    """The worker thread has returned: a new run may start (a stopped thread finishes its item first)."""

    run_id: int | None


@dataclass
class SuitesListed(Message):
    """(name, task label, item count, source, description) of every suite, for the picker."""

    suites: list[tuple[str, str, int | None, str, str]]
    models: list[str]
