"""Continuous batching for the llama.cpp engine: many chat replies decoded together in one context.

Why: one llama.cpp decode of B tokens costs less than B decodes of one token (the weights are read
once per decode, the threads meet at each operation's barrier once instead of B times, and two
rows or more go through the gemm kernels). Generating the replies of a benchmark's items side by
side is what llama-server's parallel slots and vLLM's continuous batching do; this does it
in-process. How much it buys depends on the CPU: perf/gen_batch.py measures it (README, "Speed").

How:
- A side context on the loaded model (llama_ctx.side_context) with one KV stream per sequence
  (`kv_unified` off; see "Streams, not one unified cache" below). Sequence 0 holds the prompt
  prefix most requests share (template, instruction, few-shot exemplars), read once; a reply starts
  as a copy of it (`llama_memory_seq_cp`, then cut back to the part its own prompt shares) and
  reads the rest of its prompt itself.
- Each decode carries the last sampled token of every generating sequence plus chunks of the
  prompts still being read (oldest first), DECODE_TOKENS at most in all, so a long prompt takes a
  few decodes instead of stalling the others for one long one. Tokens go in sequence order, and a
  sequence that finishes while no request waits has its stream moved down into the gap: llama.cpp
  cuts a multi-stream batch into micro-batches of consecutive sequence ids (`split_equal`), and a
  gap would cost one more pass over the weights per decode.
- A finished sequence frees its stream and its slot takes the next request at once (continuous
  batching); its result is yielded the moment it is complete.
- Each reply has its own llama.cpp sampler chain (greedy, or seeded sampling with a random state of
  its own) and its own ReplyProgress (end-of-generation tokens, stop strings, max tokens), the same
  objects the single-stream path uses, so both stop alike.
- Memory (`plan_batch`): every stream holds the longest prompt + reply of any request. A plan that
  would not fit in MEMORY_SHARE of the available memory runs with fewer slots, with a note.

Streams, not one unified cache. Both layouts are here (`Layout`). With a unified cache every token's
attention runs over all the sequences' cells, masked (llama-cpp-python leaves flash attention off,
and the non-flash path multiplies the whole mask): its cost grows with slots x length, while a
stream attends to its own cells only. It also keeps each sequence's cells in order from cell 0,
exactly as in the single-stream context, so a sequence's attention sums the same terms in the same
order; in a unified cache other sequences' masked cells sit between them. Measured on a 2-core AVX2
EPYC (one decode of one token for each of B sequences with 64 tokens of context each): B=8, SmolLM2
125 tok/s with streams against 112 unified, Qwen 53 against 53; B=16, 144 against 120 and 71 against
65.

Same answers? llama.cpp does not promise bit-identical logits between a one-token decode and a
batch: a one-row product goes through `ggml_vec_dot_*` and two rows or more through llamafile's
tinyBLAS (sgemm.cpp: `n < 2` returns false) or the repacked Q4_K gemm, which sum in other orders.
On f32 weights the differences are ~1e-7 relative and batched greedy replies equal one-at-a-time
ones token for token (tests/test_llama_batch.py). On quantized weights a near-tie between two
tokens can go either way; perf/gen_batch.py counts how often on the bundled models.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from engines.base import CANCELLED_BEFORE_START, EngineError, GenerationResult, ShouldStop
from engines.llama_ctx import common_prefix, put_token, side_context, sync_threads

if TYPE_CHECKING:
    from engines.llama_cpp_engine import ReplyProgress

DECODE_TOKENS = 256  # tokens per llama_decode: one per generating sequence, the rest prompt chunks
MAX_SLOTS = 64  # sequences generating at once (llama.cpp allows 256 sequences per context)
MEMORY_SHARE = 0.8  # of the memory the OS calls available, the most a batch context may take
CTX_PAD = 256  # llama.cpp pads a context (and each stream) to a multiple of 256 cells
GiB = 1024**3

Layout = Literal["streams", "unified"]
LAYOUT: Layout = "streams"  # see the module docstring

#: (n_ctx, n_ubatch) -> bytes a context of that size takes beyond the loaded weights
ContextBytes = Callable[[int, int], int]


@dataclass(frozen=True)
class BatchPlan:
    """How a set of requests will be decoded: slots, the shared prefix and the cache size."""

    slots: int  # sequences generating at once (0 or 1: run one at a time instead)
    n_ctx: int  # cells of the whole cache (streams: n_seq streams of n_ctx / n_seq cells)
    anchor: tuple[int, ...] = ()  # prompt prefix shared by most requests, held by sequence 0
    note: str | None = None  # why fewer slots than asked for, for the user
    layout: Layout = LAYOUT

    @property
    def n_seq(self) -> int:
        """Sequences in the context: the slots, plus sequence 0 when there is a shared prefix."""
        return self.slots + (1 if self.anchor else 0)


@dataclass
class BatchJob:
    """One reply to generate, prepared by the engine."""

    index: int  # position in the caller's request list
    prompt: list[int]
    sampler: Any  # a llama_cpp._internals.LlamaSampler chain of its own (closed here when done)
    progress: ReplyProgress


@dataclass
class _Slot:
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
    themselves, which skip their own question) differ from it part of the way. Reading a prefix
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


def cache_cells(
    layout: Layout,
    slots: int,
    anchor: Sequence[int],
    prompts: Sequence[Sequence[int]],
    budgets: Sequence[int],
) -> int:
    """Cells a context needs so that any `slots` of the requests fit at once.

    Streams: every stream (the slots', and sequence 0's when there is a shared prefix) holds the
    longest prompt + reply. Unified: the shared prefix once, plus per slot the longest prompt rest
    (what is not copied from the prefix) + reply.
    """
    pairs = list(zip(prompts, budgets, strict=True))
    if layout == "streams":
        per_seq = _padded(max(len(p) + max(b, 0) for p, b in pairs))
        return (slots + (1 if anchor else 0)) * per_seq
    per_slot = max(len(p) - reused(anchor, p) + max(b, 0) for p, b in pairs)
    return _padded(len(anchor) + slots * per_slot)


def plan_batch(
    prompts: Sequence[Sequence[int]],
    budgets: Sequence[int],
    parallel: int,
    context_bytes: ContextBytes,
    *,
    name: str = "model",
    free_bytes: int | None = None,
    layout: Layout = LAYOUT,
) -> BatchPlan:
    """Slots and cache size for `prompts` (tokens) with `budgets` (reply tokens each).

    The slots are the most, up to `parallel`, whose context fits in MEMORY_SHARE of the available
    memory (psutil); fewer than asked because of memory comes with a note. Fewer than two slots
    means: run one at a time.
    """
    if free_bytes is None:
        from models.memory import free_memory_bytes

        free_bytes = free_memory_bytes()
    wanted = max(min(parallel, len(prompts), MAX_SLOTS), 0)
    if wanted < 2:
        return BatchPlan(wanted, 0, layout=layout)
    anchor = shared_prefix(prompts)
    budget = int(free_bytes * MEMORY_SHARE)

    def need(slots: int) -> int:
        return context_bytes(cache_cells(layout, slots, anchor, prompts, budgets), DECODE_TOKENS)

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
    if slots < 2:
        return BatchPlan(slots, 0, anchor, note, layout)
    return BatchPlan(slots, cache_cells(layout, slots, anchor, prompts, budgets), anchor, note, layout)


# ---------------------------------------------------------------------------------------- running


def run_batch(
    llm: Any, plan: BatchPlan, jobs: Sequence[BatchJob], should_stop: ShouldStop | None = None
) -> Iterator[tuple[int, GenerationResult]]:
    """Decode `jobs` `plan.slots` at a time on `llm`'s model; yield each result as it finishes.

    The caller holds the engine (one caller at a time). Once `should_stop()` is true (polled before
    every decode), every job not finished comes back with finish reason "cancelled".
    """
    if not jobs:
        return
    run = _BatchRun(llm, plan, jobs)
    try:
        yield from run.results(should_stop)
    finally:
        run.close()


class _BatchRun:
    """The side context, its llama_batch and the slots of one `run_batch` call."""

    def __init__(self, llm: Any, plan: BatchPlan, jobs: Sequence[BatchJob]) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.llm = llm
        self.plan = plan
        self.jobs = jobs
        self.n_batch = max(DECODE_TOKENS, 2 * plan.slots)
        self.ctx = side_context(
            llm,
            n_ctx=plan.n_ctx,
            n_seq_max=plan.n_seq,
            n_batch=self.n_batch,
            n_ubatch=self.n_batch,
            unified=plan.layout == "unified",
        )
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self.memory = llama_cpp.llama_get_memory(self.ctx.ctx)
        self.anchor = list(plan.anchor)
        self.first_seq = 1 if self.anchor else 0  # sequence 0 holds the shared prefix
        self.pending = deque(jobs)
        self.slots: list[_Slot | None] = [None] * plan.slots  # slot i is sequence first_seq + i
        self.admitted = 0

    def close(self) -> None:
        for job in self.jobs:
            job.sampler.close()
        self._llama_cpp.llama_batch_free(self.batch)
        self.ctx.close()

    # ----- the loop -----------------------------------------------------------------------------
    def results(self, should_stop: ShouldStop | None) -> Iterator[tuple[int, GenerationResult]]:
        def stopped() -> bool:
            return should_stop is not None and should_stop()

        for start in range(0, len(self.anchor), self.n_batch):
            if stopped():
                yield from self._cancel_all()
                return
            part = self.anchor[start : start + self.n_batch]
            for k, token in enumerate(part):
                put_token(self.batch, k, token, start + k, (0,), False)
            self._decode(len(part))

        while self.pending or any(self.slots):
            if stopped():
                yield from self._cancel_all()
                return
            yield from self._admit()
            if any(self.slots):
                yield from self._step()

    def _admit(self) -> Iterator[tuple[int, GenerationResult]]:
        """Free slots take the next requests, each starting from a copy of the shared prefix."""
        llama_cpp = self._llama_cpp
        for i, slot in enumerate(self.slots):
            while slot is None and self.pending:
                job = self.pending.popleft()
                job.progress.start = now = time.perf_counter()  # its clock starts when it gets a slot
                if job.progress.finish is not None:  # nothing to generate (a zero budget)
                    yield job.index, GenerationResult(job.progress.flush(), job.progress.stats(now))
                    continue
                seq = self.first_seq + i
                keep = reused(self.anchor, job.prompt)
                if keep:  # between streams a copy is of the whole stream: cut it back after
                    llama_cpp.llama_memory_seq_cp(self.memory, 0, seq, -1, -1)
                    llama_cpp.llama_memory_seq_rm(self.memory, seq, keep, -1)
                slot = self.slots[i] = _Slot(job, keep, self.admitted)
                self.admitted += 1

    def _step(self) -> Iterator[tuple[int, GenerationResult]]:
        """One decode: a token for every generating sequence, the rest of the room for prompt
        chunks (oldest request first), laid out in sequence order; then sample and finish."""
        active = [(i, s) for i, s in enumerate(self.slots) if s is not None]
        room = self.n_batch - sum(1 for _, s in active if not s.reading)
        takes: dict[int, int] = {}
        for i, slot in sorted(((i, s) for i, s in active if s.reading), key=lambda pair: pair[1].admitted):
            takes[i] = min(room, len(slot.job.prompt) - slot.n_past)
            room -= takes[i]
        n = 0
        rows: list[tuple[int, _Slot, int]] = []  # (slot index, slot, batch row with logits)
        for i, slot in active:
            seq = (self.first_seq + i,)
            if not slot.reading:
                put_token(self.batch, n, slot.next_token, slot.n_past, seq, True)
                rows.append((i, slot, n))
                slot.n_past += 1
                n += 1
                continue
            prompt = slot.job.prompt
            for pos in range(slot.n_past, slot.n_past + takes[i]):
                last = pos == len(prompt) - 1
                put_token(self.batch, n, prompt[pos], pos, seq, last)
                if last:
                    rows.append((i, slot, n))
                n += 1
            slot.n_past += takes[i]
        self._decode(n)
        finished = []
        for i, slot, row in rows:
            progress = slot.job.progress
            token = slot.job.sampler.sample(self.ctx, row)
            text = progress.take(token, time.perf_counter())
            if text:
                slot.pieces.append(text)
            if progress.finish is None:
                slot.next_token = token
                continue
            self._llama_cpp.llama_memory_seq_rm(self.memory, self.first_seq + i, -1, -1)
            self.slots[i] = None
            finished.append(slot)
        if not self.pending:
            self._close_gaps()
        for slot in finished:
            yield slot.job.index, _result(slot, time.perf_counter())

    def _close_gaps(self) -> None:
        """With no request left to fill a free slot, move the last sequences down into the gaps
        (streams only), so every decode stays one run of consecutive sequence ids."""
        if self.plan.layout != "streams":
            return
        llama_cpp = self._llama_cpp
        while None in self.slots:
            gap = self.slots.index(None)
            last = max((i for i, s in enumerate(self.slots) if s is not None), default=-1)
            if last < gap:
                return
            src, dst = self.first_seq + last, self.first_seq + gap
            llama_cpp.llama_memory_seq_cp(self.memory, src, dst, -1, -1)
            llama_cpp.llama_memory_seq_rm(self.memory, src, -1, -1)
            self.slots[gap], self.slots[last] = self.slots[last], None

    def _decode(self, n_tokens: int) -> None:
        self.batch.n_tokens = n_tokens
        sync_threads(self.ctx, self.llm)
        code = self._llama_cpp.llama_decode(self.ctx.ctx, self.batch)
        if code != 0:
            raise EngineError(
                f"llama.cpp could not decode a batch of {n_tokens} tokens (llama_decode returned {code})"
            )

    def _cancel_all(self) -> Iterator[tuple[int, GenerationResult]]:
        now = time.perf_counter()
        for i, slot in enumerate(self.slots):
            if slot is not None:
                slot.job.progress.finish = "cancelled"
                self.slots[i] = None
                yield slot.job.index, _result(slot, now)
        while self.pending:
            yield self.pending.popleft().index, GenerationResult("", CANCELLED_BEFORE_START)


def _result(slot: _Slot, now: float) -> GenerationResult:
    progress = slot.job.progress
    text = "".join(slot.pieces) + progress.flush()
    return GenerationResult(text, progress.stats(now))
