"""The TUI's tables in a narrow window (60 x 30): a model or suite name is never cut. The name
columns come first and are as wide as their longest name (a DataTable scrolls sideways for the
rest), and a column headed by a model's name is at least as wide as that name."""

from __future__ import annotations

from pathlib import Path

from gguf_builders import write_gguf
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from tui_bench_support import ALPHA, headless_run, sections_app, wait_for, wait_for_scorecard

from benchmarks import events as ev
from models import registry
from tui.screens.models_screen import ModelsScreen
from tui.screens.runs_screen import RunsScreen
from tui.screens.scorecard_screen import ScorecardScreen
from tui.widgets.bench_feed import BenchFeed
from tui.widgets.bench_score_table import BenchScoreTable
from tui.widgets.score_items import ScoreItemsTable

NARROW = (60, 30)
LONG_NAME = "llama-3.2-1b-instruct-abliterated-q4-k-m"  # 40 characters
LONG_REF = "scripted:llama-3.2-1b-q4km"
HF_FILE = "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf"
HF_LABEL = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"  # how the TUI labels that reference


def screen_lines(app: App) -> list[str]:
    """The text on screen, line by line (what a person sees in the terminal)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def assert_on_screen(app: App, *names: str) -> None:
    lines = screen_lines(app)
    for name in names:
        assert any(name in line for line in lines), f"{name!r} not whole on screen:\n" + "\n".join(lines)


def header(table: DataTable, key: str) -> str:
    column = table.columns[key]  # type: ignore[index]
    return column.label.plain


async def test_models_screen_shows_a_long_name_whole(tmp_path: Path) -> None:
    registry.add(write_gguf(tmp_path / "m.gguf", arch="llama"), LONG_NAME)
    app = sections_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        await wait_for(pilot, lambda: screen.models is not None, "the model list")
        await pilot.pause(0.05)
        assert_on_screen(app, LONG_NAME, "qwen2.5-coder-0.5b", "smollm2-135m")


async def test_runs_and_scorecard_show_model_names_whole() -> None:
    run_id = headless_run(models=(ALPHA, LONG_REF), limit=3)
    app = sections_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("f4")
        assert isinstance(app.screen, RunsScreen)
        await pilot.pause(0.1)
        # The models come right after the run id, so a narrow window shows them before the rest.
        assert_on_screen(app, f"{ALPHA} vs {LONG_REF}")
        table = app.screen.query_one(DataTable)
        assert [str(c.label) for c in table.ordered_columns][:4] == ["", "Run", "Models", "Suites"]
        await pilot.press("enter")
        await wait_for_scorecard(pilot)
        assert isinstance(app.screen, ScorecardScreen) and app.screen.run_id == run_id
        assert_on_screen(app, LONG_REF, ALPHA)


class TablesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield BenchScoreTable()
        yield BenchFeed()
        yield ScoreItemsTable()


async def test_columns_headed_by_a_model_name_are_as_wide_as_the_name() -> None:
    app = TablesApp()
    async with app.run_test(size=NARROW) as pilot:
        labels = {ALPHA: ALPHA, HF_FILE: HF_LABEL}
        app.query_one(BenchScoreTable).set_plan(
            (ev.TaskPlan(ALPHA, "sentiment", 7), ev.TaskPlan(HF_FILE, "sentiment", 7)), labels
        )
        feed = app.query_one(BenchFeed)
        feed.set_models([ALPHA, HF_FILE], labels)
        items = app.query_one(ScoreItemsTable)
        items.load([], [ALPHA, HF_FILE])
        await pilot.pause(0.05)
        assert_on_screen(app, HF_LABEL)  # the live score table: model first
        for table in (feed, items):
            assert header(table, "answer1") == HF_LABEL  # was "Llama-3.2-1B-In…" in the feed
            assert table.columns["answer1"].width >= len(HF_LABEL)  # type: ignore[index]
        score = app.query_one(BenchScoreTable).get_cell_at((1, 0))
        assert isinstance(score, Text) and score.plain == HF_LABEL
