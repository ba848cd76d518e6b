"""How much duel's streaming path costs, and what running two models at once gives, measured side by side.

(a) overhead_ratio: generation tokens/s of `LlamaCppEngine.stream_chat` (template, stop checks,
    incremental UTF-8 decoding, Chunk objects) over a bare `Llama.generate` token loop on the same
    Llama object, same prompt tokens, same threads, greedy, the same number of tokens. Runs
    alternate, medians are compared. Target >= 0.95.
(b) side_by_side_ratio: aggregate tokens/s (all generated tokens / wall time, prompt included) of the
    bundled Qwen and SmolLM2 generating at once through the TUI's path, `ModelPair` (one worker
    thread per pane, cores split between them, one thread each on a 2-core machine; when one
    finishes the other gets its cores), over the same two run one after another with all cores.
    Target >= 0.90.

Usage: python perf/stream_overhead.py [--tokens 256] [--rounds 3] [--threads N]
The last line is `overhead_ratio=... side_by_side_ratio=...`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.base import GenerationParams, LoadOptions, Stats  # noqa: E402
from engines.llama_cpp_engine import LlamaCppEngine  # noqa: E402
from engines.threads import available_cores, split_threads  # noqa: E402
from models.resolve import resolve  # noqa: E402

PROMPT = [{"role": "user", "content": "Write a long, detailed story about a fox who learns hash maps."}]


def _fresh(engine: LlamaCppEngine) -> None:
    # Forget the KV cache so every run evaluates its prompt from scratch (prefix reuse would favour
    # whichever run comes second).
    engine._llm.reset()


def engine_run(engine: LlamaCppEngine, n_tokens: int) -> Stats:
    _fresh(engine)
    params = GenerationParams(max_tokens=n_tokens, temperature=0.0, seed=1)
    stats = None
    for chunk in engine.stream_chat(PROMPT, params):
        stats = chunk.stats or stats
    assert stats is not None
    return stats


def bare_run(engine: LlamaCppEngine, n_tokens: int) -> float:
    """Generation tokens/s of a plain llama-cpp-python loop: the same Llama, prompt tokens and sampler."""
    _fresh(engine)
    llm = engine._llm
    prompt = engine._tokenize_prompt(engine.render_chat(PROMPT))
    first = last = 0.0
    produced = 0
    generator = llm.generate(prompt, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)
    for _token in generator:
        last = time.perf_counter()
        if produced == 0:
            first = last
        produced += 1
        if produced >= n_tokens:
            break
    generator.close()
    return (produced - 1) / (last - first)


def measure_overhead(engine: LlamaCppEngine, n_tokens: int, rounds: int) -> float:
    print(f"(a) stream_chat vs bare Llama.generate: {engine.describe().name}, {engine.threads} threads")
    probe = engine_run(engine, n_tokens)  # also warms up caches and page-ins
    n = probe.completion_tokens  # the bare loop makes exactly as many tokens as the engine did
    print(f"    {n} tokens per run (finish: {probe.finish_reason})")
    duel_rates, bare_rates = [], []
    for i in range(rounds):
        # Alternate which goes first so a drift in machine load does not favour one side; compare
        # within each round (paired), then take the median of the per-round ratios.
        if i % 2 == 0:
            duel_rates.append(engine_run(engine, n).tokens_per_s)
            bare_rates.append(bare_run(engine, n))
        else:
            bare_rates.append(bare_run(engine, n))
            duel_rates.append(engine_run(engine, n).tokens_per_s)
        print(f"    round {i + 1}: duel {duel_rates[-1]:.2f} tok/s   bare {bare_rates[-1]:.2f} tok/s   "
              f"ratio {duel_rates[-1] / bare_rates[-1]:.3f}")
    ratio = statistics.median(d / b for d, b in zip(duel_rates, bare_rates, strict=True))
    print(f"    medians: duel {statistics.median(duel_rates):.2f}, bare "
          f"{statistics.median(bare_rates):.2f} tok/s; median paired ratio {ratio:.3f}")
    return ratio


def together(engines: list[LlamaCppEngine], n_tokens: int, total: int) -> tuple[int, float]:
    """Both at once exactly as the TUI's panes run them: one worker thread per side, each inside
    `ModelPair.generating(side)` on its side's slot, so the pair splits the cores between the sides
    answering and hands the cores of the side that finishes first to the other (`duel chat` goes
    through the same pair)."""
    from tui.pair import ModelPair

    by_ref = {engine.describe().name: engine for engine in engines}
    refs = list(by_ref)
    pair = ModelPair(refs[0], refs[1], open_engine=lambda ref, options=None, progress=None: by_ref[ref],
                     total_threads=total)
    for side, ref in zip(pair.sides, refs, strict=True):
        pair.switch(side, ref, LoadOptions())  # hands over the loaded engine, sets its thread share
        _fresh(by_ref[ref])
    params = GenerationParams(max_tokens=n_tokens, temperature=0.0, seed=1)
    produced: dict[str, int] = {}
    errors: list[BaseException] = []

    def pane_worker(side: str) -> None:
        try:
            with pair.slot(side).hold() as slot, pair.generating(side):
                for chunk in slot.engine.stream_chat(PROMPT, params):
                    if chunk.stats is not None:
                        produced[side] = chunk.stats.completion_tokens
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    workers = [threading.Thread(target=pane_worker, args=(side,)) for side in pair.sides]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start
    if errors:
        raise errors[0]
    return sum(produced.values()), wall


def one_after_another(engines: list[LlamaCppEngine], n_tokens: int, total: int) -> tuple[int, float]:
    produced = 0
    start = time.perf_counter()
    for engine in engines:
        engine.set_threads(total)
        produced += engine_run(engine, n_tokens).completion_tokens
    return produced, time.perf_counter() - start


def measure_side_by_side(engines: list[LlamaCppEngine], n_tokens: int, rounds: int, total: int) -> float:
    names = " + ".join(e.describe().name for e in engines)
    print(f"(b) {names}: at once (threads {split_threads(len(engines), total)}) vs one after another"
          f" ({total} threads each)")
    par_rates, seq_rates = [], []
    for i in range(rounds):
        if i % 2 == 0:
            n_par, t_par = together(engines, n_tokens, total)
            n_seq, t_seq = one_after_another(engines, n_tokens, total)
        else:
            n_seq, t_seq = one_after_another(engines, n_tokens, total)
            n_par, t_par = together(engines, n_tokens, total)
        par_rates.append(n_par / t_par)
        seq_rates.append(n_seq / t_seq)
        print(f"    round {i + 1}: at once {n_par} tok in {t_par:.2f} s = {par_rates[-1]:.2f} tok/s   "
              f"sequential {n_seq} tok in {t_seq:.2f} s = {seq_rates[-1]:.2f} tok/s   "
              f"ratio {par_rates[-1] / seq_rates[-1]:.3f}")
    ratio = statistics.median(p / q for p, q in zip(par_rates, seq_rates, strict=True))
    print(f"    medians: at once {statistics.median(par_rates):.2f}, sequential "
          f"{statistics.median(seq_rates):.2f} tok/s; median paired ratio {ratio:.3f}")
    return ratio


def _load_note() -> str:
    try:
        one_minute = os.getloadavg()[0]
    except OSError:
        return ""
    busy = "  (busy machine: llama.cpp threads wait on each other, figures are noisy)" \
        if one_minute > 0.5 * available_cores() else ""
    return f"load average {one_minute:.2f}{busy}"


def time_outside_llama(engine: LlamaCppEngine, n_tokens: int) -> tuple[float, float]:
    """Per token: seconds spent between llama-cpp-python handing over a token and being asked for
    the next one, through stream_chat minus through the bare loop, and the share of a token's time
    that is. Load on the machine slows decoding far more than this Python work, so this is the
    figure that still means something on a busy machine.
    """
    original = engine._llm.generate
    gaps: list[float] = []
    decode: list[float] = []

    def timed(*args: object, **kwargs: object):
        inner = original(*args, **kwargs)
        while True:
            begin = time.perf_counter()
            token = next(inner)
            handed = time.perf_counter()
            decode.append(handed - begin)
            yield token
            gaps.append(time.perf_counter() - handed)

    engine._llm.generate = timed
    try:
        engine_run(engine, n_tokens)
        duel_gap = statistics.mean(gaps)
        gaps.clear()
        bare_run(engine, n_tokens)
        bare_gap = statistics.mean(gaps)
    finally:
        del engine._llm.generate  # back to the class attribute
    per_token = statistics.median(decode)
    extra = max(duel_gap - bare_gap, 0.0)
    return extra, extra / per_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="cores to use (default: all available)")
    args = parser.parse_args()
    total = args.threads or available_cores()
    print(f"machine: {available_cores()} cores available, using {total}; python {sys.version.split()[0]}; "
          f"{_load_note()}")
    qwen = LlamaCppEngine(resolve("qwen2.5-coder-0.5b"), LoadOptions(n_ctx=1024, n_threads=total))
    smol = LlamaCppEngine(resolve("smollm2-135m"), LoadOptions(n_ctx=1024, n_threads=total))
    try:
        overhead = measure_overhead(qwen, args.tokens, args.rounds)
        extra, share = time_outside_llama(qwen, args.tokens)
        print(f"    duel's own work between tokens: {extra * 1e6:.1f} us/token "
              f"= {share:.2%} of a token's time")
        side = measure_side_by_side([qwen, smol], args.tokens, args.rounds, total)
        print(f"after: {_load_note()}")
    finally:
        qwen.close()
        smol.close()
    print(f"overhead_ratio={overhead:.2f} side_by_side_ratio={side:.2f}")


if __name__ == "__main__":
    main()
