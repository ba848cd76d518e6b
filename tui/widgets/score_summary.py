"""The scorecard's main table (metrics with intervals, the majority baseline, speed, memory, value),
then each suite's baselines and head-to-head lines.

Every number is a field of `benchmarks.scorecard.Scorecard`; this only lays them out.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from benchmarks.export import METRIC_LABELS, baseline_heading, vs_majority_cell
from benchmarks.scorecard import Scorecard, ScoreRow
from tui.widgets.bench_messages import short_ref

COLUMNS = (
    ("suite", "Suite"),
    ("model", "Model"),
    ("metric", "Metric"),
    ("value", "Value"),
    ("ci", "95% interval"),
    ("vs_majority", "Beats majority"),
    ("accuracy", "Accuracy"),
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
    accuracy = row.metric_named("accuracy")  # shown beside any headline (macro-F1 leads imbalanced suites)
    return [
        row.suite,
        Text(short_model(row.model), style="bold"),
        METRIC_LABELS.get(row.metric, row.metric),
        value,
        interval(row.ci_low, row.ci_high),
        Text(vs_majority_cell(row), style="green" if row.beats_majority else "yellow")
        if row.beats_majority is not None
        else "–",
        fmt(accuracy.value if accuracy else None),
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


def baselines_text(card: Scorecard) -> Text:
    """Per suite: its baselines and headline metric, then each model's verdict against the majority."""
    text = Text()
    text.append("Baselines\n", style="bold")
    for line in card.suites.values():
        text.append(f"{line.name}: ", style="bold")
        text.append(f"{baseline_heading(line)}\n", style="dim")
        for row in card.rows:
            if row.suite == line.name and row.baseline_verdict:
                text.append(f"  {short_model(row.model)}: ")
                text.append(f"{row.baseline_verdict}\n", style="green" if row.beats_majority else "yellow")
    return text


def head_to_head_text(card: Scorecard) -> Text:
    """The baselines, then every head-to-head test with what would settle a difference left open."""
    text = baselines_text(card)
    text.append("\n")
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
        settle = f"; {h.settle_text}" if h.settle_text else ""
        text.append(f", p = {h.p_value:.3g} ({h.test}, n = {h.n}); {h.detail}{settle}\n", style="dim")
    return text
