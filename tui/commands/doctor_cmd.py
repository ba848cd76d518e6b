"""`duel doctor`: what duel sees on this machine, to read before filing a bug and to paste into it.

Exit 0 when everything needed is usable; exit 1 with one line per problem on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui.commands.cli_table import Column, print_table, width_rule
from tui.commands.options import add_weights_option

EXAMPLES = """examples:
  duel doctor                  the report, then "no problems found" or one line per problem
  duel doctor --json           the same as one JSON object (paste it into a bug report)
  duel doctor --weights plain  what that weights choice would do here
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check this machine: llama.cpp build, CPU, weight placement, memory, models, folders",
        description="Report what duel finds on this machine: llama-cpp-python and llama.cpp versions, CPU\n"
        "features and backends, GPU offload, how weights are placed and why, threads, free memory\n"
        "and which models fit, data folders, and the state of the bundled model files.",
        epilog=f"{EXAMPLES}\n{width_rule(MODEL_COLUMNS, 'the models table')}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the text report")
    parser.add_argument("--ctx", type=int, default=4096, metavar="N",
                        help="context size for the memory check of each model (4096)")
    add_weights_option(parser)
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from models.errors import DuelError
    from tui.doctor import gather

    if args.ctx < 16:
        raise DuelError("--ctx must be at least 16")
    report = gather(args.weights, args.ctx)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_text(report.sections)
        print("no problems found" if not report.problems else f"{len(report.problems)} problem(s):")
    for problem in report.problems:
        print(f"duel doctor: problem: {problem}", file=sys.stderr)
    return 1 if report.problems else 0


SECTION_COLUMNS = (Column("field", "keep", style="bold"), Column("value", min_width=24))
MODEL_COLUMNS = (
    Column("name", "ident"),
    Column("source", "keep", drop=2),
    Column("size", "keep", justify="right", drop=3),
    Column("needs", "keep", justify="right"),
    Column("fits", "keep"),
    Column("file", "fold", drop=1),
)


def _print_text(sections: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    for index, (name, section) in enumerate(sections.items()):
        if index:
            console.print()
        if name == "models":
            _print_models(console, section)
            continue
        # the JSON has the exact byte counts; the text the readable sizes
        rows = [[key, _text(value)] for key, value in section.items() if not key.endswith("_bytes")]
        print_table(console, SECTION_COLUMNS, rows, title=name, show_header=False)


def _print_models(console: Any, section: dict[str, Any]) -> None:
    from models.info import format_bytes

    rows = []
    for row in section["list"]:
        fits = {True: "yes", False: "NO"}.get(row.get("fits"), "?")
        state = row.get("sha256") or row.get("status") or ""
        rows.append([row["name"], row["source"], format_bytes(row.get("size_bytes")),
                     format_bytes(row.get("needs_bytes")), fits, state])
    title = f"models (memory for a {section['context_tokens']}-token context)"
    print_table(console, MODEL_COLUMNS, rows, title=title)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        bits = [str(value.get("path", ""))]
        if value.get("exists") is False:
            bits.append("(not created yet)")
        if value.get("writable") is False:
            bits.append("(NOT WRITABLE)")
        return " ".join(b for b in bits if b)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return "—" if value is None else str(value)
