"""Arena prompts: the built-in set or a user's file.

The built-in set (`benchmarks/data/arena_prompts.jsonl`) holds 40 prompts written for this project,
8 in each category: code, writing, reasoning, advice, facts. A user's file is JSON Lines with a
`prompt` (or `text`) field and optional `id` and `category`, or plain text with one prompt a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from benchmarks.arena.store import ArenaError

BUILTIN = "builtin"
CATEGORIES = ("code", "writing", "reasoning", "advice", "facts")
BUILTIN_FILE = "arena_prompts.jsonl"


@dataclass(frozen=True)
class ArenaPrompt:
    id: str
    category: str
    text: str


def builtin_prompts() -> list[ArenaPrompt]:
    source = resources.files("benchmarks") / "data" / BUILTIN_FILE
    with resources.as_file(source) as path:
        return _read_jsonl(Path(path))


def _read_jsonl(path: Path) -> list[ArenaPrompt]:
    from benchmarks.errors import SuiteDataError
    from benchmarks.suites import read_jsonl

    prompts = []
    try:
        for lineno, obj in read_jsonl(path):
            text = obj.get("prompt", obj.get("text"))
            if not isinstance(text, str) or not text.strip():
                raise ArenaError(f"{path}:{lineno}: needs a non-empty 'prompt' field")
            prompts.append(
                ArenaPrompt(
                    str(obj.get("id") or f"line-{lineno}"), str(obj.get("category") or ""), text.strip()
                )
            )
    except SuiteDataError as exc:
        raise ArenaError(str(exc)) from None
    return prompts


def load_prompts(source: str) -> list[ArenaPrompt]:
    """`builtin` or a path to a .jsonl file (or any text file: one prompt a line)."""
    if source == BUILTIN:
        return builtin_prompts()
    path = Path(source).expanduser()
    if not path.is_file():
        raise ArenaError(f"no such prompts file: {path} (or use --prompts builtin)")
    if path.suffix.lower() in (".jsonl", ".json"):
        prompts = _read_jsonl(path)
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ArenaError(f"cannot read {path}: {exc}") from None
        prompts = [ArenaPrompt(f"line-{n}", "", t.strip()) for n, t in enumerate(lines, 1) if t.strip()]
    if not prompts:
        raise ArenaError(f"{path}: no prompts in the file")
    ids = [p.id for p in prompts]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ArenaError(f"{path}: prompt ids used more than once: {', '.join(duplicates[:5])}")
    return prompts
