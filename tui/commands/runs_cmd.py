"""`duel runs`: past benchmark runs (id, date, models, suites, items, status)."""

from __future__ import annotations

import argparse
import json

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
        epilog=RUNS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    runs.add_argument("--json", action="store_true", help="print the list as JSON")
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
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Benchmark runs", title_justify="left", box=box.SIMPLE)
    for column in ("id", "date", "status", "models", "suites", "items", "settings"):
        table.add_column(column, justify="right" if column in ("id", "items") else "left", overflow="fold")
    for row in rows:
        status = {"complete": "[green]complete[/green]", "running": "[cyan]running[/cyan]"}.get(
            row["status"], "[yellow]partial[/yellow]"
        )
        settings = f"{row['method']}, limit {row['limit'] or 'all'}, seed {row['seed']}"
        if row["shots"]:
            settings += f", {row['shots']}-shot"
        table.add_row(
            str(row["id"]),
            row["created_at"].replace("T", " ")[:19],
            status,
            ", ".join(row["models"]),
            ", ".join(row["suites"]),
            str(row["items_done"]),
            settings,
        )
    Console().print(table)
    return 0
