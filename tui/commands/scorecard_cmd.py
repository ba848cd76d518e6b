"""`duel scorecard RUN_ID|last`: export a run's scorecard as Markdown, CSV, JSON or HTML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCORECARD_EXAMPLES = """examples:
  duel scorecard last                            Markdown on the terminal
  duel scorecard last --format md -o card.md
  duel scorecard 3 --format html -o card.html    one self-contained page
  duel scorecard 3 --format json -o card.json    includes every per-item result (re-score it yourself)
  duel scorecard 3 -o card.csv                   format taken from the file suffix
"""
SUFFIX_FORMATS = {
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel scorecard`."""
    card = sub.add_parser(
        "scorecard",
        help="export the scorecard of a benchmark run",
        description="Export a run's scorecard: metrics with 95%% intervals, costs and head-to-head tests.",
        epilog=SCORECARD_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    card.add_argument("run", metavar="RUN_ID|last", help="run id from `duel runs`, or 'last'")
    card.add_argument("--format", choices=("md", "csv", "json", "html"), help="output format (default md)")
    card.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    card.set_defaults(handler=cmd_scorecard)


def cmd_scorecard(args: argparse.Namespace) -> int:
    from benchmarks.export import export_scorecard, render
    from benchmarks.scorecard import build_scorecard
    from models.errors import DuelError

    fmt = args.format
    if fmt is None and args.output is not None:
        fmt = SUFFIX_FORMATS.get(args.output.suffix.lower())
        if fmt is None:
            raise DuelError(
                f"cannot tell the format from '{args.output.name}': pass --format md|csv|json|html"
            )
    fmt = fmt or "md"
    card = build_scorecard(args.run)
    if args.output is None:
        sys.stdout.write(render(card, fmt))
        return 0
    path = export_scorecard(card, fmt, args.output.expanduser())
    print(f"wrote {fmt} scorecard of run {card.run['id']} to {path}")
    return 0
