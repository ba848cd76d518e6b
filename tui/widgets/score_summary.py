"""The scorecard's main table (metrics with intervals, speed, memory, value) and head-to-head lines.

Every number is a field of `benchmarks.scorecard.Scorecard`; this only lays them out.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from benchmarks.export import METRIC_LABELS
from benchmarks.scorecard import Scorecard, ScoreRow
from tui.widgets.bench_messages import short_ref

COLUMNS = (
    ("suite", "Suite"),
    ("model", "Model"),
    ("metric", "Metric"),
    ("value", "Value"),
    ("ci", "95% interval"),
    ("items", "Items"),
    ("failures", "Fail"),
    ("latency", "s/item"),
    ("tps", "tok/s"),
    ("total", "Total s"),
    ("rss", "Peak RSS"),
    ("size", "Size GB"),
    ("value_s", "Value/s"),
    ("value_gb", "Value/GB"),
)


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def interval(low: Any, high: Any) -> str:
    return "–" if low is None or high is None else f"{low:.3f} – {high:.3f}"


def short_model(ref: str) -> str:
    return short_ref(ref)


def summary_cells(row: ScoreRow, winner: bool) -> list[Any]:
    value = Text(fmt(row.value), style="bold green" if winner else "bold")
    return [
        row.suite,
        Text(short_model(row.model), style="bold"),
        METRIC_LABELS.get(row.metric, row.metric),
        value,
        interval(row.ci_low, row.ci_high),
        str(row.items),
        Text(str(row.failures), style="red" if row.failures else ""),
        fmt(row.mean_latency_s),
        fmt(row.tokens_per_s, 1),
        fmt(row.total_time_s, 1),
        f"{row.peak_rss_mb:.0f} MiB" if row.peak_rss_mb else "–",
        fmt(row.file_size_gb),
        fmt(row.value_per_s),
        fmt(row.value_per_gb),
    ]


class ScoreSummaryTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, card: Scorecard) -> None:
        self.clear()
        winners = {(h.suite, h.winner) for h in card.head_to_head if h.winner}
        for row in card.rows:
            winner = (row.suite, row.model) in winners
            self.add_row(*summary_cells(row, winner), key=f"{row.suite}|{row.model}")


def head_to_head_text(card: Scorecard) -> Text:
    text = Text()
    if not card.head_to_head:
        text.append("Head to head: needs two models on the same items.", style="dim")
        return text
    text.append("Head to head\n", style="bold")
    for h in card.head_to_head:
        text.append(f"{h.suite}: ", style="bold")
        text.append(
            f"{short_model(h.model_a)} {h.value_a:.3f} vs {short_model(h.model_b)} "
            f"{h.value_b:.3f} ({METRIC_LABELS.get(h.metric, h.metric)}) — "
        )
        if h.winner:
            text.append(f"{short_model(h.winner)} is better", style="bold green")
        else:
            text.append("no significant difference", style="yellow")
        text.append(f", p = {h.p_value:.3g} ({h.test}, n = {h.n}); {h.detail}\n", style="dim")
    return text
