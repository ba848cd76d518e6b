"""`duel leaderboard`: Bradley-Terry ratings of the arena votes, with 95% intervals and win rates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from benchmarks.arena.leaderboard import Leaderboard

EXAMPLES = """examples:
  duel leaderboard                                   human votes, a table on the terminal
  duel leaderboard --voter judge:qwen2.5-coder-0.5b  the votes of one judge model
  duel leaderboard --voter all --format md -o board.md
  duel leaderboard --format html -o board.html       one self-contained page with a chart
  duel leaderboard --format json | jq '.standings[0]'

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
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    board.add_argument("--format", choices=("md", "csv", "json", "html"), help="output format")
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
    from tui.commands.scorecard_cmd import output_format

    if args.resamples < 1000:
        raise DuelError("--resamples must be at least 1000 (fewer make the 95% interval ends unstable)")
    fmt = output_format(args.format, args.output)
    try:
        board = build_leaderboard(args.voter, resamples=args.resamples, seed=args.seed)
    except NoVotesError as exc:
        print(str(exc))
        return 0
    if args.output is not None:
        path = write(board, fmt or "md", args.output.expanduser())
        print(f"wrote the {fmt or 'md'} leaderboard ({board.n_votes} votes from {board.voter}) to {path}")
    elif fmt is not None:
        sys.stdout.write(render(board, fmt))
    else:
        print_leaderboard(board)
    return 0


def print_uncut(console: Console, table: Table) -> None:
    """Print a table without cutting a model name: wider than the terminal if it must be.

    rich shrinks every column, no_wrap ones included, when a table is wider than the console; a
    model name cut to "qwen2.5-cod…" is useless, so the table gets the width it needs (the terminal
    then wraps its lines) rather than lose characters. (Issue 14 brings a shared helper for this.)
    """
    from rich.console import Console
    from rich.measure import Measurement

    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if needed <= console.width:
        console.print(table)
        return
    wide = Console(
        file=console.file, width=needed, force_terminal=console.is_terminal, no_color=console.no_color
    )
    wide.print(table)


def print_leaderboard(board: Leaderboard) -> None:
    """The standings and the win-rate matrix as rich tables (model names are never cut)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    excluded = f", {board.no_verdict} unreadable judge verdicts left out" if board.no_verdict else ""
    table = Table(
        title=f"Arena leaderboard — {board.voter} votes ({board.n_votes}{excluded})",
        title_justify="left",
        box=box.SIMPLE,
    )
    table.add_column("rank", justify="right")
    table.add_column("model", no_wrap=True)
    for name in ("rating", "95% CI", "votes", "wins", "ties", "losses"):
        table.add_column(name, justify="right", no_wrap=True)
    for s in board.standings:
        table.add_row(
            str(s.rank),
            s.model,
            f"{s.rating:.0f}",
            f"{s.ci_low:.0f} – {s.ci_high:.0f}",
            str(s.votes),
            str(s.wins),
            str(s.ties),
            str(s.losses),
        )
    print_uncut(console, table)
    matrix = Table(
        title="Win rate of the row against the column (games)", title_justify="left", box=box.SIMPLE
    )
    matrix.add_column("", no_wrap=True)
    for index in range(len(board.standings)):
        matrix.add_column(f"vs {index + 1}", justify="right", no_wrap=True)
    for index, row in enumerate(board.models, start=1):
        cells = []
        for col in board.models:
            rate, games = board.win_rate[row][col], board.games[row][col]
            cells.append("—" if rate is None else f"{rate:.0%} ({games})")
        matrix.add_row(f"{index}. {row}", *cells)
    print_uncut(console, matrix)
    console.print(board.position.describe(), highlight=False)
    console.print(
        f"[dim]Bradley-Terry, Elo scale (mean 1000); 95% intervals from {board.resamples} bootstrap "
        f"resamples (seed {board.seed}). Rank 1 + models clearly above.[/dim]"
    )
