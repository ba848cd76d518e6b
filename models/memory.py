"""Will a model fit in memory? An estimate from the GGUF header, made before anything is loaded.

    total = weights + kv_cache + compute

- weights  = the file size. llama.cpp memory-maps the file, but generation touches every weight, so
             all of it ends up resident.
- kv_cache = n_layers * n_ctx * n_kv_heads * (key_dim + value_dim) * 2 bytes (f16 K and V caches).
             key_dim = value_dim = head_dim = n_embd / n_head unless the header gives
             `{arch}.attention.key_length` / `value_length`; with equal dims this is the familiar
             2 * n_layers * n_ctx * n_kv_heads * head_dim * 2.
- compute  = n_ubatch * 4 bytes * max(n_vocab, n_head * n_ctx) + COMPUTE_OVERHEAD.
             The scratch buffer is sized for the largest f32 tensor of one micro-batch: the logits
             (n_vocab per token) or, without flash attention, the attention scores (n_head * n_ctx per
             token); llama.cpp reuses memory between the two. COMPUTE_OVERHEAD covers the smaller
             tensors and the runtime's own structures. Checked against llama.cpp's own report for
             SmolLM2-135M: n_ctx 2048 -> 99 MiB (estimate 160), n_ctx 8192 -> 166 MiB (estimate 208);
             erring high is the safe side for a check that can be overridden with --force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psutil

from models.errors import InsufficientMemoryError
from models.gguf_reader import ArraySummary
from models.info import ModelInfo

GiB = 1024**3
MiB = 1024**2
DEFAULT_UBATCH = 512  # llama.cpp's default micro-batch
COMPUTE_OVERHEAD = 64 * MiB
F16_BYTES = 2
F32_BYTES = 4


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int
    kv_cache: int
    compute: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _kv_heads_total(md: dict[str, Any], arch: str, n_layers: int, n_head: int) -> int:
    """Sum over layers of the KV head count (the key may be one number or one per layer)."""
    value = md.get(f"{arch}.attention.head_count_kv")
    if isinstance(value, list) and len(value) == n_layers and all(isinstance(v, int) for v in value):
        return sum(value)
    return n_layers * (_int(value) or n_head)


def _vocab_size(md: dict[str, Any], arch: str) -> int:
    declared = _int(md.get(f"{arch}.vocab_size"))
    if declared:
        return declared
    tokens = md.get("tokenizer.ggml.tokens")
    if isinstance(tokens, ArraySummary):
        return tokens.length
    return len(tokens) if isinstance(tokens, list) else 0


def estimate_memory(info: ModelInfo, n_ctx: int, n_ubatch: int = DEFAULT_UBATCH) -> MemoryEstimate:
    """The estimate split into its parts (see the module docstring for the formula).

    `n_ctx` 0 means what it means to llama.cpp: the model's trained context length.
    """
    if n_ctx <= 0:
        n_ctx = info.context_length or 0
    md, arch = info.metadata, info.architecture
    n_layers = _int(md.get(f"{arch}.block_count"))
    n_embd = _int(md.get(f"{arch}.embedding_length"))
    n_head = _int(md.get(f"{arch}.attention.head_count"))
    kv_cache = 0
    if n_layers and n_head and n_embd:
        head_dim = n_embd // n_head
        key_dim = _int(md.get(f"{arch}.attention.key_length")) or head_dim
        value_dim = _int(md.get(f"{arch}.attention.value_length")) or head_dim
        kv_heads = _kv_heads_total(md, arch, n_layers, n_head)
        kv_cache = n_ctx * kv_heads * (key_dim + value_dim) * F16_BYTES
    compute = n_ubatch * F32_BYTES * max(_vocab_size(md, arch), (n_head or 0) * n_ctx) + COMPUTE_OVERHEAD
    return MemoryEstimate(weights=info.file_size, kv_cache=kv_cache, compute=compute)


def estimate_memory_bytes(info: ModelInfo, n_ctx: int) -> int:
    """Bytes of RAM the model needs with a context of `n_ctx` tokens."""
    return estimate_memory(info, n_ctx).total


def free_memory_bytes() -> int:
    """Memory available to a new process without swapping (includes reclaimable page cache)."""
    return int(psutil.virtual_memory().available)


def check_fits(info: ModelInfo, n_ctx: int, force: bool = False) -> None:
    """Raise InsufficientMemoryError when the model would not fit in free memory (unless `force`)."""
    if force or info.path is None:  # remote models use someone else's memory
        return
    estimate = estimate_memory(info, n_ctx)
    free = free_memory_bytes()
    if estimate.total <= free:
        return
    raise InsufficientMemoryError(
        f"{info.name} needs about {estimate.total / GiB:.1f} GiB (weights {estimate.weights / GiB:.1f} GiB"
        f" + context of {n_ctx} tokens {(estimate.kv_cache + estimate.compute) / GiB:.1f} GiB) but only "
        f"{free / GiB:.1f} GiB is free; use a smaller context or pass --force to load it anyway"
    )
