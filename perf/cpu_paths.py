"""Speed of each weight placement that works on this CPU, for both bundled models, side by side.

For every distinct placement (engines/weights.py: what "auto" resolves to here, "plain" = no extra
buffer types, and any other choice that changes the buffers and is safe here; "all" is never run on
a CPU whose llama.cpp has AMX kernels, since it crashes there), each bundled model is loaded once,
and then, round after round, in alternation:
- prompt tok/s: one decode of a ~PROMPT-token prompt from an empty KV cache;
- gen tok/s: after a 1-token prompt, GEN single-token decodes (the step of every generated token).
The fastest round of each is compared (other programs only ever slow a round down, so the best
round is the one nearest what the placement can do; the median and the range are printed too):
gen_speed_auto_vs_plain = auto's best gen tok/s over plain's.
Target: >= 0.98 everywhere (auto never loses to the blunt fix), > 1 where the CPU has a safe faster
path. Where auto and plain get the same buffers (a model with nothing to repack), the ratio is 1 by
construction and what is printed is noise.

Usage: python perf/cpu_paths.py [--rounds 5] [--gen 64] [--prompt 256] [--threads N]
The last line is `gen_speed_auto_vs_plain_qwen=... gen_speed_auto_vs_plain_smol=...`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.llama_cpp_engine import LoadedWeights, load_llama  # noqa: E402
from engines.threads import available_cores  # noqa: E402
from engines.weights import Placement, choose, cpu_report, system_info  # noqa: E402
from models.resolve import resolve  # noqa: E402

MODELS = {"qwen": "qwen2.5-coder-0.5b", "smol": "smollm2-135m"}
TEXT = (
    "A hash map stores key and value pairs. Each key is hashed to pick a bucket, and the value is kept "
    "there, so finding it again takes about the same time however many pairs the map holds. "
)


def placements() -> dict[str, Placement]:
    """Choice -> placement, one per distinct set of buffer types this CPU would really use."""
    report = cpu_report()
    offered = set(report.extra_bufts or ())
    chosen: dict[str, Placement] = {}
    seen: set[tuple[bool, frozenset[str]]] = set()
    for choice in ("auto", "plain", "no-amx", "all"):
        placement = choose(choice)
        if placement.mode == "all" and report.has_amx:
            print(f"  skipping {choice!r}: {placement.reason}")
            continue
        key = (placement.use_extra_bufts, frozenset(offered - placement.exclude) if placement.use_extra_bufts
               else frozenset())
        if key not in seen:
            seen.add(key)
            chosen[choice] = placement
    return chosen


def prompt_speed(llm: Any, tokens: list[int]) -> float:
    llm.reset()  # an empty KV cache: the whole prompt is evaluated
    start = time.perf_counter()
    llm.eval(tokens)
    return len(tokens) / (time.perf_counter() - start)


def gen_speed(llm: Any, tokens: list[int], n: int) -> float:
    llm.reset()
    llm.eval(tokens[:1])  # a 1-token prompt, then one decode per generated token
    start = time.perf_counter()
    for token in tokens[1 : n + 1]:
        llm.eval([token])
    return n / (time.perf_counter() - start)


def measure(name: str, ref: str, args: argparse.Namespace, threads: int) -> dict[str, dict[str, float]]:
    path = resolve(ref).path
    loaded: dict[str, tuple[Any, LoadedWeights]] = {}
    try:
        for choice, placement in placements().items():
            loaded[choice] = load_llama(path, placement, n_ctx=2048, n_batch=512, n_threads=threads,
                                        n_threads_batch=threads)
        llm0 = next(iter(loaded.values()))[0]
        tokens = llm0.tokenize((TEXT * 20).encode())[: max(args.prompt, args.gen + 1)]
        prompt = tokens[: args.prompt]
        for _, llm_weights in loaded.items():  # warm up: page in the weights, first-call costs
            gen_speed(llm_weights[0], tokens, 4)
        runs: dict[str, dict[str, list[float]]] = {c: {"prompt": [], "gen": []} for c in loaded}
        for _ in range(args.rounds):
            for choice, (llm, _) in loaded.items():  # alternate, so a busy moment hits every choice
                runs[choice]["prompt"].append(prompt_speed(llm, prompt))
                runs[choice]["gen"].append(gen_speed(llm, tokens, args.gen))
        result = {}
        for choice, (_, weights) in loaded.items():
            best = {kind: max(values) for kind, values in runs[choice].items()}
            med = {kind: statistics.median(values) for kind, values in runs[choice].items()}
            low = {kind: min(values) for kind, values in runs[choice].items()}
            print(f"  {name:5} {choice:7} {weights.describe():48} prompt {best['prompt']:7.1f} tok/s "
                  f"(median {med['prompt']:.1f}, slowest {low['prompt']:.1f})   gen {best['gen']:6.1f} tok/s "
                  f"(median {med['gen']:.1f}, slowest {low['gen']:.1f})")
            result[choice] = best
        buffers = loaded["auto"][1].buffers
        if buffers.keys() == loaded["plain"][1].buffers.keys():
            print(f"  {name}: auto and plain place the weights alike here ({', '.join(buffers)}): the same "
                  "computation, so their ratio measures only noise")
        return result
    finally:
        for llm, _ in loaded.values():
            llm.close()


def _load_note() -> str:
    try:
        return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gen", type=int, default=64, help="single-token decodes per generation run")
    parser.add_argument("--prompt", type=int, default=256, help="prompt tokens per prompt run")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: all available cores)")
    args = parser.parse_args()
    threads = args.threads or available_cores()
    print(f"llama.cpp system info: {system_info().strip()}")
    print(f"auto here: {choose('auto').summary()}")
    print(f"threads {threads}; {args.rounds} rounds; {_load_note()}")
    ratios = {}
    for name, ref in MODELS.items():
        result = measure(name, ref, args, threads)
        ratios[name] = {kind: result["auto"][kind] / result["plain"][kind] for kind in ("gen", "prompt")}
        print(f"  {name}: auto/plain  gen {ratios[name]['gen']:.3f}  prompt {ratios[name]['prompt']:.3f}")
    print(f"after: {_load_note()}")
    print(" ".join(f"gen_speed_auto_vs_plain_{name}={r['gen']:.2f}" for name, r in ratios.items()))


if __name__ == "__main__":
    main()
