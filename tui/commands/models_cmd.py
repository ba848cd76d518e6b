"""`duel models`: list, describe, register and forget GGUF models (hub search/pull live in hub_cmd)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from models.info import format_bytes
from tui.commands import hub_cmd
from tui.commands.cli_table import Column, print_table, width_rule

if TYPE_CHECKING:
    from models.info import ModelInfo

# `duel models`: the name is what -m takes, so it is never cut.
MODEL_COLUMNS = (
    Column("name", "ident"),
    Column("family", drop=5),
    Column("arch", "keep", drop=3),
    Column("params", "keep", justify="right", drop=8),
    Column("quant", "keep", drop=7),
    Column("size", "keep", justify="right", drop=6),
    Column("ctx", "keep", justify="right", drop=2),
    Column("template", "keep", drop=1),
    Column("source", "keep", drop=4),
)
# `duel models info`: GGUF metadata keys are names too.
METADATA_COLUMNS = (Column("key", "ident", style="bold"), Column("value"))
LIST_JSON_HELP = (
    'print the list as JSON, every field in full: [{"name": "smollm2-135m", "family": "SmolLM2", '
    '"architecture": "llama", "parameters": 134515008, "quantization": "Q4_1", "file_size": ..., '
    '"context_length": 8192, "has_chat_template": true, "source": "bundled", "status": null, '
    '"path": ..., ...}]'
)
MODELS_EXAMPLES = """examples:
  duel models                                   table of bundled and registered models
  duel models --json                            the same, as JSON
  duel models info qwen2.5-coder-0.5b           everything the GGUF header says about a model
  duel models info ./my/model.gguf --json
  duel models add ./Llama-3.2-1B-Instruct-Q4_K_M.gguf --name llama3.2-1b
  duel models remove llama3.2-1b                forget the name (the file stays on disk)
"""
INFO_EXAMPLES = """examples:
  duel models info smollm2-135m
  duel models info qwen2.5-coder-0.5b           (assembles the bundled file on first use)
  duel models info ./Llama-3.2-1B-Instruct-Q4_K_M.gguf --json
  duel models info smollm2-135m --template      print only the chat template
"""
ADD_EXAMPLES = """examples:
  duel models add ./Llama-3.2-1B-Instruct-Q4_K_M.gguf --name llama3.2-1b
  duel chat -m llama3.2-1b -m smollm2-135m "Hello"
"""
REMOVE_EXAMPLES = """examples:
  duel models remove llama3.2-1b                the GGUF file itself is not deleted
