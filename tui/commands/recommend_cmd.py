"""`duel recommend`: which model to use per task, from the runs and chats measured on this machine."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from tui.commands.cli_table import Column, print_table, width_rule

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from benchmarks.recommend import TaskRecommendation

TASK_CHOICES = ("classify", "mc", "math", "summarize", "chat")  # benchmarks.recommend.TASKS (a test checks)

# One table per task; the model reference (what -m takes) is never cut.
RECOMMEND_COLUMNS = (
    Column("rank", "keep", justify="right"),
    Column("model", "ident"),
    Column("quality", "keep", justify="right"),
    Column("95% CI", "keep", justify="right", drop=4),
    Column("n", "keep", justify="right", drop=2),
    Column("tok/s", "keep", justify="right"),
    Column("peak RSS", "keep", justify="right", drop=5),
    Column("size GB", "keep", justify="right", drop=3),
    Column("why", min_width=16, drop=1),
)
COST_COLUMN = Column("$/1M tok", "keep", justify="right", drop=6)

RECOMMEND_EXAMPLES = """examples:
  duel recommend                                 every task with stored results
  duel recommend --task classify --max-memory 1 --min-tok-s 20
  duel recommend --task summarize --price-per-hour 0.40     adds the cost per 1M generated tokens
  duel recommend --task classify --suite airline            compare on that suite
  duel recommend --json                          [{"task": "classify", "suite": "sentiment", "metric":
                                                 "accuracy", "verdict": "...", "candidates": [{"model":
                                                 ..., "quality": ..., "rank": 1, ...}], ...}]

How: per task, models whose peak memory or speed break a limit are left out (with the reason); the
rest are ranked by the scorecard's headline metric, and models whose difference is not significant
(alpha 0.05) share a rank ("1=") with the number of items that would settle it at 80% power; within
a tie, the faster and smaller model comes first. Results are combined only across runs with the
same suite version and settings, on the items every model answered. tok/s: generated tokens per
second over every benchmark answer and chat reply duel timed; cost = price / (3600 x tok/s) x 1e6.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel recommend`."""
    rec = sub.add_parser(
        "recommend",
        help="which model to use per task, from stored runs and measured speed and memory",
        description="Rank the models per task from the benchmark runs and chats stored on this machine.",
        epilog=f"{RECOMMEND_EXAMPLES}\n{width_rule(RECOMMEND_COLUMNS)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rec.add_argument("--task", choices=TASK_CHOICES, help="one task (default: every task with results)")
    rec.add_argument(
        "--suite", metavar="NAME", help="compare on this suite (default: the one most models ran)"
    )
    rec.add_argument(
        "--max-memory", type=float, metavar="GB",
        help="leave out models whose peak RSS is over GB (1e9 bytes)",
    )
    rec.add_argument(
        "--min-tok-s", type=float, metavar="N", help="leave out models generating under N tokens/s"
    )
    rec.add_argument(
        "--price-per-hour", type=float, metavar="USD",
        help="the machine's price per hour: adds the cost per 1M generated tokens",
    )
    rec.add_argument("--json", action="store_true", help="every field of every task as JSON")
    rec.set_defaults(handler=cmd_recommend)


def chat_timings() -> dict[str, tuple[int, float, int]]:
    """Generation timings of saved chat replies per model reference (none when there is no history)."""
    from models.paths import conversations_db_file
    from tui.conversation_store import ConversationStore

    if not conversations_db_file().exists():
        return {}
    store = ConversationStore()
    try:
        return store.reply_timings()
    finally:
        store.close()


def cmd_recommend(args: argparse.Namespace) -> int:
    from benchmarks.recommend import TASKS, Constraints, recommend
    from benchmarks.store import ResultsStore
    from models.errors import DuelError

    for name, value in (("--max-memory", args.max_memory), ("--min-tok-s", args.min_tok_s),
                        ("--price-per-hour", args.price_per_hour)):
        if value is not None and value <= 0:
            raise DuelError(f"{name} must be more than 0")
    limits = Constraints(args.max_memory, args.min_tok_s, args.price_per_hour)
    tasks = (args.task,) if args.task else TASKS
    with ResultsStore() as store:
        suites = [args.suite] if args.suite else None
        recs = recommend(store, tasks, limits, suites=suites, chat=chat_timings())
    if args.json:
        print(json.dumps([r.to_json() for r in recs], indent=2, ensure_ascii=False))
        return 0
    if not recs:
        what = f"for {args.task}" if args.task else "yet"
        where = f" on suite {args.suite}" if args.suite else ""
        print(f"nothing to recommend {what}{where}: run `duel bench SUITE -m MODEL_A -m MODEL_B` first")
        return 0
    from rich.console import Console

    console = Console()
    for rec in recs:
        print_recommendation(console, rec, priced=args.price_per_hour is not None)
    return 0


def _cells(rec: TaskRecommendation, priced: bool) -> list[list[Any]]:
    from rich.text import Text

    from benchmarks.export import format_value

    rows = []
    for c in rec.candidates:
        ci = "—" if c.ci_low is None or c.ci_high is None else f"{c.ci_low:.2f}–{c.ci_high:.2f}"
        why = Text("left out", style="yellow") if c.filtered else c.reason
        cost = [format_value(c.cost_per_1m, 2)] if priced else []
        rows.append(
            [
                c.rank_label,
                c.model,
                format_value(c.quality),
                ci,
                str(c.items) if c.items else "—",
                format_value(c.tok_s, 1),
                f"{c.peak_rss_mb:.0f} MiB" if c.peak_rss_mb else "—",
                format_value(c.file_size_gb),
                *cost,
                why,
            ]
        )
    return rows


def recommendation_table(
    rec: TaskRecommendation, priced: bool = False
) -> tuple[list[Column], list[list[Any]], str]:
    """(columns, rows, title) of one task's table, for the CLI and the scorecard screen alike."""
    from benchmarks.export import METRIC_LABELS

    metric = METRIC_LABELS.get(rec.metric or "", rec.metric or "no quality score")
    where = ""
    if rec.suite:
        runs = ", ".join(map(str, rec.runs))
        where = f" on {rec.suite} ({rec.settings.get('method')}, {rec.items} items, runs {runs})"
    columns = list(RECOMMEND_COLUMNS)
    if priced:
        columns.insert(-1, COST_COLUMN)
    return columns, _cells(rec, priced), f"{rec.task}{where} — {metric}"


def recommendation_lines(rec: TaskRecommendation) -> list[Text]:
    """What follows the table: who was left out and why, the verdict, the headline's reason, notes."""
    from rich.text import Text

    lines = [Text(f"left out: {c.model}: {c.filtered}", style="yellow") for c in rec.candidates if c.filtered]
    lines.append(Text(rec.verdict, style="bold"))
    if rec.metric_reason.startswith("classes imbalanced"):
        lines.append(Text(f"headline: {rec.metric_reason}", style="dim"))
    lines += [Text(note, style="dim") for note in rec.notes]
    return lines


def print_recommendation(console: Console, rec: TaskRecommendation, priced: bool = False) -> None:
    """One task's table (through cli_table), then its lines, indented."""
    from rich.padding import Padding

    columns, rows, title = recommendation_table(rec, priced)
    print_table(console, columns, rows, title=title, more="duel recommend --json has every field")
    for line in recommendation_lines(rec):
        console.print(Padding(line, (0, 0, 0, 2), expand=False))
    console.print()
