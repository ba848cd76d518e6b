"""Benchmark scoring speed, measured side by side in one run (ratios, not absolute times, are the point).

1. For each bundled model, the same 60 sentiment items (stratified, seed 0) through the real runner:
   `--method generate` (chat answer, max 8 tokens, greedy, parsed) vs the default log-likelihood scoring
   (batched, shared-prefix reuse). Items/s of each, and the ratio.
2. 5-shot `knowledge` on Qwen: log-likelihood scoring with the shared 5-shot prefix kept in the KV cache
   vs evaluating every prompt from scratch (same batching otherwise).

Each measurement runs ROUNDS times (fresh results store each time, model already loaded) and keeps
the fastest, since this machine is shared and noisy. The last line is machine-readable:
`loglik_speedup_qwen=… loglik_speedup_smol=… fewshot_prefix_speedup=…`.

Run: python perf/bench_speed.py   (uses DUEL_HOME or the user's data dir for the assembled Qwen)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.prompts import exemplars_for, loglik_prompt  # noqa: E402
from benchmarks.runner import BenchRequest, run_bench, select_items  # noqa: E402
from benchmarks.store import ResultsStore  # noqa: E402
from benchmarks.suites import load_suite  # noqa: E402
from engines.base import Engine, LoadOptions  # noqa: E402
from engines.factory import open_engine  # noqa: E402

ROUNDS = 2
N_SENTIMENT = 60
N_FEWSHOT = 24
MODELS = {"qwen": "qwen2.5-coder-0.5b", "smol": "smollm2-135m"}


class _Borrowed:
    """Hands the runner an already loaded engine (load time excluded); main() closes it at the end."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, ref: str, options: Any = None, progress: Any = None) -> Engine:
        return self.engine


def _runner_items_per_s(engine: Engine, ref: str, method: str, tmp: Path) -> float:
    best = float("inf")
    for round_ in range(ROUNDS):
        db = tmp / f"{ref}-{method}-{round_}.sqlite3"
        with ResultsStore(db) as store:
            start = time.perf_counter()
            outcome = run_bench(
                BenchRequest(("sentiment",), (ref,), limit=N_SENTIMENT, seed=0, method=method),
                open_engine=_Borrowed(engine),
                store=store,
            )
            elapsed = time.perf_counter() - start
        assert outcome.computed == N_SENTIMENT, outcome
        best = min(best, elapsed)
    return N_SENTIMENT / best


def _fewshot_speedup(tmp: Path) -> tuple[float, float]:
    from engines.llama_cpp_engine import load_llama
    from engines.llama_loglik import score_requests
    from engines.threads import available_cores
    from models.resolve import resolve

    info = resolve(MODELS["qwen"])
    cores = available_cores()
    llm, _ = load_llama(info.path, n_ctx=4096, n_threads=cores, n_threads_batch=cores)
    suite = load_suite("knowledge")
    items = select_items(suite, N_FEWSHOT, 0)
    requests = []
    for item in items:
        prompt = loglik_prompt(suite, item, exemplars_for(suite, item, 5))
        requests.append((prompt.context, prompt.options))
    prompt_tokens = len(llm.tokenize(requests[0][0].encode()))
    print(f"fewshot: {len(requests)} 5-shot knowledge prompts, ~{prompt_tokens} tokens each")
    score_requests(llm, requests[:2])  # warm-up
    timings = {}
    for reuse in (True, False):
        best = float("inf")
        for _ in range(ROUNDS):
            score_requests(llm, [("x", [" y"])], reuse_prefix=False)  # drop any cached prefix
            start = time.perf_counter()
            score_requests(llm, requests, reuse_prefix=reuse)
            best = min(best, time.perf_counter() - start)
        timings[reuse] = len(requests) / best
        print(f"fewshot: prefix reuse={reuse}: {timings[reuse]:.2f} items/s")
    llm.close()
    return timings[True], timings[False]


def main() -> int:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for key, ref in MODELS.items():
            engine = open_engine(ref, LoadOptions(n_ctx=4096))
            real_close = engine.close
            engine.close = lambda: None  # type: ignore[method-assign]  # the runner closes what it opens
            try:
                # Warm-up: page the weights in and build the scoring context before timing.
                _runner_items_per_s_warm(engine, ref, tmp)
                gen = _runner_items_per_s(engine, ref, "generate", tmp)
                ll = _runner_items_per_s(engine, ref, "loglik", tmp)
            finally:
                real_close()
            results[key] = ll / gen
            print(f"{ref}: generate {gen:.2f} items/s, loglik {ll:.2f} items/s, speedup {ll / gen:.2f}x")
        with_reuse, without = _fewshot_speedup(tmp)
        results["fewshot"] = with_reuse / without
    print(
        f"loglik_speedup_qwen={results['qwen']:.2f} loglik_speedup_smol={results['smol']:.2f} "
        f"fewshot_prefix_speedup={results['fewshot']:.2f}"
    )
    return 0


def _runner_items_per_s_warm(engine: Engine, ref: str, tmp: Path) -> None:
    for method in ("loglik", "generate"):
        with ResultsStore(tmp / f"warm-{ref}-{method}.sqlite3") as store:
            run_bench(
                BenchRequest(("sentiment",), (ref,), limit=3, seed=1, method=method),
                open_engine=_Borrowed(engine),
                store=store,
            )


if __name__ == "__main__":
    sys.exit(main())
