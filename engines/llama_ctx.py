"""Extra llama.cpp contexts on a loaded `Llama` model, for work its own single-sequence context cannot
do: scoring options in parallel sequences (llama_loglik.py), generating many replies at once
(llama_batch.py). Both speak llama-cpp-python's low-level ctypes API; these are the pieces they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def side_context(
    llm: Any, *, n_seq_max: int, n_batch: int, n_ubatch: int, n_ctx: int | None = None, unified: bool = True
) -> Any:
    """A new context on `llm`'s model for several sequences.

    It copies the `Llama` object's context parameters (threads, KV cache types, attention settings),
    so it computes what the engine's own context would. `unified`: every sequence draws cells from
    one cache of `n_ctx` tokens, so `llama_memory_seq_cp` shares a prefix by tagging cells, but each
    token's attention runs over every sequence's cells (masked). Not unified: each sequence has a
    stream of n_ctx / n_seq_max cells of its own and attends to those only; a copy between
    sequences copies the whole stream.
    """
    import llama_cpp
    from llama_cpp import _internals

    params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
    if n_ctx is not None:
        params.n_ctx = n_ctx
    params.n_seq_max = n_seq_max
    params.kv_unified = unified
    params.n_batch = n_batch
    params.n_ubatch = n_ubatch
    return _internals.LlamaContext(model=llm._model, params=params, verbose=False)


def sync_threads(ctx: Any, llm: Any) -> None:
    """Use the threads the engine has now (`set_threads` may change them between two decodes)."""
    import llama_cpp

    llama_cpp.llama_set_n_threads(ctx.ctx, int(llm.n_threads), int(llm.n_threads_batch))


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def put_token(batch: Any, n: int, token: int, pos: int, seqs: Sequence[int], logits: bool) -> None:
    """Write entry `n` of a `llama_batch`: `token` at position `pos` of every sequence in `seqs`."""
    batch.token[n] = token
    batch.pos[n] = pos
    batch.n_seq_id[n] = len(seqs)
    for m, seq in enumerate(seqs):
        batch.seq_id[n][m] = seq
    batch.logits[n] = int(logits)
