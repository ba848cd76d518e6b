"""`duel scorecard RUN_ID|last`: a run's scorecard as terminal tables, Markdown, CSV, JSON or HTML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.results import METRIC_CHOICES
from tui.commands.cli_table import Column, width_rule

if TYPE_CHECKING:
    from benchmarks.scorecard import Scorecard

# The terminal scorecard (here and at the end of `duel bench`): one table per suite; the model
# reference (what -m took) is never cut.
SCORE_COLUMNS = (
    Column("model", "ident"),
    Column("score", "keep", justify="right"),
    Column("95% CI", "keep", justify="right", drop=5),
    Column("n", "keep", justify="right", drop=3),
    Column("fail", "keep", justify="right", drop=4),
    Column("s/item", "keep", justify="right", drop=2),
    Column("tok/s", "keep", justify="right", drop=1),
)

SCORECARD_EXAMPLES = """examples:
  duel scorecard last                            tables on a terminal; Markdown when piped or redirected
  duel scorecard last --json                     {"run": {...}, "models": [...], "results": [{"suite": ...,
                                                 "model": ..., "value": ..., ...}], "head_to_head": [...],
                                                 "items": [...]} on stdout: every field in full
  duel scorecard last --format md -o card.md
  duel scorecard 3 --format html -o card.html    one self-contained page
  duel scorecard 3 --format json -o card.json    every per-item result with the exact text sent, the
                                                 options and log-probabilities (re-score it yourself)
  duel scorecard 3 -o items.items.csv            one row per item and model (also --format items-csv)
  duel scorecard 3 -o card.csv                   format taken from the file suffix
  duel scorecard 3 --metric accuracy             lead with accuracy even where classes are imbalanced

The headline metric is the suite's, except that a classification suite whose largest class has
more than 1.5x the items of its smallest leads with macro-F1 (--metric auto, the default).
Classification and multiple-choice rows say whether each model beats always answering the most
frequent answer (one-sided exact binomial test, alpha 0.05).
"""
# -o FILE.items.csv: the per-item CSV; the other suffixes as every report command reads them.
ITEMS_SUFFIX = {".items.csv": "items-csv"}


def add_metric_option(parser: argparse.ArgumentParser) -> None:
    """`--metric`, shared by `duel scorecard` and `duel bench` (its closing scorecard)."""
    parser.add_argument(
        "--metric",
        choices=METRIC_CHOICES,
        default=METRIC_CHOICES[0],
        help="headline metric where a suite has it (default auto: the suite's own, macro-F1 for an "
        "imbalanced classification suite); head-to-head tests follow it",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel scorecard`."""
    card = sub.add_parser(
        "scorecard",
        help="export the scorecard of a benchmark run",
        description="Export a run's scorecard: metrics with 95%% intervals, costs and head-to-head tests.",
        epilog=f"{SCORECARD_EXAMPLES}\n{width_rule(SCORE_COLUMNS, 'the terminal scorecard')}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    card.add_argument("run", metavar="RUN_ID|last", help="run id from `duel runs`, or 'last'")
    card.add_argument(
        "--format",
        choices=("table", "md", "csv", "json", "html", "items-csv"),
        help="output format (default: table on a terminal, md when piped or with -o FILE.md); items-csv: "
        "one row per item and model",
    )
    add_metric_option(card)
    card.add_argument(
        "--json", action="store_true", help="the same as --format json: the whole scorecard as JSON on stdout"
    )
    card.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    card.set_defaults(handler=cmd_scorecard)


def cmd_scorecard(args: argparse.Namespace) -> int:
    from benchmarks.export import export_scorecard, render
    from benchmarks.scorecard import build_scorecard
    from models.errors import DuelError
    from tui.commands.cli_support import SUFFIX_FORMATS, choose_format

    suffixes = {**ITEMS_SUFFIX, **SUFFIX_FORMATS}
    fmt = choose_format(args.format, args.output, as_json=args.json, suffixes=suffixes)
    card = build_scorecard(args.run, metric=args.metric)
    if card.unused_metric:
        raise DuelError(card.unused_metric)
    if fmt == "table":
        _print_tables(card)
        return 0
    if args.output is None:
        sys.stdout.write(render(card, fmt))
        return 0
    path = export_scorecard(card, fmt, args.output.expanduser())
    print(f"wrote {fmt} scorecard of run {card.run['id']} to {path}")
    return 0


def _print_tables(card: Scorecard) -> None:
    from rich.console import Console

    from tui.commands.bench_view import print_scorecard

    console = Console()
    print_scorecard(console, card)
    more = f"every field: duel scorecard {card.run['id']} --json; a file: -o FILE.md|csv|json|html|items.csv"
    console.print(more, style="dim", highlight=False)
