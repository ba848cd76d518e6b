"""What the scorecard and leaderboard charts show, as plain data: no drawing here.

`scorecard_charts(card)` turns a Scorecard into interval bars (each model's headline metric with
its 95% interval, per suite), trade-off points (quality against speed and against peak memory, one
per model and suite) and confusion heatmaps; `leaderboard_chart(board)` the ratings with their
intervals. benchmarks/chart_render.py draws them. A value that is missing stays None with the reason
in `gap` ("all 20 failed", "no tok/s", "no peak RSS", "not run"): charts write the reason where the
mark would be, and never draw a missing value as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.export import METRIC_LABELS, format_value

if TYPE_CHECKING:
    from benchmarks.arena.leaderboard import Leaderboard
    from benchmarks.scorecard import Scorecard, ScoreRow, SuiteLine

NOT_RUN = "not run"
NO_TOKENS = "no tok/s"
NO_MEMORY = "no peak RSS"
REMOTE_MEMORY = "remote: memory not measured here"
NO_TIMING = "no timing"
UNPARSEABLE = "unparseable"  # the confusion matrix's column for answers that could not be read
#: Metrics whose majority-baseline value can be drawn on the headline axis.
ACCURACY_LIKE = ("accuracy", "accuracy_norm")


@dataclass(frozen=True)
class Interval:
    """One model's value with its 95% interval (None where missing, `gap` saying why)."""

    label: str  # the model reference
    value: float | None
    low: float | None
    high: float | None
    note: str  # printed beside the mark: "0.500 [0.299, 0.701] · n 20", or the gap
    gap: str | None = None


@dataclass(frozen=True)
class Reference:
    """A vertical reference line: a baseline ("always negative", "chance") or the ratings' mean."""

    label: str
    value: float


@dataclass(frozen=True)
class IntervalPanel:
    """One panel of intervals: a suite's models on its headline metric, or the arena's ratings."""

    key: str  # suite name, or "ratings"
    title: str
    axis: str  # what the horizontal axis measures
    bars: tuple[Interval, ...]
    references: tuple[Reference, ...] = ()
    from_zero: bool = True  # bars from 0 (metrics); False: a dot at the value (ratings)


@dataclass(frozen=True)
class Point:
    """One model on one suite: headline metric (y) against a cost (x)."""

    model: str
    suite: str
    x: float | None
    y: float | None
    gap: str | None = None  # why it is not drawn

    @property
    def drawn(self) -> bool:
        return self.x is not None and self.y is not None


@dataclass(frozen=True)
class Scatter:
    key: str  # "items_per_s" | "tokens_per_s" | "peak_rss_mib"
    axis: str
    points: tuple[Point, ...]
    log_x: bool = False

    @property
    def drawn(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.drawn)

    @property
    def gaps(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if not p.drawn)


@dataclass(frozen=True)
class ConfusionCell:
    actual: str
    predicted: str
    count: int
    share: float  # of the actual label's items (0 when the label has none)


@dataclass(frozen=True)
class Heatmap:
    """One classification result's confusion matrix: rows the answer key, columns the prediction."""

    suite: str
    model: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[ConfusionCell, ...]

    def cell(self, actual: str, predicted: str) -> ConfusionCell:
        return next(c for c in self.cells if c.actual == actual and c.predicted == predicted)


@dataclass(frozen=True)
class ScorecardCharts:
    models: tuple[str, ...]  # in the run's order (their colours follow it)
    suites: tuple[IntervalPanel, ...]  # one per suite, the summary chart's panels
    tradeoffs: tuple[Scatter, ...]  # items/s, tok/s (when a suite generates), peak memory
    heatmaps: tuple[Heatmap, ...]

    def panel(self, suite: str) -> IntervalPanel:
        return next(p for p in self.suites if p.key == suite)

    def heatmaps_of(self, suite: str) -> tuple[Heatmap, ...]:
        return tuple(h for h in self.heatmaps if h.suite == suite)


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def all_failed(row: ScoreRow) -> bool:
    return row.items > 0 and row.failures >= row.items


def headline_gap(row: ScoreRow | None) -> str | None:
    """Why a row has no headline value to draw (None when it has one)."""
    if row is None:
        return NOT_RUN
    if all_failed(row):
        return f"all {row.items} failed"
    if row.value is None:
        return "no value"
    return None


def interval_of(row: ScoreRow | None, model: str) -> Interval:
    gap = headline_gap(row)
    if gap is not None or row is None:
        return Interval(model, None, None, None, gap or NOT_RUN, gap)
    note = f"{format_value(row.value)}"
    if row.ci_low is not None and row.ci_high is not None:
        note += f" [{row.ci_low:.3f}, {row.ci_high:.3f}]"
    note += f" · n {row.items}"
    if row.failures:
        note += f" · {row.failures} failed"
    return Interval(model, row.value, row.ci_low, row.ci_high, note)


