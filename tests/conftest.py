"""Fixtures shared by every test module.

`duel_home` points every duel path at a fresh temp dir. `bundled_models` assembles the bundled Qwen
once per test session (in a session temp dir) and returns the local paths of both bundled models, so
end-to-end tests do not each copy 469 MiB.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def duel_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own DUEL_HOME, so no test reads or writes the real user's files."""
    home = tmp_path / "duel-home"
    monkeypatch.setenv("DUEL_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def bundled_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DUEL_HOME where the bundled Qwen has been assembled (once per session)."""
    return tmp_path_factory.mktemp("bundled-home")


@pytest.fixture(scope="session")
def bundled_models(bundled_home: Path) -> Iterator[dict[str, Path]]:
    """Local paths of both bundled models: {"qwen2.5-coder-0.5b": Path, "smollm2-135m": Path}."""
    from models.resolve import DEFAULT_PAIR, resolve

    previous = os.environ.get("DUEL_HOME")
    os.environ["DUEL_HOME"] = str(bundled_home)
    try:
        paths = {name: resolve(name).path for name in DEFAULT_PAIR}
    finally:
        if previous is None:
            os.environ.pop("DUEL_HOME", None)
        else:
            os.environ["DUEL_HOME"] = previous
    yield {name: Path(p) for name, p in paths.items()}
