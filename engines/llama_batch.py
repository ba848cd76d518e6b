"""Continuous batching for the llama.cpp engine: many chat replies decoded together in one context.

Why: on a CPU, one llama.cpp decode of B tokens costs less than B decodes of one token (the weights
are read once per decode, and the threads meet at each operation's barrier once instead of B times;
LLAMA_CPP_NOTES has the curve). Generating the replies of a benchmark's items side by side is what
llama-server's parallel slots and vLLM's continuous batching do; this does it in-process.

How:
- A side context on the loaded model (llama_ctx.side_context) in which every sequence has a KV
  stream of its own (`kv_unified` off). With one unified cache each token's attention would run over
  every sequence's cells, masked: measured here on Qwen2.5-0.5B with 8 sequences of 350 tokens, that
  made a decode ~35% dearer in CPU time (23 against 36 tokens per CPU-second). Own streams also keep
  each sequence's cells in order from cell 0, as in the single-stream context (see "Same answers").
- Sequence 0 holds the prompt prefix most requests share (template, instruction, few-shot
  exemplars), evaluated once. A reply starts as a copy of that stream (`llama_memory_seq_cp`; a
  copy between streams copies the buffer) cut back to the part its own prompt shares, and reads
  the rest itself.
- Each decode carries the last sampled token of every generating sequence plus chunks of the
  prompts still being read, DECODE_TOKENS at most, in sequence order (llama.cpp splits a
  multi-stream batch into micro-batches of consecutive sequence ids with equal token counts): a
  long prompt takes a few decodes instead of stalling the others for one long one.
- A finished sequence frees its stream and its slot takes the next request at once (continuous
  batching); its result is yielded the moment it is complete.
- Each reply has its own llama.cpp sampler chain (greedy, or seeded sampling with its own random
  state) and its own ReplyProgress (end-of-generation tokens, stop strings, max tokens), the same
  objects the single-stream path uses, so both stop alike.
- Memory (`plan_batch`): every stream holds the longest prompt + reply of any request. A plan that
  would not fit in free memory runs with fewer slots, with a note.

Same answers? llama.cpp does not promise bit-identical logits between a one-token decode and a
batch: a one-row product goes through `ggml_vec_dot_*` and two rows or more through llamafile's
tinyBLAS (sgemm.cpp: `n < 2` returns false) or the repacked Q4_K gemm, which sum in other orders.
On f32 weights the differences are ~1e-7 relative and batched greedy replies equal one-at-a-time
ones token for token (tests/test_llama_batch.py). On the bundled Q4_K_M Qwen, llama.cpp's own
context already gives logits 2.7% (max relative) apart for the same token decoded alone or inside
a multi-token batch, so replies can part at a near-tie; perf/gen_batch.py counts how often.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engines.base import CANCELLED_BEFORE_START, EngineError, GenerationResult, ShouldStop
from engines.llama_ctx import common_prefix, put_token, side_context, sync_threads

if TYPE_CHECKING:
    from engines.llama_cpp_engine import ReplyProgress

DECODE_TOKENS = 256  # tokens per llama_decode: one per generating sequence, the rest prompt chunks
MAX_SLOTS = 64  # sequences generating at once (llama.cpp allows 256 sequences per context)
MEMORY_SHARE = 0.8  # of the memory the OS calls available, the most a batch context may take
CTX_PAD = 256  # llama.cpp pads a context to a multiple of 256 cells
GiB = 1024**3

#: (n_ctx, n_ubatch) -> bytes a context of that size takes beyond the loaded weights
ContextBytes = Callable[[int, int], int]


@dataclass(frozen=True)
class BatchPlan:
    """How a set of requests will be decoded: slots, the shared prefix and the stream size."""

    slots: int  # sequences generating at once (0 or 1: run one at a time instead)
    n_per_seq: int  # cells of each sequence's KV stream
    anchor: tuple[int, ...] = ()  # prompt prefix shared by most requests, held by sequence 0
    note: str | None = None  # why fewer slots than asked for, for the user

    @property
    def n_seq(self) -> int:
        """Sequences in the context: the slots, plus sequence 0 when there is a shared prefix."""
        return self.slots + (1 if self.anchor else 0)

    @property
    def n_ctx(self) -> int:
        return self.n_seq * self.n_per_seq


@dataclass
class BatchJob:
    """One reply to generate, prepared by the engine."""

    index: int  # position in the caller's request list
    prompt: list[int]
    sampler: Any  # a llama_cpp._internals.LlamaSampler chain of its own (closed here when done)
    progress: ReplyProgress


@dataclass
class _Slot:
    seq: int  # sequence id in the batch context
    job: BatchJob
    n_past: int  # tokens of this sequence in the cache (prompt tokens first)
    admitted: int  # admission order: prompts are read oldest first
    pieces: list[str] = field(default_factory=list)
    next_token: int = -1  # sampled but not yet in the cache

    @property
    def reading(self) -> bool:
        return self.n_past < len(self.job.prompt)


# --------------------------------------------------------------------------------------- planning


def shared_prefix(prompts: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """The longest prompt prefix that at least two of `prompts` share, read from the median prompt.

    Any prefix shared by more than half the prompts is a prefix of the median one in sorted order
    (the prompts that have it are a contiguous run of the sorted list covering the middle), so
    reading it there finds the few-shot block of a benchmark even when some items (the exemplars
    themselves, which skip their own question) differ from it part of the way. Evaluating a prefix
    that two or more prompts share once instead of per prompt always saves work.
    """
    if len(prompts) < 2:
        return ()
    middle = sorted(prompts)[len(prompts) // 2]
    shared = sorted((common_prefix(middle, p) for p in prompts), reverse=True)
    return tuple(middle[: shared[1]])  # shared[0] is the median prompt itself


def reused(anchor: Sequence[int], prompt: Sequence[int]) -> int:
    """Prompt tokens a sequence copies from the shared prefix (its last token is always evaluated,
    since its logits give the first reply token)."""
    return min(common_prefix(anchor, prompt), len(prompt) - 1)


def _padded(n: int) -> int:
    return -(-n // CTX_PAD) * CTX_PAD


def plan_batch(
    prompts: Sequence[Sequence[int]],
    budgets: Sequence[int],
    parallel: int,
    context_bytes: ContextBytes,
    *,
    name: str = "model",
    free_bytes: int | None = None,
) -> BatchPlan:
    """Slots and stream size for `prompts` (tokens) with `budgets` (reply tokens each).

    Each sequence's stream holds the longest prompt + reply of any request, since a slot may take
    any of them. The slots are the most, up to `parallel`, whose context fits in MEMORY_SHARE of the
    available memory (psutil); fewer than asked because of memory comes with a note. Fewer than two
    slots means: run one at a time.
    """
    if free_bytes is None:
        from models.memory import free_memory_bytes

        free_bytes = free_memory_bytes()
    wanted = max(min(parallel, len(prompts), MAX_SLOTS), 0)
    if wanted < 2:
        return BatchPlan(wanted, 0)
    anchor = shared_prefix(prompts)
    per_seq = _padded(max(len(p) + max(b, 0) for p, b in zip(prompts, budgets, strict=True)))
    budget = int(free_bytes * MEMORY_SHARE)

    def need(slots: int) -> int:
        return context_bytes(BatchPlan(slots, per_seq, anchor).n_ctx, DECODE_TOKENS)

    slots = wanted
    while slots >= 2 and need(slots) > budget:
        slots -= 1
    note = None
    if slots < wanted:
        instead = f"{slots} at once" if slots >= 2 else "one at a time"
        note = (
            f"{name}: generating {instead} instead of {wanted}: {wanted} sequences would need about "
            f"{need(wanted) / GiB:.1f} GiB for their context and {budget / GiB:.1f} GiB may be used"
        )
    return BatchPlan(slots, per_seq if slots >= 2 else 0, anchor, note)


# ---------------------------------------------------------------------------------------- running


def _finish(slot: _Slot, now: float) -> GenerationResult:
    progress = slot.job.progress
    text = "".join(slot.pieces) + progress.flush()
    return GenerationResult(text, progress.stats(now))


def run_batch(
    llm: Any, plan: BatchPlan, jobs: Sequence[BatchJob], should_stop: ShouldStop | None = None
) -> Iterator[tuple[int, GenerationResult]]:
    """Decode `jobs` `plan.slots` at a time on `llm`'s model; yield each result as it finishes.

    The caller holds the engine (one caller at a time). Once `should_stop()` is true (polled before
    every decode), every job not finished comes back with finish reason "cancelled".
    """
    import llama_cpp

    if not jobs:
        return
    n_batch = max(DECODE_TOKENS, 2 * plan.slots)
    ctx = side_context(
        llm, n_ctx=plan.n_ctx, n_seq_max=plan.n_seq, n_batch=n_batch, n_ubatch=n_batch, unified=False
    )
    batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
    memory = llama_cpp.llama_get_memory(ctx.ctx)
    anchor = list(plan.anchor)
    first_seq = 1 if anchor else 0  # sequence 0 holds the shared prefix
    pending = deque(jobs)
    slots: list[_Slot | None] = [None] * plan.slots
    admitted = 0

    def stopped() -> bool:
        return should_stop is not None and should_stop()

    def decode(n_tokens: int) -> None:
        batch.n_tokens = n_tokens
        sync_threads(ctx, llm)
        code = llama_cpp.llama_decode(ctx.ctx, batch)
        if code != 0:
            raise EngineError(
                f"llama.cpp could not decode a batch of {n_tokens} tokens (llama_decode returned {code})"
            )

    def cancel_all() -> Iterator[tuple[int, GenerationResult]]:
        now = time.perf_counter()
        for i, slot in enumerate(slots):
            if slot is not None:
                slot.job.progress.finish = "cancelled"
                slots[i] = None
                yield slot.job.index, _finish(slot, now)
        while pending:
            yield pending.popleft().index, GenerationResult("", CANCELLED_BEFORE_START)

    try:
        for start in range(0, len(anchor), n_batch):
            if stopped():
                yield from cancel_all()
                return
            part = anchor[start : start + n_batch]
            for k, token in enumerate(part):
                put_token(batch, k, token, start + k, (0,), False)
            decode(len(part))

        while pending or any(slots):
            if stopped():
                yield from cancel_all()
                return
            # Free slots take the next requests, starting from a copy of the shared prefix.
            for i in range(len(slots)):
                while slots[i] is None and pending:
                    job = pending.popleft()
                    job.progress.start = now = time.perf_counter()
                    if job.progress.finish is not None:  # nothing to generate (a zero budget)
                        yield job.index, GenerationResult(job.progress.flush(), job.progress.stats(now))
                        continue
                    seq = first_seq + i
                    keep = reused(anchor, job.prompt)
                    if keep:  # between streams a copy is of the whole stream; cut it back after
                        llama_cpp.llama_memory_seq_cp(memory, 0, seq, -1, -1)
                        llama_cpp.llama_memory_seq_rm(memory, seq, keep, -1)
                    slots[i] = _Slot(seq, job, keep, admitted)
                    admitted += 1
            active = [s for s in slots if s is not None]
            if not active:
                continue
            # One token for every generating sequence; the rest of the decode goes to prompt
            # chunks, oldest request first; tokens are laid out in sequence order.
            room = n_batch - sum(1 for s in active if not s.reading)
            takes: dict[int, int] = {}
            for slot in sorted((s for s in active if s.reading), key=lambda s: s.admitted):
                takes[slot.seq] = min(room, len(slot.job.prompt) - slot.n_past)
                room -= takes[slot.seq]
            n = 0
            rows: list[tuple[_Slot, int]] = []
            for slot in active:
                if not slot.reading:
                    put_token(batch, n, slot.next_token, slot.n_past, (slot.seq,), True)
                    rows.append((slot, n))
                    slot.n_past += 1
                    n += 1
                    continue
                prompt = slot.job.prompt
                for pos in range(slot.n_past, slot.n_past + takes[slot.seq]):
                    last = pos == len(prompt) - 1
                    put_token(batch, n, prompt[pos], pos, (slot.seq,), last)
                    if last:
                        rows.append((slot, n))
                    n += 1
                slot.n_past += takes[slot.seq]
            decode(n)
            for slot, row in rows:
                progress = slot.job.progress
                token = slot.job.sampler.sample(ctx, row)
                text = progress.take(token, time.perf_counter())
                if text:
                    slot.pieces.append(text)
                if progress.finish is None:
                    slot.next_token = token
                    continue
                llama_cpp.llama_memory_seq_rm(memory, slot.seq, -1, -1)
                slots[slot.seq - first_seq] = None
                yield slot.job.index, _finish(slot, time.perf_counter())
    finally:
        for job in jobs:
            job.sampler.close()
        llama_cpp.llama_batch_free(batch)
        ctx.close()
