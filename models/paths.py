"""Where duel keeps its files.

XDG locations through platformdirs; `DUEL_HOME` moves every one of them under a single folder
(tests point it at a temp dir). Nothing is created at import time: callers ask for a path and
`ensure` creates its folder when they are about to write.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir

APP_NAME = "duel"


def _home_override() -> Path | None:
    value = os.environ.get("DUEL_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    home = _home_override()
    return home / "config" if home else Path(user_config_dir(APP_NAME))


def data_dir() -> Path:
    home = _home_override()
    return home / "data" if home else Path(user_data_dir(APP_NAME))


def cache_dir() -> Path:
    home = _home_override()
    return home / "cache" if home else Path(user_cache_dir(APP_NAME))


def config_file() -> Path:
    """The TOML file holding the model registry and user settings."""
    return config_dir() / "config.toml"


def results_db_file() -> Path:
    """SQLite file of benchmark runs and per-item results (owned by benchmarks/)."""
    return data_dir() / "results.sqlite3"


def arena_db_file() -> Path:
    """SQLite file of arena battles and votes (owned by benchmarks/arena)."""
    return data_dir() / "arena.sqlite3"


def conversations_db_file() -> Path:
    """SQLite file of chat conversations (owned by tui/)."""
    return data_dir() / "conversations.sqlite3"


def models_dir() -> Path:
    """Where assembled bundled models and downloaded GGUF files live."""
    return data_dir() / "models"


def exports_dir() -> Path:
    """Where exported conversations and scorecards go by default (shown to the user)."""
    return data_dir() / "exports"


def ensure(path: Path) -> Path:
    """Create `path` (a folder) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
