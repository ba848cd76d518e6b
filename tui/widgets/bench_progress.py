"""One progress bar per model × suite, each with its count, time per item and ETA.

The ETA is the items left times the mean time of the items computed so far in this session (items
reused from an earlier run took no time), so it is made of the run's own figures.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, ProgressBar

from benchmarks import events as ev
from tui.widgets.bench_messages import TaskScore


def format_duration(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def task_id(model_ref: str, suite: str) -> str:
    return f"{model_ref}|{suite}"


class BenchTaskRow(Horizontal):
    def __init__(self, plan: ev.TaskPlan, label: str) -> None:
        super().__init__(classes="bench-task")
        self.plan = plan
        self.label_text = label
        self.done = 0
        self.state = "waiting"  # waiting, running, done, stopped
        self.detail = ""

    def compose(self) -> ComposeResult:
        yield Label(Text(self.label_text, overflow="ellipsis", no_wrap=True), classes="bench-task-label")
        yield ProgressBar(
            total=self.plan.total, show_eta=False, show_percentage=False, classes="bench-task-bar"
        )
        yield Label(self.status_text(), classes="bench-task-status")

    def status_text(self) -> Text:
        pct = 100 * self.done / self.plan.total if self.plan.total else 0
        text = Text(f"{self.done}/{self.plan.total} ({pct:.0f}%)")
        if self.detail:
            text.append(f" · {self.detail}", style="dim")
        style = {"waiting": "dim", "running": "bold", "done": "green", "stopped": "yellow"}[self.state]
        text.append(f" · {self.state}", style=style)
        return text

    def _refresh_status(self) -> None:
        if self.is_mounted:
            self.query_one(ProgressBar).update(progress=self.done)
            self.query_one(".bench-task-status", Label).update(self.status_text())

    def started(self, event: ev.TaskStarted) -> None:
        self.state = "running"
        self.done = event.cached
        self.detail = f"{event.cached} reused" if event.cached else ""
        self._refresh_status()

    def scored(self, score: TaskScore) -> None:
        self.done = score.n
        left = self.plan.total - score.n
        parts = []
        if score.mean_latency_s is not None:
            parts.append(f"{score.mean_latency_s:.2f} s/item")
            if self.state == "running" and left > 0:
                parts.append(f"ETA {format_duration(left * score.mean_latency_s)}")
        reused = score.n - score.computed
        if reused:
            parts.append(f"{reused} reused")
        self.detail = " · ".join(parts)
        self._refresh_status()

    def finished(self, event: ev.TaskFinished) -> None:
        self.done = event.done
        self.state = "done" if event.done >= event.total else "stopped"
        self.detail = self.detail.split(" · ETA")[0]
        self._refresh_status()


class BenchProgressPanel(VerticalScroll):
    """Rows appear when the run starts (from its plan) and fill as the runner reports."""

    can_focus = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows: dict[str, BenchTaskRow] = {}

    async def set_plan(self, plan: tuple[ev.TaskPlan, ...], labels: dict[str, str]) -> None:
        await self.remove_children()
        self.rows = {
            task_id(p.model_ref, p.suite): BenchTaskRow(
                p, f"{labels.get(p.model_ref, p.model_ref)} · {p.suite}"
            )
            for p in plan
        }
        await self.mount_all(self.rows.values())

    def row(self, model_ref: str, suite: str) -> BenchTaskRow | None:
        return self.rows.get(task_id(model_ref, suite))

    def stop_waiting(self) -> None:
        """The run ended: rows that never started say so."""
        for row in self.rows.values():
            if row.state in ("waiting", "running"):
                row.state = "stopped"
                row.detail = row.detail.split(" · ETA")[0]
                row._refresh_status()
