"""What the scorecard charts show (benchmarks/chart_data.py), checked as data rather than pixels: interval
ends, one point per model and suite, heatmap cells, and gaps labelled instead of drawn as zeros."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.chart_data import (
    NO_MEMORY,
    NO_TOKENS,
    NOT_RUN,
    REMOTE_MEMORY,
    UNPARSEABLE,
    scorecard_charts,
)
from benchmarks.scorecard import Scorecard, build_scorecard
from tests.export_support import FLAKY, GAPPY_SUITES, LIMIT, REMOTE, SOLO, gappy_run, solo_run


@pytest.fixture
def gappy() -> Scorecard:
    return build_scorecard(str(gappy_run()))


def test_bars_are_the_rows_intervals_and_failed_suites_are_labelled(gappy: Scorecard) -> None:
    charts = scorecard_charts(gappy)
    assert charts.models == (FLAKY, REMOTE)
    assert [p.key for p in charts.suites] == list(GAPPY_SUITES)
    drawn = 0
    for panel in charts.suites:
        assert [b.label for b in panel.bars] == [FLAKY, REMOTE]
        for bar in panel.bars:
            row = gappy.row(panel.key, bar.label)
            assert row is not None
            if row.failures == row.items:
                # Every item failed: no bar at 0, the reason instead.
                assert (bar.value, bar.low, bar.high) == (None, None, None)
                assert bar.gap == f"all {LIMIT} failed" and bar.note == bar.gap
                continue
            drawn += 1
            assert (bar.value, bar.low, bar.high) == (row.value, row.ci_low, row.ci_high)
            assert bar.low is not None and bar.high is not None and bar.low <= bar.value <= bar.high
            assert bar.note.startswith(f"{row.value:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] · n {LIMIT}")
            assert bar.gap is None
    assert drawn == 5  # sentiment x2, knowledge (remote only), summarize x2
    assert charts.panel("knowledge").bars[0].gap == "all 12 failed"  # the flaky model's context
    assert [b.gap for b in charts.panel("math").bars] == ["all 12 failed"] * 2  # nothing parseable
    # Some sentiment items failed for the flaky model: drawn, with the failures said beside it.
    assert "failed" in charts.panel("sentiment").bars[0].note
    assert charts.panel("summarize").title == "summarize — ROUGE-L F"


def test_baselines_are_drawn_in_the_headline_metrics_terms(gappy: Scorecard) -> None:
    line = gappy.suites["sentiment"]
    refs = {r.label: r.value for r in scorecard_charts(gappy).panel("sentiment").references}
    assert line.headline == "accuracy" and line.baselines is not None
    assert refs == {f"always {line.baselines.majority_label}": line.baselines.majority_rate,
                    "chance": line.baselines.chance}  # fmt: skip
    assert scorecard_charts(gappy).panel("summarize").references == ()  # no baseline for ROUGE


def test_one_point_per_model_and_suite_with_gaps_named(gappy: Scorecard) -> None:
    speed, tokens, memory = scorecard_charts(gappy).tradeoffs
    assert (speed.key, tokens.key, memory.key) == ("items_per_s", "tokens_per_s", "peak_rss_mib")
    every = {(m, s) for m in (FLAKY, REMOTE) for s in GAPPY_SUITES}
    for scatter in (speed, memory):
        assert len(scatter.points) == len(every) and {(p.model, p.suite) for p in scatter.points} == every
    # tok/s exists only where a suite generates.
    assert {(p.model, p.suite) for p in tokens.points} == {(m, s) for m in (FLAKY, REMOTE) for s in
                                                           ("summarize", "math")}  # fmt: skip
    for scatter in (speed, tokens, memory):
        for p in scatter.points:
            row = gappy.row(p.suite, p.model)
            assert row is not None
            if p.drawn:
                assert p.y == row.value and p.gap is None and p.x is not None and p.x > 0
            else:
                assert p.gap and p.x is None  # never a 0 standing in for "unknown"
    by = {(p.model, p.suite): p for p in speed.points}
    row = gappy.row("sentiment", FLAKY)
    assert row is not None and row.mean_latency_s
    assert by[(FLAKY, "sentiment")].x == pytest.approx(1 / row.mean_latency_s)
    tok = {(p.model, p.suite): p for p in tokens.points}
    assert tok[(REMOTE, "summarize")].gap == NO_TOKENS and tok[(REMOTE, "summarize")].y is not None
    flaky_summaries = gappy.row("summarize", FLAKY)
    assert flaky_summaries is not None and tok[(FLAKY, "summarize")].x == flaky_summaries.tokens_per_s
    assert tok[(FLAKY, "math")].gap == "all 12 failed"
    mem = {(p.model, p.suite): p for p in memory.points}
    assert mem[(REMOTE, "sentiment")].gap == REMOTE_MEMORY  # duel's own memory is not the server's
    assert mem[(FLAKY, "sentiment")].x == gappy.row("sentiment", FLAKY).peak_rss_mb  # type: ignore[union-attr]


def test_confusion_heatmaps_count_and_share(gappy: Scorecard) -> None:
    charts = scorecard_charts(gappy)
    maps = charts.heatmaps_of("sentiment")
    assert [h.model for h in maps] == [FLAKY, REMOTE] and charts.heatmaps_of("knowledge") == ()
    for heat in maps:
        table = gappy.confusion["sentiment"][heat.model]
        assert heat.rows == tuple(table) and len(heat.cells) == len(heat.rows) * len(heat.columns)
        for actual in heat.rows:
            row = [heat.cell(actual, predicted) for predicted in heat.columns]
            assert [c.count for c in row] == [table[actual][p] for p in heat.columns]
            total = sum(c.count for c in row)
            assert sum(c.share for c in row) == pytest.approx(1.0 if total else 0.0)
    # The column of items without an answer only where there are some: the flaky model's failures.
    flaky, remote = maps
    assert UNPARSEABLE not in remote.columns
    flaky_row = gappy.row("sentiment", FLAKY)
    assert flaky_row is not None and flaky_row.failures > 0
    assert sum(c.count for c in flaky.cells if c.predicted == UNPARSEABLE) == flaky_row.failures
    assert sum(c.count for c in flaky.cells) == LIMIT


def test_a_model_missing_from_a_suite_and_a_missing_peak_rss(gappy: Scorecard) -> None:
    rows = [r for r in gappy.rows if not (r.suite == "sentiment" and r.model == REMOTE)]
    rows = [replace(r, peak_rss_mb=None) if r.model == FLAKY else r for r in rows]
    card = replace(gappy, rows=rows)
    charts = scorecard_charts(card)
    bar = charts.panel("sentiment").bars[1]
    assert (bar.label, bar.value, bar.gap) == (REMOTE, None, NOT_RUN)
    speed, _, memory = charts.tradeoffs
    assert {p.gap for p in speed.points if (p.model, p.suite) == (REMOTE, "sentiment")} == {NOT_RUN}
    assert {(p.gap, p.x) for p in memory.points if p.model == FLAKY and p.suite == "sentiment"} == {
        (NO_MEMORY, None)
    }


def test_one_model() -> None:
    card = build_scorecard(str(solo_run()))
    charts = scorecard_charts(card)
    assert charts.models == (SOLO,)
    assert [(p.key, len(p.bars)) for p in charts.suites] == [("sentiment", 1), ("summarize", 1)]
    assert all(b.value is not None for p in charts.suites for b in p.bars)
    speed, tokens, memory = charts.tradeoffs
    assert len(speed.points) == len(memory.points) == 2 and len(tokens.points) == 1
    assert all(p.drawn for p in (*speed.points, *tokens.points, *memory.points))