def references(line: SuiteLine) -> tuple[Reference, ...]:
    """The baselines drawn on a suite's headline axis: always answering the majority answer (in the
    headline metric's terms) and, for accuracy, chance."""
    base = line.baselines
    if base is None:
        return ()
    if line.headline in ACCURACY_LIKE:
        return (
            Reference(f"always {base.majority_label}", base.majority_rate),
            Reference("chance", base.chance),
        )
    if line.headline == "macro_f1" and base.majority_macro_f1 is not None:
        return (Reference(f"always {base.majority_label}", base.majority_macro_f1),)
    return ()


def suite_panel(card: Scorecard, suite: str, models: tuple[str, ...]) -> IntervalPanel:
    line = card.suites[suite]
    metric = metric_label(line.headline)
    bars = tuple(interval_of(card.row(suite, m), m) for m in models)
    return IntervalPanel(suite, f"{suite} — {metric}", metric, bars, references(line))


def run_models(card: Scorecard) -> tuple[str, ...]:
    """The run's models in order: those recorded, then any only the results name."""
    refs = [m["model_ref"] for m in card.models] + [r.model for r in card.rows]
    return tuple(dict.fromkeys(refs))


def _remote(card: Scorecard, model: str) -> bool:
    entry = next((m for m in card.models if m["model_ref"] == model), {})
    return entry.get("identity", {}).get("source") == "remote"


def tradeoffs(card: Scorecard, models: tuple[str, ...]) -> tuple[Scatter, ...]:
    """Quality against items/s (every suite), tok/s (generation suites) and peak memory."""
    speed: list[Point] = []
    tokens: list[Point] = []
    memory: list[Point] = []
    generating = {r.suite for r in card.rows if r.method == "generate"}
    for suite in card.suites:
        for model in models:
            row = card.row(suite, model)
            gap = headline_gap(row)
            if row is None or gap is not None:
                lists = (speed, tokens, memory) if suite in generating else (speed, memory)
                for points in lists:
                    points.append(Point(model, suite, None, None, gap))
                continue
            y = row.value
            items_per_s = 1 / row.mean_latency_s if row.mean_latency_s else None
            speed.append(Point(model, suite, items_per_s, y, None if items_per_s else NO_TIMING))
            if suite in generating:
                tok = row.tokens_per_s or None
                tokens.append(Point(model, suite, tok, y, None if tok else NO_TOKENS))
            if _remote(card, model):
                memory.append(Point(model, suite, None, y, REMOTE_MEMORY))
            else:
                mib = row.peak_rss_mb
                memory.append(Point(model, suite, mib, y, None if mib else NO_MEMORY))
    out = [Scatter("items_per_s", "items/s (log scale)", tuple(speed), log_x=True)]
    if generating:
        out.append(Scatter("tokens_per_s", "generated tok/s (log scale)", tuple(tokens), log_x=True))
    out.append(Scatter("peak_rss_mib", "peak RSS (MiB)", tuple(memory)))
    return tuple(out)


def heatmap(suite: str, model: str, table: dict[str, dict[str, int]]) -> Heatmap:
    rows = tuple(table)
    columns = tuple(dict.fromkeys(c for counts in table.values() for c in counts))
    # "unparseable" only where some answer could not be read (log-likelihood answers always can).
    columns = tuple(c for c in columns if c != UNPARSEABLE or any(t.get(c) for t in table.values()))
    cells = []
    for actual in rows:
        total = sum(table[actual].values())
        for predicted in columns:
            count = int(table[actual].get(predicted, 0))
            cells.append(ConfusionCell(actual, predicted, count, count / total if total else 0.0))
    return Heatmap(suite, model, rows, columns, tuple(cells))


def scorecard_charts(card: Scorecard) -> ScorecardCharts:
    models = run_models(card)
    panels = tuple(suite_panel(card, suite, models) for suite in card.suites)
    maps = tuple(
        heatmap(suite, model, per_model[model])
        for suite, per_model in card.confusion.items()
        for model in models
        if model in per_model
    )
    return ScorecardCharts(models, panels, tradeoffs(card, models), maps)


def leaderboard_chart(board: Leaderboard) -> IntervalPanel:
    """Each model's rating (a dot, best first) and 95% interval, with the pool's mean."""
    from benchmarks.arena.ratings import MEAN_RATING

    bars = tuple(
        Interval(
            s.model,
            s.rating,
            s.ci_low,
            s.ci_high,
            f"{s.rating:.0f} [{s.ci_low:.0f}, {s.ci_high:.0f}] · {s.votes} vote{'s' * (s.votes != 1)}",
        )
        for s in board.standings
    )
    title = f"arena ratings ({board.voter} votes: {board.n_votes})"
    return IntervalPanel(
        "ratings", title, "rating (Elo scale)", bars, (Reference("mean", MEAN_RATING),), from_zero=False
    )
