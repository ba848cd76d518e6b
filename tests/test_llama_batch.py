"""Batched generation in the llama.cpp engine (engines/llama_batch.py) on tiny f32 models: the same
replies as one at a time, continuous refill, per-request stops, cancellation, memory planning."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tiny_models import write_tiny_model

import engines.llama_batch as llama_batch
from engines.base import (
    ContextOverflowError,
    EngineError,
    GenerationParams,
    GenerationRequest,
    LoadOptions,
    collect_reply,
)
from engines.llama_batch import CTX_PAD, MEMORY_SHARE, plan_batch, shared_prefix
from engines.llama_cpp_engine import LlamaCppEngine

SYSTEM = {"role": "system", "content": "You answer about the model and the answer, yes or no."}
TOPICS = ["hello", "the model", "a good answer", "no and yes", "bad to the bone", "is it good", "of the"]


def request(i: int, max_tokens: int = 24, **params) -> GenerationRequest:
    user = {"role": "user", "content": f"{TOPICS[i % len(TOPICS)]} {i} " * (1 + i % 3)}
    return GenerationRequest((SYSTEM, user), GenerationParams(max_tokens=max_tokens, **params))


def greedy(i: int, max_tokens: int = 24, **params) -> GenerationRequest:
    return request(i, max_tokens, temperature=0.0, seed=0, **params)


@pytest.fixture(scope="module")
def tiny_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LlamaCppEngine]]:
    root = tmp_path_factory.mktemp("tiny-batch")
    opened = {
        key: LlamaCppEngine(write_tiny_model(key, root / f"{key}.gguf"), LoadOptions(n_ctx=512, n_threads=2))
        for key in ("qwen2", "mistral", "llama")
    }
    yield opened
    for engine in opened.values():
        engine.close()


@pytest.fixture
def batched_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the batch runs (so a test knows the batched path ran, not the one-at-a-time fallback)."""
    runs: list[int] = []
    real = llama_batch.run_batch

    def counting(llm, plan, jobs, should_stop=None):
        runs.append(plan.slots)
        yield from real(llm, plan, jobs, should_stop)

    monkeypatch.setattr(llama_batch, "run_batch", counting)
    return runs


def run_all(engine: LlamaCppEngine, reqs, parallel: int, **kw) -> tuple[list[int], dict]:
    order, results = [], {}
    for index, result in engine.generate_many(reqs, parallel, **kw):
        assert index not in results, "every request comes back exactly once"
        order.append(index)
        results[index] = result
    return order, results


# ------------------------------------------------------------------------------------ same answers


