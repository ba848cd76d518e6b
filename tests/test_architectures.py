"""Every local architecture people compare loads, chats and scores in duel (tiny generated GGUFs).

The files come from tests/tiny_models.py: random weights and a tiny vocabulary, but the metadata,
tensor names/shapes, tokenizer section and chat template of the real thing, so llama.cpp runs the
same code path it runs for Qwen2.5, Qwen3, Llama 3, Mistral, Yi, Mixtral, Falcon and MPT files.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from tiny_models import SPECS, write_tiny_model

from engines.base import GenerationParams, LoadOptions

KEYS = sorted(SPECS)


@pytest.fixture(scope="session")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny-archs")
    return {key: write_tiny_model(key, folder / f"tiny-{key}.gguf", seed=i) for i, key in enumerate(KEYS)}


def test_tiny_files_are_tiny(tiny_files: dict[str, Path]) -> None:
    for key, path in tiny_files.items():
        assert path.stat().st_size < 2 * 2**20, f"{key}: {path.stat().st_size} bytes"


@pytest.mark.parametrize("key", KEYS)
def test_architecture_loads_chats_and_scores(key: str, tiny_files: dict[str, Path]) -> None:
    from engines.llama_cpp_engine import LlamaCppEngine

    spec = SPECS[key]
    with LlamaCppEngine(tiny_files[key], LoadOptions(n_ctx=256, n_threads=1)) as engine:
        info = engine.describe()
        assert info.architecture == spec.architecture
        assert engine.template.source == "gguf", "the file's own chat template is used"
        assert "hello model" in engine.render_chat([{"role": "user", "content": "hello model"}])

        chunks = list(
            engine.stream_chat(
                [{"role": "user", "content": "hello model"}],
                GenerationParams(max_tokens=4, temperature=0.0, seed=1),
            )
        )
        stats = chunks[-1].stats
        assert stats is not None
        assert stats.completion_tokens == 4 and stats.finish_reason == "length"
        assert "".join(c.text for c in chunks).strip(), "some visible text came out"
        assert stats.prompt_tokens == engine.count_chat_tokens([{"role": "user", "content": "hello model"}])

        scores = engine.score_options("The answer is", [" yes", " no", " good"])
        assert len(scores) == 3
        assert all(math.isfinite(s.logprob) and s.logprob < 0 and s.n_tokens >= 1 for s in scores)
        assert len({round(s.logprob, 6) for s in scores}) > 1, "different options get different scores"


def test_mixtral_file_really_is_a_mixture_of_experts(tiny_files: dict[str, Path]) -> None:
    from models.gguf_reader import read_header

    header = read_header(tiny_files["mixtral"])
    assert header.metadata["llama.expert_count"] == 4
    assert header.metadata["llama.expert_used_count"] == 2
    names = {t.name for t in header.tensors}
    assert {"blk.0.ffn_gate_inp.weight", "blk.0.ffn_gate_exps.weight", "blk.0.ffn_down_exps.weight"} <= names
    assert "blk.0.ffn_gate.weight" not in names


@pytest.mark.parametrize("key", KEYS)
def test_models_info_shows_the_family(
    key: str, tiny_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from tui.cli import main

    assert main(["models", "info", str(tiny_files[key]), "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["family"] == SPECS[key].family
    assert data["architecture"] == SPECS[key].architecture


@pytest.mark.parametrize("key", KEYS)
def test_catalog_knows_the_family(key: str) -> None:
    from models.families import match_family

    spec = SPECS[key]
    family = match_family([spec.general_name], spec.architecture)
    assert family is not None and family.label == spec.family and family.has_facts


def test_split_model_from_the_hub_loads_from_its_first_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub_server import FakeRepo, HubServer, point_huggingface_hub_at

    from engines.factory import open_engine

    first = write_tiny_model("qwen3", tmp_path / "src" / "tiny-qwen3-Q8_0.gguf", split_max_tensors=10)
    parts = sorted(first.parent.glob("tiny-qwen3-Q8_0-*-of-*.gguf"))
    assert len(parts) >= 2
    server = HubServer().start()
    try:
        point_huggingface_hub_at(server.url, tmp_path / "hf-home", monkeypatch)
        server.add(FakeRepo("acme/Tiny-Qwen3-GGUF", {p.name: p.read_bytes() for p in parts}))

        engine = open_engine("hf:acme/Tiny-Qwen3-GGUF:Q8_0", LoadOptions(n_ctx=256, n_threads=1))
    finally:
        server.stop()
    with engine:
        assert engine.describe().architecture == "qwen3"
        assert Path(engine.describe().path).name == parts[0].name
        scores = engine.score_options("The answer is", [" yes", " no"])
        assert all(math.isfinite(s.logprob) for s in scores)
    assert len([r for r in server.requests if r.method == "GET" and "/resolve/" in r.path]) == len(parts)
