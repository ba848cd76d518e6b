"""`duel models` as a user runs it: the table, JSON output, info, and help with examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gguf_builders import write_gguf

from tui.cli import main


def test_models_without_a_subcommand_lists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for text in ("qwen2.5-coder-0.5b", "smollm2-135m", "Qwen2.5", "SmolLM2", "Q4_K_M", "Q4_1", "bundled",
                 "not assembled yet"):
        assert text in out


def test_models_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["smollm2-135m"]["architecture"] == "llama"
    assert rows["smollm2-135m"]["context_length"] == 8192
    assert rows["smollm2-135m"]["has_chat_template"] is True
    assert rows["qwen2.5-coder-0.5b"]["status"] == "not assembled yet"
    assert main(["models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[1]["name"] == "smollm2-135m"


def test_info_json_has_fields_and_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_gguf(tmp_path / "m.gguf", arch="qwen2", name="Qwen2.5 Tiny", chat_template="{{ x }}",
                      license="apache-2.0", metadata={"tokenizer.ggml.tokens": ["a"] * 200})
    assert main(["models", "info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["architecture"] == "qwen2" and data["family"] == "Qwen2.5"
    assert data["chat_template"] == "{{ x }}" and data["license"] == "apache-2.0"
    assert data["metadata"]["tokenizer.ggml.tokens"] == {"array_of": "string", "length": 200}
    assert data["metadata"]["general.name"] == "Qwen2.5 Tiny"


def test_info_table_and_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "info", "smollm2-135m"]) == 0
    out = capsys.readouterr().out
    assert "SmolLM2" in out and "8192" in out and "apache-2.0" in out and "GGUF metadata" in out
    assert "tokenizer.ggml.tokens" in out and "[49152 x string]" in out
    assert main(["models", "info", "smollm2-135m", "--template"]) == 0
    assert capsys.readouterr().out.startswith("{% for message in messages %}")


def test_template_of_a_model_without_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_gguf(tmp_path / "base.gguf")
    assert main(["models", "info", str(path), "--template"]) == 2
    assert "has no chat template" in capsys.readouterr().err


def test_unknown_name_is_one_line_listing_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "info", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "qwen2.5-coder-0.5b" in err and "smollm2-135m" in err


@pytest.mark.parametrize("argv", [["models"], ["models", "info"], ["models", "add"], ["models", "remove"],
                                  ["models", "list"]])
def test_every_command_help_shows_examples(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "duel models" in out
