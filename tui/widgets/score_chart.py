"""A bar chart per suite: each model's main metric, with its 95% interval drawn as a whisker."""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot

from benchmarks.export import METRIC_LABELS
from benchmarks.scorecard import ScoreRow
from tui.widgets.bench_messages import short_ref

BAR_COLORS = ("blue", "magenta", "cyan", "green")


class ScoreChart(PlotextPlot):
    """`rows` are the scorecard rows of one suite (one per model)."""

    def __init__(self, suite: str, rows: list[ScoreRow], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.rows = rows

    def on_mount(self) -> None:
        self.draw()

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        rows = [r for r in self.rows if r.value is not None]
        metric = METRIC_LABELS.get(self.rows[0].metric, self.rows[0].metric) if self.rows else ""
        plt.title(f"{self.suite} — {metric} (whiskers: 95% interval)")
        positions = list(range(1, len(rows) + 1))
        for position, row, color in zip(positions, rows, BAR_COLORS * 4, strict=False):
            plt.bar([position], [row.value], color=color, width=0.4)
            low, high = row.ci_low, row.ci_high
            if low is not None and high is not None:
                # plotext draws a symmetric error bar around its centre: centre it on the interval.
                plt.error([position], [(low + high) / 2], yerr=[high - low], color="red")
        plt.xticks(positions, [f"{short_ref(r.model)} {r.value:.3f}" for r in rows])
        plt.xlim(0.4, len(rows) + 0.6)
        plt.ylim(0, 1)
        self.refresh()
