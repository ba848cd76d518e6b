"""Model references: paths, bundled names, registered names, unknown names, hf: routing, listing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from gguf_builders import write_gguf

from models import registry
from models.errors import BadModelFileError, DuelError, ModelNotFoundError
from models.paths import models_dir
from models.resolve import DEFAULT_PAIR, NOT_ASSEMBLED, is_path_reference, list_models, resolve


def test_default_pair_names_the_bundled_models() -> None:
    assert DEFAULT_PAIR == ("qwen2.5-coder-0.5b", "smollm2-135m")


@pytest.mark.parametrize(
    ("ref", "is_path"),
    [("model.gguf", True), ("MODEL.GGUF", True), ("./x", True), ("dir/model.bin", True),
     ("smollm2-135m", False), ("llama3.2-1b", False)],
)
def test_what_counts_as_a_path(ref: str, is_path: bool) -> None:
    assert is_path_reference(ref) is is_path


def test_a_path_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_gguf(tmp_path / "tiny.gguf", arch="qwen2", name="Qwen2.5 Tiny")
    monkeypatch.chdir(tmp_path)
    info = resolve("tiny.gguf")
    assert info.path == path.resolve()
    assert info.name == "tiny" and info.source == "path" and info.architecture == "qwen2"


def test_a_path_without_the_gguf_suffix(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "weights.bin")
    assert resolve(str(path)).path == path


def test_a_missing_path_is_a_bad_file_not_an_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(BadModelFileError, match="no such file"):
        resolve(str(tmp_path / "gone.gguf"))


def test_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    registry.add(write_gguf(tmp_path / "m.gguf"), "my-model")
    with pytest.raises(ModelNotFoundError) as err:
        resolve("nope")
    message = str(err.value)
    assert "unknown model 'nope'" in message
    assert "qwen2.5-coder-0.5b, smollm2-135m, my-model" in message


def test_a_registered_name(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", name="Falcon3 1B")
    registry.add(path, "falcon")
    info = resolve("falcon")
    assert (info.name, info.source, info.path, info.family) == ("falcon", "registry", path, "Falcon3")


def test_a_registered_file_that_was_deleted(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf")
    registry.add(path, "gone")
    path.unlink()
    with pytest.raises(BadModelFileError, match="duel models remove gone"):
        resolve("gone")


def test_the_bundled_smollm2_resolves_in_place() -> None:
    info = resolve("smollm2-135m")
    assert info.source == "bundled"
    assert info.path is not None and info.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert info.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert info.license == "apache-2.0"


def test_hf_references_go_to_the_hub_module(monkeypatch: pytest.MonkeyPatch) -> None:
    # With models.hub unavailable, the reference fails with one clear line, not an ImportError.
    monkeypatch.setitem(sys.modules, "models.hub", None)
    with pytest.raises(DuelError, match="hf: references need the models.hub package"):
        resolve("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF")


def test_listing_describes_without_assembling() -> None:
    models = {m.name: m for m in list_models()}
    assert list(models) == list(DEFAULT_PAIR)
    qwen = models["qwen2.5-coder-0.5b"]
    assert qwen.status == NOT_ASSEMBLED
    assert (qwen.architecture, qwen.context_length, qwen.file_size) == ("qwen2", 32768, 491_400_064)
    assert qwen.license == "apache-2.0"  # known upstream licence; the header has none
    assert qwen.has_chat_template
    assert not models_dir().exists()  # listing wrote nothing
    smol = models["smollm2-135m"]
    assert (smol.architecture, smol.family, smol.status) == ("llama", "SmolLM2", "")


def test_listing_shows_registered_models_and_broken_entries(tmp_path: Path) -> None:
    good = write_gguf(tmp_path / "good.gguf", name="Mistral Tiny")
    bad = write_gguf(tmp_path / "bad.gguf")
    registry.add(good, "good")
    registry.add(bad, "bad")
    bad.unlink()
    models = {m.name: m for m in list_models()}
    assert models["good"].family == "Mistral" and models["good"].source == "registry"
    assert "no such file" in models["bad"].status
