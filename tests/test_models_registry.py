"""The config file and the registry of user models (add / remove / duplicates / bad input)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from gguf_builders import write_gguf

from models import registry
from models.config import ChatSettings, DuelConfig, RegisteredModel, load_config, save_config
from models.errors import BadModelFileError, DuelError, ModelNotFoundError
from models.paths import config_file
from models.resolve import resolve
from tui.cli import main


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "files" / "Llama-3.2-1B-Instruct-Q4_K_M.gguf", name="Llama 3.2 1B Instruct")


def test_config_defaults_when_there_is_no_file() -> None:
    config = load_config()
    assert config.models == {}
    assert config.chat.left is None and config.chat.right is None
    assert not config_file().exists()  # reading never creates it


def test_config_round_trip_keeps_unknown_sections() -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text('[future]\nanswer = 42\n\n[chat]\nleft = "smollm2-135m"\ncolour = "blue"\n')
    config = load_config()
    config.chat.right = "qwen2.5-coder-0.5b"
    save_config(config)
    data = tomllib.loads(config_file().read_text())
    assert data["future"] == {"answer": 42}
    assert data["chat"] == {"left": "smollm2-135m", "right": "qwen2.5-coder-0.5b", "colour": "blue"}


def test_config_written_atomically_leaves_no_temp_files() -> None:
    save_config(DuelConfig(chat=ChatSettings(left="a"), models={"m": RegisteredModel(path="/x.gguf")}))
    assert [p.name for p in config_file().parent.iterdir()] == ["config.toml"]
    assert load_config().models["m"].path == "/x.gguf"


@pytest.mark.parametrize(
    ("text", "message"),
    [("models = [", "not valid TOML"), ('[models.x]\nadded = "today"\n', "invalid setting models.x.path")],
)
def test_a_broken_config_is_one_clear_error(text: str, message: str) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text(text)
    with pytest.raises(DuelError, match=message) as err:
        load_config()
    assert str(config_file()) in str(err.value)


def test_add_stores_the_absolute_path_and_resolves_by_name(
    model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(model_file.parent)
    info = registry.add(model_file.name, "llama3.2-1b")
    assert info.name == "llama3.2-1b" and info.source == "registry"
    stored = tomllib.loads(config_file().read_text())["models"]["llama3.2-1b"]
    assert stored["path"] == str(model_file.resolve())
    resolved = resolve("llama3.2-1b")
    assert resolved.path == model_file.resolve()
    assert resolved.source == "registry"
    assert resolved.family == "Llama 3.2"


def test_duplicate_names_are_refused(model_file: Path) -> None:
    registry.add(model_file, "mine")
    with pytest.raises(DuelError, match="already registered"):
        registry.add(model_file, "mine")
    assert list(registry.registered()) == ["mine"]


@pytest.mark.parametrize("name", ["smollm2-135m", "qwen2.5-coder-0.5b"])
def test_bundled_names_cannot_be_taken(model_file: Path, name: str) -> None:
    with pytest.raises(DuelError, match="bundled model"):
        registry.add(model_file, name)
    assert registry.registered() == {}


@pytest.mark.parametrize("name", ["", "a/b", "hf:x", "model.gguf", "-dash", "x" * 65, "two words"])
def test_names_that_would_read_as_something_else_are_refused(model_file: Path, name: str) -> None:
    with pytest.raises(DuelError, match="invalid model name"):
        registry.add(model_file, name)


def test_a_bad_file_is_not_registered(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(BadModelFileError, match="not a GGUF file"):
        registry.add(text, "notes")
    assert registry.registered() == {}
    assert not config_file().exists()


def test_remove_forgets_the_name_but_keeps_the_file(model_file: Path) -> None:
    registry.add(model_file, "a")
    registry.add(model_file, "b")
    entry = registry.remove("a")
    assert entry.path == str(model_file.resolve())
    assert list(registry.registered()) == ["b"]
    assert model_file.exists()


def test_remove_unknown_and_bundled_names() -> None:
    with pytest.raises(ModelNotFoundError, match="no registered model named 'ghost'"):
        registry.remove("ghost")
    with pytest.raises(DuelError, match="bundled model and cannot be removed"):
        registry.remove("smollm2-135m")


def test_cli_add_list_remove(
    model_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # rich wraps long cells on narrow terminals
    assert main(["models", "add", str(model_file), "--name", "llama3.2-1b"]) == 0
    out = capsys.readouterr().out
    assert "registered llama3.2-1b" in out and "Llama 3.2" in out
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "llama3.2-1b" in listing and "registry" in listing
    assert main(["models", "remove", "llama3.2-1b"]) == 0
    assert "left in place" in capsys.readouterr().out
    assert model_file.exists()
    assert registry.registered() == {}


def test_cli_add_of_a_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "add", "/nonexistent.gguf", "--name", "x"]) == 2
    err = capsys.readouterr().err
    assert err == "duel: error: /nonexistent.gguf: no such file\n"


def test_cli_remove_unknown_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "remove", "ghost"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ghost" in err
