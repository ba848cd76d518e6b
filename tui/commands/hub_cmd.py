"""`duel models search` and `duel models pull`: GGUF models from the Hugging Face hub."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from tui.commands.cli_table import Column, print_table, width_rule

if TYPE_CHECKING:
    from models.catalog import Family
    from models.hub import SearchHit

# `duel models search`: the repo id is what `duel models pull` takes, so it is never cut.
SEARCH_COLUMNS = (
    Column("repo", "ident"),
    Column("files", "keep", justify="right", drop=1),
    Column("quants", drop=4),
    Column("sizes", justify="right", drop=3),
    Column("downloads", "keep", justify="right", drop=2),
)

SEARCH_EXAMPLES = """examples:
  duel models search qwen2.5 1.5b instruct gguf
  duel models search llama 3.2 --limit 5
  duel models search mistral --json
  HF_ENDPOINT=https://hf-mirror.example duel models search phi   (any hub mirror)
"""
PULL_EXAMPLES = """examples:
  duel models pull Qwen/Qwen2.5-1.5B-Instruct-GGUF --quant Q4_K_M
  duel models pull hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf
  duel models pull hf:Qwen/Qwen2.5-7B-Instruct-GGUF:Q4_K_M --name qwen2.5-7b
  duel chat -m hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf -m smollm2-135m

