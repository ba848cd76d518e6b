"""Memory estimate from GGUF header dimensions, and the fits-in-memory check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from gguf_builders import write_gguf

from models import memory
from models.describe import describe
from models.errors import InsufficientMemoryError
from models.info import ModelInfo
from models.memory import check_fits, estimate_memory_bytes, free_memory_bytes

DIMS = {
    "{arch}.block_count": 4,
    "{arch}.embedding_length": 64,
    "{arch}.attention.head_count": 8,
    "{arch}.attention.head_count_kv": 2,
    "{arch}.vocab_size": 1000,
}


@pytest.fixture
def info(tmp_path: Path) -> ModelInfo:
    return describe(write_gguf(tmp_path / "dims.gguf", metadata=DIMS))


def test_estimate_matches_the_formula_by_hand(info: ModelInfo) -> None:
    n_ctx = 256
    head_dim = 64 // 8
    kv_cache = 2 * 4 * n_ctx * 2 * head_dim * 2  # K and V, layers, ctx, kv heads, head dim, f16
    compute = 512 * 4 * max(1000, 8 * n_ctx) + 64 * 2**20  # ubatch * f32 * widest row + overhead
    assert estimate_memory_bytes(info, n_ctx) == info.file_size + kv_cache + compute


def test_zero_context_means_the_trained_context(info: ModelInfo) -> None:
    assert info.context_length == 2048
    assert estimate_memory_bytes(info, 0) == estimate_memory_bytes(info, 2048)


def test_logits_dominate_a_short_context(info: ModelInfo) -> None:
    kv_cache = 2 * 4 * 64 * 2 * 8 * 2
    assert estimate_memory_bytes(info, 64) == info.file_size + kv_cache + 512 * 4 * 1000 + 64 * 2**20


def test_vocabulary_size_from_the_token_list(tmp_path: Path) -> None:
    dims = {k: v for k, v in DIMS.items() if "vocab" not in k}
    info = describe(write_gguf(tmp_path / "m.gguf", metadata={**dims, "tokenizer.ggml.tokens": ["t"] * 5000}))
    kv_cache = 2 * 4 * 16 * 2 * 8 * 2
    assert estimate_memory_bytes(info, 16) == info.file_size + kv_cache + 512 * 4 * 5000 + 64 * 2**20


def test_explicit_key_and_value_lengths(tmp_path: Path) -> None:
    metadata = {**DIMS, "{arch}.attention.key_length": 32, "{arch}.attention.value_length": 16}
    info = describe(write_gguf(tmp_path / "m.gguf", arch="gemma3", metadata=metadata))
    kv_cache = 4 * 128 * 2 * (32 + 16) * 2
    assert estimate_memory_bytes(info, 128) == info.file_size + kv_cache + 512 * 4 * 1024 + 64 * 2**20


def test_kv_cache_grows_linearly_with_context(info: ModelInfo) -> None:
    # Past the point where attention scores outgrow the logits, both grow with n_ctx.
    a, b, c = (estimate_memory_bytes(info, n) for n in (4096, 8192, 12288))
    assert b - a == c - b > 0


def test_real_smollm2_estimate_is_close_to_what_llama_cpp_reports() -> None:
    from models.resolve import resolve

    info = resolve("smollm2-135m")
    estimate = memory.estimate_memory(info, 2048)
    assert estimate.kv_cache == 45 * 2**20  # llama.cpp: "KV buffer size = 45.00 MiB"
    assert estimate.weights == info.file_size


def test_free_memory_is_what_psutil_calls_available() -> None:
    free = free_memory_bytes()
    assert 0 < free <= psutil.virtual_memory().total


def test_check_fits_refuses_with_numbers_and_the_force_hint(
    info: ModelInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "free_memory_bytes", lambda: 1024**3 // 10)
    big = replace(info, file_size=3 * 1024**3)
    with pytest.raises(InsufficientMemoryError) as err:
        check_fits(big, 4096)
    message = str(err.value)
    assert "needs about 3.1 GiB" in message
    assert "only 0.1 GiB is free" in message
    assert "--force" in message
    check_fits(big, 4096, force=True)  # --force skips the check


def test_check_fits_passes_when_there_is_room(info: ModelInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "free_memory_bytes", lambda: estimate_memory_bytes(info, 512))
    check_fits(info, 512)
    with pytest.raises(InsufficientMemoryError):
        check_fits(info, 1024)
