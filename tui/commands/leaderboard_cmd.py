"""`duel leaderboard`: Bradley-Terry ratings of the arena votes, with 95% intervals and win rates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands.cli_table import Column, print_table, width_rule

if TYPE_CHECKING:
    from benchmarks.arena.leaderboard import Leaderboard

STANDING_COLUMNS = (
    Column("rank", "keep", justify="right", drop=5),
    Column("model", "ident"),
    Column("rating", "keep", justify="right"),
    Column("95% CI", "keep", justify="right"),
    Column("votes", "keep", justify="right", drop=4),
    Column("wins", "keep", justify="right", drop=3),
    Column("ties", "keep", justify="right", drop=1),
    Column("losses", "keep", justify="right", drop=2),
)

EXAMPLES = """examples:
  duel leaderboard                                   human votes: tables on a terminal, Markdown piped
  duel leaderboard --voter judge:qwen2.5-coder-0.5b  the votes of one judge model
  duel leaderboard --voter all --format md -o board.md
  duel leaderboard --format html -o board.html       one self-contained page with a chart
  duel leaderboard -o ratings.svg                    the ratings chart alone (also -o ratings.png)
  duel leaderboard --json | jq '.standings[0]'       {"rank": 1, "model": ..., "rating": ..., "ci_low": ...,
                                                     "ci_high": ..., "votes": ..., "wins": ..., ...}

Ratings are on the Elo scale (400 points = 10:1 odds, mean 1000); ties and "both bad" count as half
a win each way. Human and judge votes are kept apart: --voter picks whose votes are rated. With no
votes yet, it says so and exits 0.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel leaderboard`."""
    board = sub.add_parser(
        "leaderboard",
        help="ratings of the models from the arena votes",
        description="Rate the arena's models from their votes: Bradley-Terry ratings with bootstrap 95%% "
        "intervals, vote counts, win rates and the position bias.",
        epilog=f"{EXAMPLES}\n{width_rule(STANDING_COLUMNS, 'the ratings table')}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    board.add_argument(
        "--format",
        choices=("table", "md", "csv", "json", "html", "svg", "png"),
        help="output format (default: tables on a terminal, md when piped or with -o FILE.md); svg, png: "
        "the ratings chart alone (png needs -o)",
    )
    board.add_argument("--json", action="store_true", help="the same as --format json: everything, on stdout")
    board.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE (format from its suffix)"
    )
    board.add_argument(
        "--voter", default="human", metavar="VOTER", help="human (default), judge:NAME, or all"
    )
    board.add_argument(
        "--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)"
    )
    board.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default 0)")
    board.set_defaults(handler=cmd_leaderboard)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from benchmarks.arena.leaderboard import NoVotesError, build_leaderboard
    from benchmarks.arena.render import render, write
    from models.errors import DuelError
    from tui.commands.cli_support import choose_format

    if args.resamples < 1000:
        raise DuelError("--resamples must be at least 1000 (fewer make the 95% interval ends unstable)")
    fmt = choose_format(args.format, args.output, as_json=args.json)
    try:
        board = build_leaderboard(args.voter, resamples=args.resamples, seed=args.seed)
    except NoVotesError as exc:
        print(str(exc))
        return 0
    if args.output is not None:
        path = write(board, fmt, args.output.expanduser())
        print(f"wrote the {fmt} leaderboard ({board.n_votes} votes from {board.voter}) to {path}")
    elif fmt == "table":
        print_leaderboard(board)
    else:
        sys.stdout.write(render(board, fmt))
    return 0


def print_leaderboard(board: Leaderboard) -> None:
    """The standings and the win-rate matrix as tables that never cut a model name (cli_table)."""
    from rich.console import Console

    console = Console()
    excluded = f", {board.no_verdict} unreadable judge verdicts left out" if board.no_verdict else ""
    rows = [
        [str(s.rank), s.model, f"{s.rating:.0f}", f"{s.ci_low:.0f}-{s.ci_high:.0f}", str(s.votes),
         str(s.wins), str(s.ties), str(s.losses)]
        for s in board.standings
    ]  # fmt: skip
    title = f"Arena leaderboard: {board.voter} votes ({board.n_votes}{excluded})"
    print_table(console, STANDING_COLUMNS, rows, title=title)
    console.print()
    n = len(board.models)
    # The opponents' columns give way from the last (lowest rated) one when the terminal is narrow.
    matrix_columns = (Column("model", "ident"),) + tuple(
        Column(f"vs {k + 1}", "keep", justify="right", drop=n - k) for k in range(n)
    )
    matrix = []
    for index, row in enumerate(board.models, start=1):
        cells = []
        for col in board.models:
            rate, games = board.win_rate[row][col], board.games[row][col]
            cells.append("-" if rate is None else f"{rate:.0%} ({games})")
        matrix.append([f"{index}. {row}", *cells])
    print_table(console, matrix_columns, matrix, title="Win rate of the row against the column (games)")
    console.print(board.position.describe(), highlight=False)
    console.print(
        f"Bradley-Terry, Elo scale (mean 1000); 95% intervals from {board.resamples} bootstrap "
        f"resamples (seed {board.seed}); rank: 1 + the models whose interval lies above.",
        style="dim",
        highlight=False,
    )