"""
LIST_EXAMPLES = """examples:
  duel models list
  duel models list --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel models` and its subcommands to `sub`."""
    raw = argparse.RawDescriptionHelpFormatter
    models = sub.add_parser(
        "models",
        help="list, describe, add and remove models",
        description="List the bundled and registered GGUF models; describe, add or remove one.",
        epilog=f"{MODELS_EXAMPLES}\n{width_rule(MODEL_COLUMNS)}",
        formatter_class=raw,
    )
    models.add_argument("--json", action="store_true", help=LIST_JSON_HELP)
    models.set_defaults(handler=cmd_list)
    models_sub = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    listing = models_sub.add_parser(
        "list", help="list bundled and registered models (the default)",
        epilog=f"{LIST_EXAMPLES}\n{width_rule(MODEL_COLUMNS)}",
        formatter_class=raw,
    )
    listing.add_argument("--json", action="store_true", help=LIST_JSON_HELP)
    listing.set_defaults(handler=cmd_list)

    info = models_sub.add_parser(
        "info",
        help="describe one model from its GGUF header",
        description="Describe a model (registered or bundled name, or a path to a .gguf) without loading it.",
        epilog=f"{INFO_EXAMPLES}\n{width_rule(METADATA_COLUMNS, 'the GGUF metadata table')}",
        formatter_class=raw,
    )
    info.add_argument("ref", metavar="NAME|PATH", help="model name or path to a .gguf file")
    info.add_argument("--json", action="store_true", help="print all fields and metadata as JSON")
    info.add_argument("--template", action="store_true", help="print only the chat template text")
    info.set_defaults(handler=cmd_info)

    add = models_sub.add_parser(
        "add",
        help="register a GGUF file under a name",
        description="Register a local GGUF file under a short name (the file is checked, not copied).",
        epilog=ADD_EXAMPLES,
        formatter_class=raw,
    )
    add.add_argument("path", metavar="PATH", help="path to a .gguf file")
    add.add_argument("--name", required=True, help="the name to use with -m NAME")
    add.set_defaults(handler=cmd_add)

    remove = models_sub.add_parser(
        "remove",
        help="forget a registered model (the file is kept)",
        description="Remove a name from the registry. The GGUF file is never deleted.",
        epilog=REMOVE_EXAMPLES,
        formatter_class=raw,
    )
    remove.add_argument("name", metavar="NAME", help="a registered model name")
    remove.set_defaults(handler=cmd_remove)

    hub_cmd.register(models_sub)


# --- formatting -----------------------------------------------------------------------------------


def _source_label(info: ModelInfo) -> str:
    return f"{info.source} ({info.status})" if info.status else info.source


def _short_value(value: Any, limit: int = 80) -> str:
    text = str(value)
    first_line = text.splitlines()[0] if text else ""
    if len(text) <= limit and "\n" not in text:
        return text
    return f"{first_line[:limit]}... ({len(text)} chars)"


# --- handlers -------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console

    from models.resolve import list_models

    models = list_models()
    if args.json:
        print(json.dumps([m.to_json() for m in models], indent=2))
        return 0
    notes = []
    rows = []
    for m in models:
        if m.status:
            hint = " (done on first use)" if m.status in ("not assembled yet", "not verified yet") else ""
            notes.append(f"* {m.name}: {m.status}{hint}")
        rows.append(
            [
                m.name + (" *" if m.status else ""),
                m.family,
                m.architecture,
                m.parameters_label(),
                m.quantization or "?",
                format_bytes(m.file_size or None),
                str(m.context_length or "?"),
                "yes" if m.has_chat_template else "no",
                m.source,
            ]
        )
    console = Console()
    print_table(console, MODEL_COLUMNS, rows, title="Models")
    for note in notes:
        console.print(note, highlight=False)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from rich.console import Console

    from models.errors import DuelError
    from models.gguf_reader import jsonable_metadata
    from models.progress import console_progress
    from models.resolve import resolve

    with console_progress(transient=True) as progress:
        info = resolve(args.ref, progress=progress)
    if args.template:
        if not info.chat_template:
            raise DuelError(f"{info.name} has no chat template in its GGUF header")
        print(info.chat_template)
        return 0
    if args.json:
        data = info.to_json()
        data["metadata"] = jsonable_metadata(info.metadata)
        print(json.dumps(data, indent=2, default=str))
        return 0
    params = f"{info.parameters_label()} ({info.parameters:,})" if info.parameters else "?"
    template = "no"
    if info.chat_template:
        template = f"yes ({len(info.chat_template)} chars; duel models info {args.ref} --template)"
    fields = [
        ("name", info.name),
        ("header name", info.display_name or "?"),
        ("family", info.family),
        ("architecture", info.architecture),
        ("parameters", params),
        ("quantization", info.quantization or "?"),
        ("context length", str(info.context_length or "?")),
        ("file size", f"{format_bytes(info.file_size or None)} ({info.file_size:,} bytes)"),
        ("chat template", template),
        ("licence", info.license or "not stated"),
        ("source", _source_label(info)),
        ("path", str(info.path) if info.path else "-"),
        ("sha256", info.sha256 or "not computed"),
    ]
    console = Console()
    # The value column is at least as wide as the name, so the name row shows it whole.
    field_columns = (Column("field", "keep", style="bold"), Column("value", min_width=len(info.name)))
    print_table(console, field_columns, fields, title=info.name, show_header=False)
    metadata = [(key, _short_value(value)) for key, value in info.metadata.items()]
    print_table(console, METADATA_COLUMNS, metadata, title="GGUF metadata")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from models import registry

    info = registry.add(args.path, args.name)
    print(
        f"registered {info.name} -> {info.path} ({info.family}, {info.architecture}, "
        f"{info.parameters_label()} parameters, {info.quantization or '?'})"
    )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from models import registry

    entry = registry.remove(args.name)
    print(f"removed {args.name} from the registry; the file {entry.path} was left in place")
    return 0
