"""The leaderboard screen (F8): standings from the store, the voter choice, no votes yet, a new vote
counted on return, and a snapshot."""

from __future__ import annotations

import pytest
from arena_support import QUOK, ZEPH, arena_app, ask, wait_arena_ready, wait_vote_open
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Select
from tui_support import make_app, screen_text, wait_until

from benchmarks.arena.leaderboard import build_leaderboard
from benchmarks.arena.simulate import simulate_votes
from benchmarks.arena.store import ArenaStore, BattleRecord
from tui.screens.leaderboard_screen import LeaderboardScreen

SIZE = (150, 50)
LONG = "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf"
TRUE = {LONG: 1150.0, "qwen2.5-coder-0.5b": 1050.0, "smollm2-135m": 900.0}


def _record(a: str, b: str, vote: str, voter: str = "human") -> BattleRecord:
    q = {"role": "user", "content": "Q"}
    return BattleRecord(
        model_a=a,
        model_b=b,
        conversation_a=[q, {"role": "assistant", "content": "x"}],
        conversation_b=[q, {"role": "assistant", "content": "y"}],
        status="voted",
        vote=vote,
        voter=voter,
        source="arena" if voter == "human" else "judge",
        tstamp=1.7e9,
    )


@pytest.fixture
def seeded() -> None:
    """300 human votes drawn from known ratings (ties included) and 20 votes of one judge."""
    votes = simulate_votes(TRUE, 300, seed=7, tie_rate=0.2)
    records = [_record(v.model_a, v.model_b, v.outcome) for v in votes]
    records += [_record("smollm2-135m", "qwen2.5-coder-0.5b", "a", voter="judge:qwen")] * 20
    with ArenaStore() as store:
        store.import_battles(records)


def cell(table: DataTable, row: str, column: str) -> str:
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


async def open_board(pilot: Pilot) -> LeaderboardScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LeaderboardScreen))
    screen = pilot.app.screen
    assert isinstance(screen, LeaderboardScreen)
    await wait_until(
        pilot, lambda: screen.board is not None or "no votes" in screen_text(pilot.app), what="the board"
    )
    await pilot.pause(0.05)
    return screen


async def test_standings_chart_matrix_and_position_bias_from_the_store(seeded: None) -> None:
    expected = build_leaderboard("human")
    app = make_app(start_section="leaderboard")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        board = screen.board
        assert board is not None and board.n_votes == 300
        table = screen.query_one("#board-standings", DataTable)
        assert [str(k.value) for k in table.rows] == [s.model for s in expected.standings]
        for s in expected.standings:
            assert cell(table, s.model, "rating") == f"{s.rating:.0f}"
            assert cell(table, s.model, "ci") == f"{s.ci_low:.0f} – {s.ci_high:.0f}"
            assert (cell(table, s.model, "wins"), cell(table, s.model, "losses")) == (
                str(s.wins),
                str(s.losses),
            )
        assert board.standings[0].model == LONG  # the best of the true ratings comes first
        text = screen_text(app)
        assert LONG in text  # the long name whole, never cut
        assert "Ratings (dots) and 95% intervals (whiskers)" in text
        assert expected.position.describe()[:40] in text
        matrix = screen.query_one("#board-matrix", DataTable)
        rate = expected.win_rate[LONG]["smollm2-135m"]
        games = expected.games[LONG]["smollm2-135m"]
        assert cell(matrix, LONG, "vs3") == f"{rate:.0%} ({games})"


async def test_the_voter_choice_rates_one_judge_alone(seeded: None) -> None:
    app = make_app(start_section="leaderboard")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        select = screen.query_one("#board-voter", Select)
        assert "judge:qwen" in [value for _, value in select._options]
        select.value = "judge:qwen"
        await wait_until(pilot, lambda: screen.board is not None and screen.board.voter == "judge:qwen")
        assert screen.board.n_votes == 20
        assert screen.board.standings[0].model == "smollm2-135m"
        await pilot.press("v")  # the next voter: back to human
        await wait_until(pilot, lambda: screen.board is not None and screen.board.voter == "human")


async def test_no_votes_yet_says_how_to_get_some() -> None:
    app = make_app(start_section="leaderboard")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_board(pilot)
        assert screen.board is None
        text = screen_text(app)
        assert "no votes from human yet" in text and "duel arena" in text


async def test_a_vote_in_the_arena_is_counted_when_the_leaderboard_comes_back() -> None:
    app = arena_app(ZEPH, QUOK)
    async with app.run_test(size=SIZE) as pilot:
        arena = await wait_arena_ready(pilot)
        await pilot.press("f8")
        board = await open_board(pilot)
        assert board.board is None
        await pilot.press("f7")
        await ask(pilot, "Hi")
        await wait_vote_open(pilot)
        arena.set_focus(None)
        await pilot.press("1")
        await wait_until(pilot, lambda: arena.battle.revealed)
        await pilot.press("f8")
        await wait_until(pilot, lambda: board.board is not None and board.board.n_votes == 1)
        assert board.board.standings[0].model == arena.battle.pairing.model_a


def test_snapshot_leaderboard(snap_compare, seeded: None) -> None:  # noqa: ANN001
    async def ready(pilot: Pilot) -> None:
        screen = await open_board(pilot)
        matrix = screen.query_one("#board-matrix", DataTable)
        # A DataTable sizes its columns at its next refresh: wait until the names fit their column.
        await wait_until(pilot, lambda: matrix.columns["model"].get_render_width(matrix) > len(LONG))
        await pilot.pause(0.1)

    assert snap_compare(make_app(start_section="leaderboard"), terminal_size=SIZE, run_before=ready)