Files go to DUEL_HOME/data/models/hf/OWNER/REPO/ (the platform data dir without DUEL_HOME). An
interrupted pull continues where it stopped when run again. Gated repos (Llama, Gemma) need
HF_TOKEN set to a read token after accepting the licence on the hub.
"""


def register(models_sub: argparse._SubParsersAction) -> None:
    """Add `search` and `pull` to the `duel models` subparsers."""
    raw = argparse.RawDescriptionHelpFormatter
    search = models_sub.add_parser(
        "search",
        help="search the Hugging Face hub for GGUF models",
        description="Search the hub for GGUF repos: files, quantizations, sizes, downloads. "
        "Known model families are suggested too (also when offline).",
        epilog=f"{SEARCH_EXAMPLES}\n{width_rule(SEARCH_COLUMNS)}",
        formatter_class=raw,
    )
    search.add_argument("words", nargs="+", metavar="WORD", help="words the repo name must contain")
    search.add_argument("--limit", type=int, default=10, help="at most this many repos (default 10)")
    search.add_argument(
        "--json",
        action="store_true",
        help='print results as JSON: {"results": [{"repo": "OWNER/REPO", "downloads": 1234, "likes": 5, '
        '"gated": false, "models": [{"quant": "Q4_K_M", "size": ..., "files": [...], "ref": "hf:..."}]}], '
        '"suggestions": [...], "offline": null}',
    )
    search.set_defaults(handler=cmd_search)

    pull = models_sub.add_parser(
        "pull",
        help="download a GGUF model from the Hugging Face hub",
        description="Download a GGUF model (all parts of a split model) and register it by name.",
        epilog=PULL_EXAMPLES,
        formatter_class=raw,
    )
    pull.add_argument(
        "ref", metavar="REPO|hf:REF", help="OWNER/REPO, hf:OWNER/REPO/FILE.gguf or hf:OWNER/REPO:QUANT"
    )
    pull.add_argument("--quant", help="quantization to pick from the repo, e.g. Q4_K_M (default: Q4_K_M)")
    pull.add_argument("--name", help="register under this name (default: from the file name)")
    pull.add_argument("--no-register", action="store_true", help="download only; do not register a name")
    pull.set_defaults(handler=cmd_pull)


# --- search -------------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    from models import catalog, hub
    from models.errors import DuelError

    if args.limit < 1:
        raise DuelError("--limit must be at least 1")
    families = catalog.suggest(args.words)
    offline_reason = None
    try:
        hits = hub.search(args.words, limit=args.limit)
    except hub.HubOfflineError as exc:
        if not families:
            raise
        hits, offline_reason = [], str(exc)
    if args.json:
        print(
            json.dumps(
                {
                    "results": [_hit_json(h) for h in hits],
                    "suggestions": [_family_json(f) for f in families],
                    "offline": offline_reason,
                },
                indent=2,
            )
        )
        return 0
    _print_search(args.words, hits, families, offline_reason)
    return 0


def _hit_json(hit: SearchHit) -> dict:
    return {
        "repo": hit.repo_id,
        "downloads": hit.downloads,
        "likes": hit.likes,
        "gated": hit.gated,
        "models": [
            {
                "quant": m.quant,
                "size": m.size,
                "files": [f.path for f in m.files],
                "ref": f"hf:{hit.repo_id}/{m.first.path}",
            }
            for m in hit.models
        ],
    }


def _family_json(family: Family) -> dict:
    return {
        "family": family.name,
        "publisher": family.publisher,
        "sizes": list(family.sizes),
        "license": family.license,
        "context": family.context,
        "gguf_repos": list(family.gguf_repos),
        "notes": family.notes,
    }


def _size_range(hit: SearchHit) -> str:
    from models.info import format_bytes

    sizes = [m.size for m in hit.models if m.size is not None]
    if not sizes:
        return "?" if hit.models else "-"
    low, high = min(sizes), max(sizes)
    return format_bytes(low) if low == high else f"{format_bytes(low)} - {format_bytes(high)}"


def _print_search(
    words: list[str], hits: list[SearchHit], families: list[Family], offline: str | None
) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console()
    if offline:
        console.print(f"[yellow]hub not reachable[/]: {offline}", highlight=False)
    elif not hits:
        console.print(f"No GGUF repos on the hub match {' '.join(words)!r}.", highlight=False)
    if hits:
        rows = [
            [
                Text.assemble(hit.repo_id, (" (gated)", "yellow") if hit.gated else ""),
                str(len(hit.files)),
                " ".join(hit.quants) or "-",
                _size_range(hit),
                f"{hit.downloads:,}",
            ]
            for hit in hits
        ]
        print_table(console, SEARCH_COLUMNS, rows, title=f"GGUF repos matching {' '.join(words)!r}")
        console.print("pull one with: duel models pull REPO --quant Q4_K_M", highlight=False)
    for family in families:
        console.print(
            f"[bold]{family.name}[/] ({family.publisher}): sizes {', '.join(family.sizes)}; "
            f"licence {family.license}; context {family.context:,} tokens",
            highlight=False,
        )
        if family.gguf_repos:
            console.print("  GGUF repos: " + ", ".join(family.gguf_repos), highlight=False)
        if family.notes:
            console.print(f"  {family.notes}", highlight=False)


# --- pull ---------------------------------------------------------------------------------------


def cmd_pull(args: argparse.Namespace) -> int:
    from models import hub
    from models.info import format_bytes
    from models.progress import console_progress

    ref = hub.parse_reference(args.ref, args.quant)
    if args.name and args.no_register:
        raise hub.HubError("--name and --no-register contradict each other")
    if args.name:
        from models.registry import validate_name

        validate_name(args.name)  # before a long download, not after
    with console_progress() as progress:
        result = hub.pull(ref, progress=progress)
    parts = f" ({len(result.files)} parts)" if len(result.files) > 1 else ""
    if result.downloaded_bytes:
        print(f"downloaded {result.ref}{parts}: {format_bytes(result.downloaded_bytes)} -> {result.path}")
    else:
        print(f"already on disk: {result.ref}{parts} -> {result.path}")
    print(f"use it with: -m {result.ref}")
    if not args.no_register:
        name = args.name or hub.default_registry_name(result.ref)
        _register(name, result.path, explicit=bool(args.name))
    return 0


def _register(name: str, path, explicit: bool) -> None:  # noqa: ANN001 - a Path
    from models import registry
    from models.errors import DuelError

    existing = registry.get(name)
    if existing is not None and existing.path == str(path.resolve()):
        print(f"registered as {name} (already)")
        return
    try:
        registry.add(path, name)
    except DuelError as exc:
        if explicit:
            raise
        # The download worked; a name clash must not make it look failed.
        print(f"not registered: {exc}", file=sys.stderr)
        return
    print(f"registered as {name}: duel chat -m {name}")
