"""Pilot tests of the runs list (F4): statuses, opening a scorecard, deleting (asks first),
comparing two runs of different models, and what cannot be resumed or compared."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable
from tui_bench_support import (
    ALPHA,
    BETA,
    WIDE,
    freeze_cursors,
    freeze_run,
    headless_run,
    sections_app,
    settle,
    wait_for,
    wait_for_scorecard,
)

from benchmarks.scorecard import build_scorecard
from benchmarks.store import ResultsStore
from tui.screens.confirm import ConfirmScreen
from tui.screens.runs_screen import RunsScreen
from tui.screens.scorecard_screen import ScorecardScreen


def cell(table: DataTable, row: str, column: str) -> str:
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


async def open_runs(pilot) -> RunsScreen:  # noqa: ANN001
    await pilot.press("f4")
    screen = pilot.app.screen
    assert isinstance(screen, RunsScreen)
    return screen


async def test_lists_runs_with_status_and_opens_a_scorecard() -> None:
    complete = headless_run(limit=6)
    partial = headless_run(limit=6, method="generate", stop_after=4)
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        runs = await open_runs(pilot)
        table = runs.query_one(DataTable)
        assert [str(k.value) for k in table.rows] == [str(partial), str(complete)]  # newest first
        assert cell(table, str(complete), "status") == "complete"
        assert cell(table, str(partial), "status") == "partial"
        assert cell(table, str(complete), "items") == "12"
        assert cell(table, str(partial), "items") == "4"
        assert cell(table, str(partial), "settings") == "generate, limit 6, seed 0"
        runs.select(complete)
        await pilot.press("enter")
        card = app.screen
        assert isinstance(card, ScorecardScreen) and card.run_id == complete
        await wait_for_scorecard(pilot)
        await pilot.press("escape")
        assert app.screen is runs
        runs.select(complete)
        await pilot.press("r")  # a complete run has nothing to resume
        assert app.screen is runs


async def test_delete_asks_first_and_keeps_the_cached_results() -> None:
    first = headless_run(limit=5)
    second = headless_run(limit=5, method="generate")
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        runs = await open_runs(pilot)
        runs.select(first)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # no
        with ResultsStore() as store:
            assert [r.id for r in store.list_runs()] == [second, first]
        await pilot.press("d")
        await pilot.click("#confirm-yes")
        await settle(pilot)
        with ResultsStore() as store:
            assert [r.id for r in store.list_runs()] == [second]
            kept = store.conn.execute("SELECT COUNT(*) FROM results WHERE run_id = ?", (first,)).fetchone()[0]
        assert kept == 10  # the items stay as the cache of later runs
        assert [str(k.value) for k in runs.query_one(DataTable).rows] == [str(second)]
    # The same run again reuses every deleted run's item instead of computing it.
    again = headless_run(limit=5)
    with ResultsStore() as store:
        cached = store.conn.execute(
            "SELECT SUM(cached) FROM run_items WHERE run_id = ?", (again,)
        ).fetchone()[0]
    assert cached == 10


async def test_compare_two_runs_of_different_models_on_the_same_suites() -> None:
    only_alpha = headless_run(models=(ALPHA,), limit=20)
    only_beta = headless_run(models=(BETA,), limit=20)
    both = headless_run(models=(ALPHA, BETA), limit=20)  # the reference: one run of both models
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        runs = await open_runs(pilot)
        runs.select(only_alpha)
        await pilot.press("space")
        assert runs.marked == only_alpha
        runs.select(only_beta)
        await pilot.press("c")
        card_screen = app.screen
        assert isinstance(card_screen, ScorecardScreen)
        await wait_for(pilot, lambda: card_screen.card is not None, "the comparison scorecard")
        card = card_screen.card
        assert card.run["settings"]["compare"] == [only_alpha, only_beta]
        reference = build_scorecard(str(both))
        assert len(card.head_to_head) == 1
        for key in ("value_a", "value_b", "n", "p_value", "verdict"):
            assert getattr(card.head_to_head[0], key) == getattr(reference.head_to_head[0], key)
        await pilot.press("escape")
        table = runs.query_one(DataTable)
        assert "comparison of runs" in cell(table, str(card.run["id"]), "settings")
        # Comparing the same two runs again reopens that comparison instead of making another.
        runs.select(only_alpha)
        await pilot.press("space")
        runs.select(only_beta)
        await pilot.press("c")
        assert app.screen.run_id == card.run["id"]


async def test_compare_refuses_runs_sharing_a_model() -> None:
    a = headless_run(models=(ALPHA, BETA), limit=4)
    b = headless_run(models=(ALPHA,), limit=4, method="generate")
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        runs = await open_runs(pilot)
        runs.select(a)
        await pilot.press("space")
        runs.select(b)
        await pilot.press("c")
        assert app.screen is runs
        with ResultsStore() as store:
            assert len(store.list_runs()) == 2  # no comparison run was made


def test_snapshot_runs_list(snap_compare) -> None:  # noqa: ANN001
    for run_id in (headless_run(limit=10), headless_run(limit=10, method="generate", stop_after=7)):
        freeze_run(run_id)

    async def ready(pilot) -> None:  # noqa: ANN001
        await open_runs(pilot)
        await freeze_cursors(pilot)

    assert snap_compare(sections_app(), terminal_size=WIDE, run_before=ready)


async def test_resume_a_partial_run_before_the_benchmark_screen_was_ever_opened() -> None:
    partial = headless_run(limit=6, method="generate", stop_after=5)
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        runs = await open_runs(pilot)
        runs.select(partial)
        await pilot.press("r")
        await wait_for_scorecard(pilot)
        bench = app.section_base("bench")
        assert bench.last_finished.run_id == partial
        assert (bench.last_finished.cached, bench.last_finished.computed) == (5, 7)
        with ResultsStore() as store:
            assert store.get_run(partial).status == "complete"
