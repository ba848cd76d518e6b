"""`duel suites`: list built-in and imported suites; `duel suites import`: bring in a public data set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tui.commands.cli_table import Column, print_table, width_rule

# `duel suites`: the suite name is what `duel bench` takes, so it is never cut.
SUITE_COLUMNS = (
    Column("suite", "ident"),
    Column("task", drop=6),
    Column("items", "keep", justify="right", drop=5),
    Column("metric", drop=4),
    Column("labels", drop=2),
    Column("source", drop=3),
    Column("version", "keep", drop=1),
)
SUITES_EXAMPLES = """examples:
  duel suites                                   built-in and imported suites: task, items, metric, source
  duel suites --json
  duel suites import Tweets.csv --as airline --task classify --text-col text --label-col airline_sentiment
  duel suites import ./tweeteval/sentiment --as tweeteval --task classify --limit 300 --seed 1
  duel suites import test.jsonl --as gsm8k --task math --limit 100
  duel suites import high_school_physics_test.csv --as mmlu-physics --task mc
  duel suites import mmlu-test.parquet --as mmlu --task mc --limit 200
  duel suites import news.xlsx --as news --task summarize --text-col content --summary-col human_summary
"""
IMPORT_EXAMPLES = """formats:
  classify   Kaggle Tweets.csv (text, airline_sentiment); TweetEval folder or *_text.txt with
             *_labels.txt and mapping.txt; any CSV/TSV/JSONL/parquet/XLSX with --text-col/--label-col
  mc         MMLU CSV without header (question, A, B, C, D, answer letter); cais/mmlu parquet or JSONL
             (question, subject, choices, answer index or letter)
  math       GSM8K JSONL (question, answer ending in '#### N'); any table with --text-col/--label-col
  summarize  CSV/XLSX/JSONL/parquet with --text-col (article) and --summary-col (reference summary)

examples:
  duel suites import Tweets.csv --as airline --task classify --text-col text --label-col airline_sentiment
  duel suites import Tweets.csv --as airline-small --task classify --limit 200 --seed 0
  duel suites import reviews.jsonl --as reviews --task classify --labels positive,negative
  duel suites import news.csv --as news --task summarize --text-col content --summary-col human_summary
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel suites` and `duel suites import`."""
    raw = argparse.RawDescriptionHelpFormatter
    suites = sub.add_parser(
        "suites",
        help="list benchmark suites; import public data sets",
        description="List the built-in and imported benchmark suites.",
        epilog=f"{SUITES_EXAMPLES}\n{width_rule(SUITE_COLUMNS)}",
        formatter_class=raw,
    )
    suites.add_argument(
        "--json",
        action="store_true",
        help='print the list as JSON, every field in full: [{"name": "sentiment", "task": "classify", '
        '"items": 150, "metric": "accuracy", "labels": [...], "source": "built-in", "version": ..., ...}]',
    )
    suites.set_defaults(handler=cmd_list)
    suites_sub = suites.add_subparsers(dest="suites_command", metavar="SUBCOMMAND")
    imp = suites_sub.add_parser(
        "import",
        help="import a suite from a public data set file",
        description="Import a data set file as a suite stored in duel's data folder.",
        epilog=IMPORT_EXAMPLES,
        formatter_class=raw,
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="data file (or TweetEval folder)")
    imp.add_argument("--as", dest="name", required=True, metavar="NAME", help="name of the new suite")
    imp.add_argument("--task", required=True, choices=("classify", "mc", "math", "summarize"))
    imp.add_argument("--text-col", metavar="COL", help="column with the text / question / article")
    imp.add_argument("--label-col", metavar="COL", help="column with the label / answer")
    imp.add_argument("--summary-col", metavar="COL", help="column with the reference summary")
    imp.add_argument("--labels", metavar="A,B,C", help="the allowed labels; any other label is an error")
    imp.add_argument("--limit", type=int, metavar="N", help="keep N items, stratified by label")
    imp.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the --limit sample (default 0)"
    )
    imp.set_defaults(handler=cmd_import)


def cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console

    from benchmarks.export import METRIC_LABELS
    from benchmarks.suites import TASK_LABEL, Suite, list_suites

    entries = list_suites()
    if args.json:
        out = []
        for entry in entries:
            manifest = entry.manifest if isinstance(entry, Suite) else entry
            data = manifest.to_json()
            data["items"] = len(entry.items) if isinstance(entry, Suite) else None
            data["version"] = entry.content_version if isinstance(entry, Suite) else manifest.version
            out.append(data)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    rows = []
    for entry in entries:
        manifest = entry.manifest if isinstance(entry, Suite) else entry
        rows.append(
            [
                manifest.name,
                TASK_LABEL.get(manifest.task, manifest.task),
                str(len(entry.items)) if isinstance(entry, Suite) else "missing",
                METRIC_LABELS.get(manifest.metric, manifest.metric),
                ", ".join(manifest.labels) or "—",
                manifest.source,
                entry.content_version if isinstance(entry, Suite) else manifest.version,
            ]
        )
    print_table(Console(), SUITE_COLUMNS, rows, title="Benchmark suites")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from benchmarks.importers import ImportRequest, import_suite

    labels = tuple(x.strip() for x in args.labels.split(",") if x.strip()) if args.labels else None
    suite = import_suite(
        ImportRequest(
            path=args.file.expanduser(),
            name=args.name,
            task=args.task,
            text_col=args.text_col,
            label_col=args.label_col,
            summary_col=args.summary_col,
            labels=labels,
            limit=args.limit,
            seed=args.seed,
        )
    )
    label_info = f", labels: {', '.join(suite.labels)}" if suite.labels else ""
    print(
        f"imported {len(suite.items)} items as suite '{suite.name}' ({suite.task}{label_info}) "
        f"-> {suite.path.parent}"
    )
    print(f"run it: duel bench {suite.name} -m MODEL_A -m MODEL_B")
    return 0
