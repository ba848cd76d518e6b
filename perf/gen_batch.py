"""What batched generation buys, measured side by side in one run (ratios, not absolute times).

1. For each bundled model: 20 math and 10 summarize items of the built-in suites (the runner's
   selection, seed 0; the runner's prompts and limits: greedy, 256 / 160 tokens) through
   `LlamaCppEngine.generate_many`, one at a time (`parallel=1`, the single-stream path) and
   batched (`parallel=P`, several sequences per llama.cpp decode). Items/s both ways, the speedup,
   and, without asserting anything, how many replies are identical both ways and the math
   exact-match score both ways (llama.cpp rounds batched products differently on quantized
   weights, see engines/llama_batch.py, so a near-tie between two tokens may go either way).
2. `RemoteEngine.generate_many` against a local server (tests/chat_server.py) that answers every
   request after a fixed delay, like a busy inference server: 8 requests in flight against 1.
3. With `--sweep 1,2,4,8,16`: items/s of the math items by P on each model, to choose the default.

Usage: python perf/gen_batch.py [--parallel 16] [--math 20] [--summarize 10] [--threads N]
                                [--sweep 1,2,4,8,16] [--models qwen,smol]
The last line is `batched_gen_speedup_qwen=… batched_gen_speedup_smol=… remote_parallel_speedup=…`.
Uses DUEL_HOME (or the user's data dir) for the assembled Qwen. Peak RSS is printed at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # chat_server: the local OpenAI-compatible server

from benchmarks.parsing import parse_number  # noqa: E402
from benchmarks.prompts import chat_prompt  # noqa: E402
from benchmarks.runner import select_items  # noqa: E402
from benchmarks.scoring import score_parsed  # noqa: E402
from benchmarks.suites import Item, load_suite  # noqa: E402
from engines.base import GenerationParams, GenerationRequest, GenerationResult, LoadOptions  # noqa: E402
from engines.llama_cpp_engine import LlamaCppEngine  # noqa: E402
from engines.parallel import DEFAULT_PARALLEL  # noqa: E402
from engines.threads import available_cores  # noqa: E402
from models.resolve import resolve  # noqa: E402

MODELS = {"qwen": "qwen2.5-coder-0.5b", "smol": "smollm2-135m"}
REMOTE_REQUESTS = 32
REMOTE_DELAY_S = 0.25


def suite_requests(name: str, n: int) -> tuple[list[Item], list[GenerationRequest]]:
    suite = load_suite(name)
    items = select_items(suite, n, 0)
    prompts = [chat_prompt(suite, item, []) for item in items]
    return items, [GenerationRequest(p.messages, p.params) for p in prompts]


CPU_S: dict[int, float] = {}  # CPU seconds of the last timed run by P (a shared machine's wall time drifts)


def timed(engine: LlamaCppEngine, reqs: list[GenerationRequest], parallel: int) -> tuple[float, dict]:
    engine._llm.reset()  # no prompt prefix left in the engine's cache from the previous run
    start, cpu = time.perf_counter(), time.process_time()
    results: dict[int, GenerationResult] = dict(engine.generate_many(reqs, parallel, on_note=print))
    elapsed = time.perf_counter() - start
    CPU_S[parallel] = time.process_time() - cpu
    bad = [r.finish_reason for r in results.values() if r.finish_reason not in ("stop", "length")]
    assert len(results) == len(reqs) and not bad, bad
    return elapsed, results


def exact_matches(items: list[Item], results: dict[int, GenerationResult]) -> int:
    scores = [score_parsed(parse_number(results[i].text), item.target) for i, item in enumerate(items)]
    return sum(int(score.value) for score in scores)


def compare_model(key: str, parallel: int, threads: int, n_math: int, n_summ: int) -> float:
    engine = LlamaCppEngine(resolve(MODELS[key]), LoadOptions(n_ctx=4096, n_threads=threads))
    try:
        total_one = total_many = 0.0
        n_items = 0
        for suite, n in (("math", n_math), ("summarize", n_summ)):
            if n <= 0:
                continue
            items, reqs = suite_requests(suite, n)
            # Batched first on even suites, one at a time first on odd ones: drift in machine load
            # does not favour one side.
            if suite == "math":
                t_many, many = timed(engine, reqs, parallel)
                t_one, one = timed(engine, reqs, 1)
            else:
                t_one, one = timed(engine, reqs, 1)
                t_many, many = timed(engine, reqs, parallel)
            cpu_ratio = CPU_S[1] / CPU_S[parallel]
            same = sum(one[i].text == many[i].text for i in range(len(reqs)))
            tokens = sum(r.stats.completion_tokens for r in many.values())
            line = (
                f"  {key} {suite}: {len(reqs)} items, one at a time {len(reqs) / t_one:.3f} items/s, "
                f"batched (P={parallel}) {len(reqs) / t_many:.3f} items/s, speedup {t_one / t_many:.2f}; "
                f"(CPU time {cpu_ratio:.2f}); identical replies {same}/{len(reqs)}; {tokens} tokens batched"
            )
            if suite == "math":
                right = exact_matches(items, one), exact_matches(items, many)
                line += f"; exact match {right[0]} one at a time, {right[1]} batched"
            print(line, flush=True)
            total_one += t_one
            total_many += t_many
            n_items += len(reqs)
        speedup = total_one / total_many
        print(f"  {key}: {n_items} items, speedup {speedup:.2f}", flush=True)
        return speedup
    finally:
        engine.close()


def sweep(key: str, widths: list[int], threads: int, n_math: int) -> None:
    engine = LlamaCppEngine(resolve(MODELS[key]), LoadOptions(n_ctx=4096, n_threads=threads))
    try:
        _, reqs = suite_requests("math", n_math)
        base = None
        for width in widths:
            elapsed, results = timed(engine, reqs, width)
            tokens = sum(r.stats.completion_tokens for r in results.values())
            base = base or elapsed
            print(
                f"  {key} math P={width}: {len(reqs) / elapsed:.3f} items/s, "
                f"{tokens / elapsed:.1f} tokens/s, speedup {base / elapsed:.2f}, "
                f"{tokens / CPU_S[width]:.1f} tokens per CPU-second",
                flush=True,
            )
    finally:
        engine.close()


def remote_speedup(parallel: int) -> float:
    from chat_server import ChatServer, Reply

    from engines.remote import RemoteEngine

    server = ChatServer([], route=lambda body: Reply(words=("ok", "."), hang_s=REMOTE_DELAY_S))
    try:
        engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?timeout=30")
        reqs = [
            GenerationRequest(({"role": "user", "content": f"item {i}"},), GenerationParams(max_tokens=8))
            for i in range(REMOTE_REQUESTS)
        ]
        rates = {}
        for width in (1, parallel):
            start = time.perf_counter()
            results = dict(engine.generate_many(reqs, width))
            elapsed = time.perf_counter() - start
            assert all(r.text == "ok." for r in results.values())
            rates[width] = REMOTE_REQUESTS / elapsed
            print(f"  remote, {REMOTE_DELAY_S:g} s per answer, N={width}: {rates[width]:.2f} items/s "
                  f"(server saw {server.most_in_flight} at once)", flush=True)
            server.most_in_flight = 0
        return rates[parallel] / rates[1]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL)
    parser.add_argument("--math", type=int, default=20)
    parser.add_argument("--summarize", type=int, default=10)
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--sweep", default="", help="comma-separated P values to sweep on the math items")
    parser.add_argument("--models", default="qwen,smol")
    args = parser.parse_args()

    import llama_cpp

    print(llama_cpp.llama_print_system_info().decode().strip())
    print(f"threads {args.threads}, cores available {available_cores()}")
    keys = [k for k in args.models.split(",") if k]
    if args.sweep:
        widths = [int(w) for w in args.sweep.split(",")]
        print(f"(3) math items by P ({args.math} items)")
        for key in keys:
            sweep(key, widths, args.threads, args.math)
    print(f"(1) batched (P={args.parallel}) vs one at a time")
    speedups = {k: compare_model(k, args.parallel, args.threads, args.math, args.summarize) for k in keys}
    print("(2) remote engine, fixed-delay local server")
    remote = remote_speedup(8)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")
    print(
        f"batched_gen_speedup_qwen={speedups.get('qwen', float('nan')):.2f} "
        f"batched_gen_speedup_smol={speedups.get('smol', float('nan')):.2f} "
        f"remote_parallel_speedup={remote:.2f}"
    )


if __name__ == "__main__":
    main()
