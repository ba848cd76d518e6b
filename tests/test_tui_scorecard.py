"""Pilot tests of the scorecard screen: the numbers of benchmarks.scorecard on screen, head to head,
charts and confusion matrices, the item filters, and exports identical to `duel scorecard`."""

from __future__ import annotations

import io
import json
from pathlib import Path

from baseline_support import ALWAYS, READER, SUITE, imbalanced_run
from rich.console import Console
from rich.text import Text
from textual.widgets import Static, TabbedContent
from tui_bench_support import WIDE, freeze_cursors, freeze_run, headless_run, sections_app, settle, wait_for

from benchmarks.export import render
from benchmarks.recommend import recommend
from benchmarks.results import ItemScore
from benchmarks.scorecard import build_scorecard
from tui.cli import main as duel_main
from tui.screens.bench_item_screen import BenchItemScreen
from tui.screens.scorecard_screen import ScorecardScreen, export_path
from tui.widgets.score_chart import ScoreChart
from tui.widgets.score_items import ScoreItemsTable
from tui.widgets.score_recommend import RecommendView
from tui.widgets.score_summary import ScoreSummaryTable


def plain(renderable) -> str:  # noqa: ANN001
    """Text of a rich renderable with the table lines taken out and spaces collapsed."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    text = console.export_text()
    return "\n".join(" ".join(line.replace("│", " ").split()) for line in text.splitlines())


def cell(table, row: str, column: str) -> str:  # noqa: ANN001
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


async def open_card(pilot, run_id: int) -> ScorecardScreen:  # noqa: ANN001
    screen = ScorecardScreen(run_id)
    await pilot.app.push_screen(screen)
    await wait_for(pilot, lambda: screen.card is not None, "the scorecard to be built")
    await settle(pilot)
    return screen


async def test_scorecard_shows_metrics_intervals_verdict_speed_charts_and_confusion() -> None:
    run_id = headless_run(suites=("sentiment", "knowledge"), limit=16)
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_card(pilot, run_id)
        card = build_scorecard(str(run_id))
        table = screen.query_one(ScoreSummaryTable)
        assert table.row_count == 4
        for row in card.rows:
            key = f"{row.suite}|{row.model}"
            assert cell(table, key, "value") == f"{row.value:.3f}"
            assert cell(table, key, "ci") == f"{row.ci_low:.3f} – {row.ci_high:.3f}"
            assert cell(table, key, "items") == "16"
            assert cell(table, key, "latency") == f"{row.mean_latency_s:.3f}"
            assert cell(table, key, "rss") == f"{row.peak_rss_mb:.0f} MiB"
        h2h = str(screen.query_one("#card-h2h", Static).render())
        for line in card.head_to_head:
            assert f"p = {line.p_value:.3g}" in h2h
            assert ("is better" if line.winner else "no significant difference") in h2h
        charts = list(screen.query(ScoreChart))
        assert [c.suite for c in charts] == ["sentiment", "knowledge"]
        assert all(len(c.rows) == 2 for c in charts)
        # Confusion matrices for the classification suite only, with the scorecard's counts.
        assert list(card.confusion) == ["sentiment"]
        text = plain(screen.query_one("#card-confusion", Static).content)
        for model in ("scripted:alpha", "scripted:beta"):
            matrix = card.confusion["sentiment"][model]
            for truth, answers in matrix.items():
                row = " ".join([truth, *(str(n) for n in answers.values())])
                assert row in text, (row, text)


async def test_baselines_and_the_recommendation_for_the_runs_models(tmp_path: Path) -> None:
    run_id = imbalanced_run(tmp_path)
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_card(pilot, run_id)
        card = build_scorecard(str(run_id))
        table = screen.query_one(ScoreSummaryTable)
        always = card.row(SUITE, ALWAYS)
        assert cell(table, f"{SUITE}|{ALWAYS}", "metric") == "macro-F1"
        p_value = always.majority_p_value
        assert cell(table, f"{SUITE}|{ALWAYS}", "vs_majority") == f"no (p = {p_value:.3g})"
        assert cell(table, f"{SUITE}|{READER}", "vs_majority").startswith("yes (p = ")
        assert cell(table, f"{SUITE}|{ALWAYS}", "accuracy") == "0.633"  # shown beside the macro-F1 headline
        notes = " ".join(plain(screen.query_one("#card-h2h", Static).content).split())
        assert f"{ALWAYS}: not better than always answering negative (accuracy 0.633 vs 0.633" in notes
        assert "classes imbalanced (negative 38, neutral 12, positive 10" in notes
        # The Recommend tab: what `duel recommend` says for these models, table and verdict.
        screen.query_one(TabbedContent).active = "card-recommend-tab"
        await settle(pilot)
        view = screen.query_one(RecommendView)
        text = plain(view.content)
        (rec,) = [r for r in recommend_for(card) if r.task == "classify"]
        assert " ".join(rec.verdict.split()) in " ".join(text.split())
        assert rec.verdict.startswith(f"use {READER}: best macro-F1")
        lines = text.splitlines()
        assert any(line.startswith(f"1 {READER} 0.866") for line in lines), text
        assert any(line.startswith(f"2 {ALWAYS} 0.259") for line in lines), text
        assert "duel recommend" in text


def recommend_for(card):  # noqa: ANN001, ANN201
    from benchmarks.store import ResultsStore

    with ResultsStore() as store:
        return recommend(store, ["classify"], models={m["model_ref"] for m in card.models}, suites={SUITE})


async def test_item_filters_disagree_and_both_wrong() -> None:
    run_id = headless_run(limit=30)
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_card(pilot, run_id)
        card = build_scorecard(str(run_id))
        by_item: dict[str, dict[str, ItemScore]] = {}
        for item in card.items:
            by_item.setdefault(item.item_id, {})[item.model_ref] = item.score
        disagree = {
            i for i, s in by_item.items() if s["scripted:alpha"].prediction != s["scripted:beta"].prediction
        }
        both_wrong = {
            i
            for i, s in by_item.items()
            if not s["scripted:alpha"].correct and not s["scripted:beta"].correct
        }
        assert disagree and both_wrong  # the scripted models give both kinds on 30 items
        items = screen.query_one(ScoreItemsTable)
        assert len(items.shown) == 30
        await pilot.press("f")  # next filter: models disagree
        assert screen.query_one(TabbedContent).active == "card-items-tab"
        assert items.filter == "disagree"
        assert {row.item_id for row in items.shown} == disagree
        assert items.row_count == len(disagree)
        assert f"{len(disagree)} of 30 items" in str(screen.query_one("#card-filter-count", Static).render())
        screen.set_filter("both_wrong")
        assert {row.item_id for row in items.shown} == both_wrong
        # Enter opens the highlighted item with both answers.
        items.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, BenchItemScreen)
        assert set(app.screen.entries) == {"scripted:alpha", "scripted:beta"}
        assert all(entry.correct is False for entry in app.screen.entries.values())


async def test_export_writes_the_same_files_as_duel_scorecard(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    run_id = headless_run(limit=9)
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_card(pilot, run_id)
        await pilot.click("#export-csv")
        await settle(pilot)
        assert screen.exported == [export_path(run_id, "csv")]
        await pilot.press("e")  # all six
        await settle(pilot)
        shown = str(screen.query_one("#card-export-path", Static).render())
        folder = export_path(run_id, "md").parent
        assert str(folder) in shown
        card = build_scorecard(str(run_id))
        for fmt in ("md", "csv", "json", "html"):
            path = export_path(run_id, fmt)
            assert path.name in shown
            assert path.read_text(encoding="utf-8") == render(card, fmt)
            cli_file = tmp_path / f"cli.{fmt}"
            assert duel_main(["scorecard", str(run_id), "--format", fmt, "-o", str(cli_file)]) == 0
            assert cli_file.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
        data = json.loads(export_path(run_id, "json").read_text(encoding="utf-8"))
        assert len(data["items"]) == 18 and data["run"]["id"] == run_id
        assert "<html" in export_path(run_id, "html").read_text(encoding="utf-8")
        # The summary chart, as `duel scorecard --format svg|png` writes it.
        svg = export_path(run_id, "svg")
        assert svg.name in shown and svg.read_text(encoding="utf-8") == render(card, "svg")
        png = export_path(run_id, "png")
        assert png.name in shown and png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert duel_main(["scorecard", str(run_id), "--format", "png", "-o", str(tmp_path / "cli.png")]) == 0
        assert png.stat().st_size > 1000 and (tmp_path / "cli.png").stat().st_size > 1000


async def test_unknown_run_is_shown_not_crashed() -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = ScorecardScreen(404)
        await app.push_screen(screen)
        await settle(pilot)
        assert "no run with id 404" in str(screen.query_one("#card-title", Static).render())
        await pilot.press("escape")
        assert app.screen is app.chat


def test_snapshot_scorecard(snap_compare) -> None:  # noqa: ANN001
    run_id = headless_run(limit=20)
    freeze_run(run_id)

    async def ready(pilot) -> None:  # noqa: ANN001
        await open_card(pilot, run_id)
        await freeze_cursors(pilot)

    assert snap_compare(sections_app(), terminal_size=WIDE, run_before=ready)


def test_snapshot_scorecard_recommend(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    run_id = imbalanced_run(tmp_path)
    freeze_run(run_id)

    async def ready(pilot) -> None:  # noqa: ANN001
        screen = await open_card(pilot, run_id)
        screen.query_one(TabbedContent).active = "card-recommend-tab"
        await freeze_cursors(pilot)

    assert snap_compare(sections_app(), terminal_size=WIDE, run_before=ready)


def test_snapshot_scorecard_charts(snap_compare) -> None:  # noqa: ANN001
    run_id = headless_run(suites=("sentiment", "knowledge"), limit=20)
    freeze_run(run_id)

    async def ready(pilot) -> None:  # noqa: ANN001
        screen = await open_card(pilot, run_id)
        screen.query_one(TabbedContent).active = "card-charts-tab"
        await freeze_cursors(pilot)

    assert snap_compare(sections_app(), terminal_size=WIDE, run_before=ready)
