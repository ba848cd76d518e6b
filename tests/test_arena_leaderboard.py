"""`duel leaderboard`: formats, voters, win rates, the position bias line, and no votes yet."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.arena.leaderboard import build_leaderboard
from benchmarks.arena.store import ArenaStore, BattleRecord
from benchmarks.chart_data import leaderboard_chart
from tests.browser import external_references
from tui.cli import main

Q = [{"role": "user", "content": "Q"}]


def _vote(a: str, b: str, vote: str, voter: str = "human") -> BattleRecord:
    return BattleRecord(
        model_a=a,
        model_b=b,
        conversation_a=[*Q, {"role": "assistant", "content": "x"}],
        conversation_b=[*Q, {"role": "assistant", "content": "y"}],
        status="voted",
        vote=vote,
        voter=voter,
        source="judge" if voter != "human" else "arena",
        sha256_a="ab" * 32 if a == "qwen2.5-coder-0.5b-instruct-q4_k_m-long-name" else None,
        tstamp=1.7e9,
    )


LONG = "qwen2.5-coder-0.5b-instruct-q4_k_m-long-name"


@pytest.fixture
def votes() -> None:
    """Human votes: LONG beats smol 3 times in 4; a never-winning model; one judge's votes."""
    rng = np.random.default_rng(0)
    with ArenaStore() as store:
        records = []
        for _ in range(120):
            outcome = "a" if rng.random() < 0.75 else "b"
            records.append(
                _vote(LONG, "smol", outcome)
                if rng.random() < 0.5
                else _vote("smol", LONG, {"a": "b", "b": "a"}[outcome])
            )
        records += [
            _vote("loser", LONG, "b"),
            _vote("smol", "loser", "a"),
            _vote("loser", "smol", "tie"),
        ] * 10
        records += [_vote("smol", LONG, "a", voter="judge:q")] * 5
        for record in records:
            store.record_battle(record)


def test_the_board_of_human_votes(votes: None) -> None:
    board = build_leaderboard("human", resamples=1000)
    assert board.models == [LONG, "smol", "loser"]
    assert board.n_votes == 150
    top, _, loser = board.standings
    assert top.rank == 1 and loser.rank == 3 and top.sha256 == ("ab" * 32,)
    assert (loser.wins, loser.ties, loser.losses, loser.votes) == (0, 10, 20, 30)
    assert board.win_rate[LONG]["smol"] + board.win_rate["smol"][LONG] == pytest.approx(1.0)
    assert board.win_rate["loser"]["smol"] == pytest.approx(0.25)  # 10 ties of 20 games
    assert board.win_rate[LONG][LONG] is None and board.games["smol"]["loser"] == 20
    judge_board = build_leaderboard("judge:q", resamples=1000)
    assert judge_board.models == ["smol", LONG] and judge_board.n_votes == 5
    assert build_leaderboard("all", resamples=1000).n_votes == 155


def test_every_format(votes: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["model"] for s in data["standings"]] == [LONG, "smol", "loser"]
    assert data["voter"] == "human" and data["resamples"] == 1000
    assert data["standings"][0]["ci_low"] < data["standings"][0]["rating"] < data["standings"][0]["ci_high"]
    assert set(data["position_bias"]) >= {"left_share", "p_value", "summary"}

    assert main(["leaderboard", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["model"] == LONG and rows[0]["sha256"] == "ab" * 32 and rows[2]["wins"] == "0"

    assert main(["leaderboard", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert LONG in md and "## Win rates" in md and "Position bias: Model A (left) won" in md

    out = tmp_path / "board.html"
    assert main(["leaderboard", "-o", str(out)]) == 0  # format from the suffix
    page = out.read_text()
    assert page.count("<svg") == 1 and "data-chart='ratings'" in page and LONG in page
    assert f">{LONG}</text>" in page  # the chart's labels are text, not paths
    assert external_references(page) == [] and "<script" not in page  # nothing fetched
    assert main(["leaderboard", "-o", str(tmp_path / "board.txt")]) == 2


def test_the_ratings_chart_alone(votes: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = build_leaderboard("human", resamples=1000)
    panel = leaderboard_chart(board)
    assert [b.label for b in panel.bars] == board.models and not panel.from_zero
    assert [(b.value, b.low, b.high) for b in panel.bars] == [
        (s.rating, s.ci_low, s.ci_high) for s in board.standings
    ]
    assert [r.value for r in panel.references] == [1000.0]
    assert main(["leaderboard", "--format", "svg"]) == 0  # svg may go to stdout
    svg = capsys.readouterr().out
    assert svg.startswith("<?xml") and "<svg" in svg and f">{LONG}</text>" in svg
    assert main(["leaderboard", "-o", str(tmp_path / "ratings.png")]) == 0
    assert (tmp_path / "ratings.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert main(["leaderboard", "--format", "png"]) == 2  # binary: only to a file
    assert "png is binary" in capsys.readouterr().err


@pytest.mark.parametrize("width", [80, 60])
def test_the_terminal_tables_never_cut_model_names(
    votes: None, width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["leaderboard", "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert any(LONG in line for line in out.splitlines()) and "position bias: Model A (left) won" in out
    assert all(cell_len(line.rstrip()) <= width for line in out.splitlines())
    assert "not shown at this width" in out  # the win-rate columns give way, not the names
    assert main(["leaderboard"]) == 0  # piped: Markdown
    assert capsys.readouterr().out.startswith("# duel arena leaderboard (human)")
    assert main(["leaderboard", "--voter", "judge:nobody"]) == 2
    assert "voters: human, judge:q" in capsys.readouterr().err
    assert main(["leaderboard", "--json", "--format", "md"]) == 2


def test_no_votes_yet_says_so_and_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["leaderboard"]) == 0
    assert "no votes from human yet" in capsys.readouterr().out
    assert main(["leaderboard", "-o", str(tmp_path / "b.md")]) == 0
    assert not (tmp_path / "b.md").exists()
    assert main(["leaderboard", "--voter", "nobody"]) == 2
    assert main(["leaderboard", "--resamples", "100"]) == 2