@pytest.mark.parametrize("layout", ["streams", "unified"])
@pytest.mark.parametrize("key", ["qwen2", "mistral", "llama"])
def test_batched_greedy_equals_one_at_a_time_token_for_token(
    tiny_engines: dict[str, LlamaCppEngine],
    batched_runs: list[int],
    key: str,
    layout: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BPE and SentencePiece (leading-space strip) vocabularies, a BOS-adding template; replies of
    different lengths, more requests than slots (finished slots are refilled), a shared system
    prompt evaluated once; both cache layouts. f32 weights: llama.cpp rounds batched products
    differently only at the 1e-7 level (llama_batch.py), which does not move a greedy choice here."""
    engine = tiny_engines[key]
    monkeypatch.setattr(engine, "batch_layout", layout)
    reqs = [greedy(i, max_tokens=50 - 5 * i) for i in range(9)]
    one_by_one = [collect_reply(engine, r) for r in reqs]

    order, results = run_all(engine, reqs, parallel=4)

    assert batched_runs == [4]
    assert order != sorted(order), "short replies come back before long ones"
    for index, expected in enumerate(one_by_one):
        got = results[index]
        assert got.text == expected.text, f"request {index}"
        assert got.stats.completion_tokens == expected.stats.completion_tokens
        assert got.finish_reason == expected.finish_reason
        assert got.stats.prompt_tokens == expected.stats.prompt_tokens
        assert 0 < got.stats.ttft_s <= got.stats.total_s


def test_every_decode_is_one_run_of_consecutive_sequences(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """llama.cpp cuts a multi-stream batch at a gap in the sequence ids (one more pass over the
    weights): when no request is left to fill a finished slot, the last sequence moves into it."""
    import llama_cpp

    engine = tiny_engines["qwen2"]
    reqs = [greedy(i, max_tokens=n) for i, n in enumerate([30, 8, 30, 14, 30, 20])]  # middle ones end first
    expected = [collect_reply(engine, r).text for r in reqs]
    runs: list[list[int]] = []
    real_decode = llama_cpp.llama_decode

    def decode(ctx, batch):  # noqa: ANN001, ANN202
        runs.append(sorted({batch.seq_id[k][0] for k in range(batch.n_tokens)}))
        return real_decode(ctx, batch)

    monkeypatch.setattr(llama_cpp, "llama_decode", decode)
    _, results = run_all(engine, reqs, parallel=6)

    assert batched_runs == [6] and [results[i].text for i in range(6)] == expected
    assert len({len(r) for r in runs}) > 2, "slots finished one after another"
    gaps = [r for r in runs if r != list(range(r[0], r[0] + len(r)))]
    assert not gaps, f"decodes with a gap in their sequence ids: {gaps[:3]}"


def test_each_request_keeps_its_own_stop_strings_and_limits(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int]
) -> None:
    engine = tiny_engines["qwen2"]
    full = collect_reply(engine, greedy(1, max_tokens=40)).text
    assert len(full) > 12
    marker = full[6:9]
    reqs = [greedy(1, 40, stop=(marker,)), greedy(1, 40), greedy(1, 5), greedy(2, 0)]

    _, results = run_all(engine, reqs, parallel=4)

    assert batched_runs == [4]
    assert results[0].text == full[: full.index(marker)] and results[0].finish_reason == "stop"
    assert results[1].text == full
    assert results[2].stats.completion_tokens == 5 and results[2].finish_reason == "length"
    assert results[3].stats.completion_tokens == 0 and results[3].finish_reason == "length"


def test_seeded_sampling_in_a_batch_is_reproducible_and_per_request(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int]
) -> None:
    """Each sequence has its own sampler chain and random state: the same seed gives the same reply
    wherever it sits in the batch, another seed another reply."""
    engine = tiny_engines["llama"]
    reqs = [request(3, 30, temperature=1.0, seed=s) for s in (7, 7, 8, 9)]

    _, first = run_all(engine, reqs, parallel=4)
    _, again = run_all(engine, list(reversed(reqs)), parallel=2)

    assert first[0].text == first[1].text
    assert len({first[0].text, first[2].text, first[3].text}) == 3
    assert [first[i].text for i in range(4)] == [again[3 - i].text for i in range(4)]


# ------------------------------------------------------------------------------ failures and stops


def test_a_prompt_that_does_not_fit_fails_alone(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int]
) -> None:
    engine = tiny_engines["qwen2"]
    too_long = GenerationRequest(({"role": "user", "content": "model " * 600},), GenerationParams())
    reqs = [greedy(0, 6), too_long, greedy(2, 6)]

    _, results = run_all(engine, reqs, parallel=3)

    assert results[1].finish_reason == "error" and isinstance(results[1].error, ContextOverflowError)
    assert results[0].text == collect_reply(engine, reqs[0]).text
    assert results[2].finish_reason in ("stop", "length") and results[2].stats.completion_tokens > 0


def test_cancelling_returns_unfinished_requests_and_leaves_the_engine_usable(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int]
) -> None:
    engine = tiny_engines["mistral"]
    polls = 0

    def stop() -> bool:
        nonlocal polls
        polls += 1
        return polls > 6

    _, results = run_all(engine, [greedy(i, 60) for i in range(6)], parallel=3, should_stop=stop)

    assert sorted(results) == list(range(6))
    assert all(r.finish_reason == "cancelled" for r in results.values())
    started = [r for r in results.values() if r.stats.completion_tokens]
    assert len(started) == 3, "three slots had started generating; the rest never began"
    assert collect_reply(engine, greedy(0, 4)).stats.completion_tokens == 4


def test_the_engine_serves_one_caller_at_a_time_during_a_batch(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int]
) -> None:
    engine = tiny_engines["qwen2"]
    batch = engine.generate_many([greedy(i, 30) for i in range(4)], parallel=4)
    next(batch)
    with pytest.raises(EngineError, match="busy"):
        collect_reply(engine, greedy(0, 2))
    batch.close()
    assert collect_reply(engine, greedy(0, 2)).stats.completion_tokens == 2


def test_short_of_memory_the_batch_runs_smaller_with_a_note(
    tiny_engines: dict[str, LlamaCppEngine], batched_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = tiny_engines["qwen2"]
    reqs = [greedy(i, 120) for i in range(6)]
    expected = [collect_reply(engine, r).text for r in reqs]
    need = {n: engine._batch_bytes(_ctx_for(engine, reqs, n), llama_batch.DECODE_TOKENS) for n in range(2, 7)}
    fits = next(n for n in range(2, 6) if need[n] < need[n + 1])  # the cache grows in 256-cell steps
    notes: list[str] = []

    # Room for `fits` sequences but not one more: `fits` run at once, and the caller is told.
    monkeypatch.setattr("models.memory.free_memory_bytes", lambda: int(need[fits] / MEMORY_SHARE) + 1)
    _, results = run_all(engine, reqs, parallel=fits + 1, on_note=notes.append)

    assert batched_runs == [fits]
    assert len(notes) == 1 and f"{fits} at once instead of {fits + 1}" in notes[0] and "GiB" in notes[0]
    assert [results[i].text for i in range(6)] == expected

    # Room for less than two: one at a time (the engine's own context), said so too.
    monkeypatch.setattr("models.memory.free_memory_bytes", lambda: int(need[2] / MEMORY_SHARE) - 1)
    _, results = run_all(engine, reqs, parallel=4, on_note=notes.append)
    assert batched_runs == [fits] and "one at a time instead of 4" in notes[1]
    assert [results[i].text for i in range(6)] == expected


def _ctx_for(engine: LlamaCppEngine, reqs, slots: int) -> int:
    prompts = [engine._tokenize_prompt(engine.render_chat(r.messages)) for r in reqs]
    budgets = [engine._budget(r.params, len(p)) for r, p in zip(reqs, prompts, strict=True)]
    return plan_batch(prompts, budgets, slots, lambda n_ctx, ub: 0, free_bytes=10**15).n_ctx


# ---------------------------------------------------------------------------------------- planning


def test_shared_prefix_is_the_block_most_prompts_share() -> None:
    shots = list(range(100, 140))  # e.g. instruction + few-shot exemplars
    prompts = [shots + [1, i] for i in range(8)]
    prompts.append(list(range(100, 120)) + [7, 7, 7])  # an exemplar item: its shots differ midway
    prompts.append([5, 6, 7])  # something else entirely

    assert shared_prefix(prompts) == tuple(shots + [1])
    assert shared_prefix([[1, 2, 3], [4, 5, 6]]) == ()
    assert shared_prefix([[1, 2, 3]]) == ()


def test_plan_sizes_every_stream_for_the_longest_request_and_fits_memory() -> None:
    prompts = [[9] * 50 + [i] * (10 + i) for i in range(6)]  # 50 shared tokens, rests of 10-15
    budgets = [20] * 6  # the longest request: 65 prompt tokens + 20 -> streams of 256 cells

    def kv_bytes(n_ctx: int, n_ubatch: int) -> int:
        return n_ctx * 1000

    plan = plan_batch(prompts, budgets, 4, kv_bytes, free_bytes=10**9)
    assert (plan.slots, plan.note, plan.layout) == (4, None, "streams")
    assert plan.anchor == tuple([9] * 50)
    assert (plan.n_seq, plan.n_ctx) == (5, 5 * CTX_PAD), "a stream each for the slots and the shared prefix"
    # One unified cache holds the prefix once and, per slot, the longest rest (15) + reply (20).
    unified = plan_batch(prompts, budgets, 4, kv_bytes, free_bytes=10**9, layout="unified")
    assert (unified.n_seq, unified.n_ctx) == (5, CTX_PAD) and CTX_PAD >= 50 + 4 * 35

    assert plan_batch(prompts, budgets, 16, kv_bytes, free_bytes=10**9).slots == 6, "not more than requests"

    room_for_five = int(kv_bytes(6 * CTX_PAD, 0) / MEMORY_SHARE) + 1
    small = plan_batch(prompts, budgets, 6, kv_bytes, free_bytes=room_for_five, name="m")
    assert small.slots == 5 and small.note is not None and small.note.startswith("m: generating 5 at once")

    none = plan_batch(prompts, budgets, 4, kv_bytes, free_bytes=1000)
    assert none.slots < 2 and "one at a time" in (none.note or "")
    one = plan_batch(prompts, budgets, 1, kv_bytes, free_bytes=1)
    assert (one.slots, one.note) == (1, None), "asked for one at a time: no note"

    distinct = plan_batch([[1, 2], [3, 4]], [10, 10], 2, kv_bytes, free_bytes=10**9)
    assert distinct.anchor == () and distinct.n_seq == 2, "no shared prefix, no sequence for it"


def test_engine_memory_estimate_grows_with_the_cache(tiny_engines: dict[str, LlamaCppEngine]) -> None:
    engine = tiny_engines["qwen2"]
    small, large = engine._batch_bytes(1024, 256), engine._batch_bytes(4096, 256)
    # qwen2 tiny: 2 layers x 2 KV heads x (16 + 16) dims x 2 bytes = 256 bytes per cell
    assert large - small >= (4096 - 1024) * 256
