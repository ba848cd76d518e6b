"""`open_engine` picks the back-end from the reference and turns load failures into DuelErrors."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from engines.base import EngineError, LoadOptions
from engines.factory import open_engine
from engines.scripted import ScriptedEngine
from models.errors import BadModelFileError, DuelError, ModelNotFoundError


def test_scripted_reference_gives_the_scripted_engine_with_its_options() -> None:
    engine = open_engine("scripted:alpha?tokens=7&ctx=512", LoadOptions(n_threads=3))
    assert isinstance(engine, ScriptedEngine)
    assert engine.describe().name == "alpha"
    assert engine.n_ctx == 512
    assert engine.threads == 3


def test_remote_reference_goes_to_the_remote_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, LoadOptions]] = []

    class FakeRemote:
        @classmethod
        def from_reference(cls, ref: str, options: LoadOptions) -> str:
            seen.append((ref, options))
            return "remote-engine"

    module = types.ModuleType("engines.remote")
    module.RemoteEngine = FakeRemote  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "engines.remote", module)
    options = LoadOptions(n_ctx=1024)
    assert open_engine("remote:http://127.0.0.1:9/v1#m", options) == "remote-engine"
    assert seen == [("remote:http://127.0.0.1:9/v1#m", options)]


def test_unknown_name_is_a_duel_error() -> None:
    with pytest.raises(ModelNotFoundError):
        open_engine("no-such-model-anywhere")


def test_missing_and_non_gguf_files_are_duel_errors(tmp_path: Path) -> None:
    with pytest.raises(DuelError):
        open_engine(str(tmp_path / "missing.gguf"))
    text = tmp_path / "notes.gguf"
    text.write_text("this is not a model\n" * 100)
    with pytest.raises(BadModelFileError):
        open_engine(str(text))


def test_scripted_load_failure_is_an_engine_error() -> None:
    with pytest.raises(EngineError):
        open_engine("scripted:x?fail=load")
