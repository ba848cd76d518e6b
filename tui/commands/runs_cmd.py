"""`duel runs`: past benchmark runs (id, date, models, suites, items, status)."""

from __future__ import annotations

import argparse
import json

from tui.commands.cli_table import Column, print_table, width_rule

# `duel runs`: the run id is what `duel scorecard` takes; model and suite names stay whole too (a
# run's models go one per line when the column is narrow, never split inside a name).
RUN_COLUMNS = (
    Column("id", "ident", justify="right"),
    Column("date", min_width=10, drop=2),  # "2026-11-27 14:48" folds at the space
    Column("status", "keep", drop=4),
    Column("models", "ident"),
    Column("suites", "ident"),
    Column("items", "keep", justify="right", drop=3),
    Column("settings", drop=1),
)
RUNS_EXAMPLES = """examples:
  duel runs                                      newest first; status is complete, partial or running
  duel runs --json
  duel scorecard last --format md -o card.md     the scorecard of the newest run
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel runs`."""
    runs = sub.add_parser(
        "runs",
        help="list past benchmark runs",
        description="List past benchmark runs, newest first.",
        epilog=f"{RUNS_EXAMPLES}\n{width_rule(RUN_COLUMNS)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    runs.add_argument(
        "--json",
        action="store_true",
        help='print the list as JSON, every field in full: [{"id": 2, '
        '"created_at": "2026-11-27T14:48:49+00:00", "status": "complete", '
        '"models": ["qwen2.5-coder-0.5b", "smollm2-135m"], "suites": ["sentiment"], '
        '"items_done": 80, "method": "loglik", "limit": 40, "seed": 0, ...}]',
    )
    runs.set_defaults(handler=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    from benchmarks.store import ResultsStore

    with ResultsStore() as store:
        rows = []
        for run in store.list_runs():
            cfg = run.config
            rows.append(
                {
                    "id": run.id,
                    "created_at": run.created_at,
                    "updated_at": run.updated_at,
                    "status": run.display_status,
                    "models": cfg.get("models", []),
                    "suites": cfg.get("suites", []),
                    "items_done": store.count_run_items(run.id),
                    "method": cfg.get("method"),
                    "limit": cfg.get("limit"),
                    "seed": cfg.get("seed"),
                    "shots": cfg.get("shots"),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no runs yet: start one with `duel bench SUITE -m MODEL_A -m MODEL_B`")
        return 0
    from rich.console import Console
    from rich.text import Text

    table = []
    for row in rows:
        style = {"complete": "green", "running": "cyan"}.get(row["status"], "yellow")
        status = Text(row["status"], style=style)
        settings = f"{row['method']}, limit {row['limit'] or 'all'}, seed {row['seed']}"
        if row["shots"]:
            settings += f", {row['shots']}-shot"
        table.append(
            [
                str(row["id"]),
                row["created_at"].replace("T", " ")[:16],
                status,
                row["models"],
                row["suites"],
                str(row["items_done"]),
                settings,
            ]
        )
    print_table(Console(), RUN_COLUMNS, table, title="Benchmark runs")
    return 0
