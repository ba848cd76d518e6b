"""Progress events of a benchmark run (plain dataclasses: the CLI draws bars, the TUI posts messages).

The runner calls `on_event(event)` from the thread it runs in; consumers must not block for long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.results import ItemResult


@dataclass(frozen=True)
class TaskPlan:
    model_ref: str
    suite: str
    total: int


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    resumed: bool
    plan: tuple[TaskPlan, ...]


@dataclass(frozen=True)
class ModelLoading:
    model_ref: str


@dataclass(frozen=True)
class ModelProgress:
    """Bytes done while a bundled model is assembled (first use only)."""

    model_ref: str
    done: int
    total: int
    label: str


@dataclass(frozen=True)
class ModelLoaded:
    model_ref: str
    identity: dict[str, Any]
    load_s: float


@dataclass(frozen=True)
class TaskStarted:
    model_ref: str
    suite: str
    total: int
    cached: int  # items reused from earlier runs (already done)
    method: str  # "loglik" or "generate"
    metric: str
    running_score: float | None
    reused: tuple[ItemResult, ...] = ()  # the `cached` items, as stored


@dataclass(frozen=True)
class ItemDone:
    """One item computed and stored (items may finish in any order; `done` counts them)."""

    result: ItemResult
    done: int
    total: int
    running_score: float | None

    @property
    def model_ref(self) -> str:
        return self.result.model_ref

    @property
    def suite(self) -> str:
        return self.result.suite

    @property
    def metric(self) -> str:
        return self.result.score.metric


@dataclass(frozen=True)
class TaskFinished:
    model_ref: str
    suite: str
    done: int
    total: int
    metric: str
    score: float | None


@dataclass(frozen=True)
class Notice:
    """Something the user should know (a fallback, a skipped option); not an error."""

    text: str


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    status: str  # "complete" or "partial"
    computed: int
    cached: int
    stopped: bool = False
    totals: dict[str, int] = field(default_factory=dict)


Event = (
    RunStarted
    | ModelLoading
    | ModelProgress
    | ModelLoaded
    | TaskStarted
    | ItemDone
    | TaskFinished
    | Notice
    | RunFinished
)
