"""Completion of file paths in an Input, the way a shell completes them (→ or End accepts).

Directories and .gguf files are offered first, then other files; the filesystem is read each time
(no cache), because the user may be creating the file they are about to add.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

MAX_ENTRIES = 2000  # a huge folder is not worth listing for a completion hint


def _candidates(folder: Path, prefix: str) -> list[tuple[int, str, bool]]:
    found: list[tuple[int, str, bool]] = []
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    break
                name = entry.name
                if not name.startswith(prefix) or (name.startswith(".") and not prefix.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                rank = 0 if is_dir or name.lower().endswith(".gguf") else 1
                found.append((rank, name, is_dir))
    except OSError:
        return []
    return sorted(found)


def complete_path(value: str) -> str | None:
    """The completed path for what is typed so far, or None when nothing on disk matches."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder_text, prefix = os.path.split(expanded)
    folder = Path(folder_text or ".")
    candidates = _candidates(folder, prefix)
    if not candidates:
        return None
    _, name, is_dir = candidates[0]
    completed = name + (os.sep if is_dir else "")
    # Keep what the user typed (e.g. "~/") and add only the rest of the name.
    suggestion = value + completed[len(prefix) :]
    return suggestion if suggestion != value else None


class PathSuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)
