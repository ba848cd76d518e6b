"""The live table of the running score per model and suite, with its 95% interval."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from benchmarks import events as ev
from tui.widgets.bench_messages import TaskScore
from tui.widgets.bench_progress import task_id

COLUMNS = (
    ("model", "Model"),
    ("suite", "Suite"),
    ("metric", "Metric"),
    ("score", "Score"),
    ("ci", "95% interval"),
    ("n", "Items"),
    ("failures", "Failures"),
)


def format_score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def format_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None or low != low or high != high:  # NaN: no items yet
        return "–"
    return f"{low:.3f} – {high:.3f}"


class BenchScoreTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def set_plan(self, plan: tuple[ev.TaskPlan, ...], labels: dict[str, str]) -> None:
        self.clear()
        for p in plan:
            self.add_row(
                Text(labels.get(p.model_ref, p.model_ref), style="bold"),
                p.suite,
                "",
                "–",
                "–",
                "0",
                "0",
                key=task_id(p.model_ref, p.suite),
            )

    def show_score(self, score: TaskScore) -> None:
        key = task_id(score.model_ref, score.suite)
        if key not in self.rows:
            return
        self.update_cell(key, "metric", score.metric, update_width=True)
        self.update_cell(key, "score", Text(format_score(score.value), style="bold"), update_width=True)
        self.update_cell(key, "ci", format_interval(score.low, score.high), update_width=True)
        self.update_cell(key, "n", str(score.n), update_width=True)
        failures = Text(str(score.failures), style="red" if score.failures else "")
        self.update_cell(key, "failures", failures)

    def cell_text(self, model_ref: str, suite: str, column: str) -> str:
        value = self.get_cell(task_id(model_ref, suite), column)
        return value.plain if isinstance(value, Text) else str(value)
