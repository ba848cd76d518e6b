"""The leaderboard's cost: 10,000 simulated votes among 10 models, the fit and 1,000 bootstrap resamples.

(a) bt_fit_ms: aggregating the votes and fitting the ratings once (median of --repeats runs).
(b) bootstrap_s: the whole `fit_with_intervals` with 1,000 resamples (fit included). Target <= 10 s on
    2 cores.
Side by side, on the same votes: the vectorised bootstrap (all resamples of a block in one scipy
optimisation) against one scipy optimisation per resample, on --loop-resamples resamples, as a
per-resample time ratio. Also printed: how far the ratings land from the true ones and how many true
ratings fall inside their 95% intervals, so a fast but wrong fit shows.

Usage: python perf/leaderboard.py [--votes 10000] [--models 10] [--resamples 1000] [--threads 2]
The last line is `bt_fit_ms=... bootstrap_s=...`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--loop-resamples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP threads numpy may use")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def system_line() -> str:
    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info()
        info = info.decode() if isinstance(info, bytes) else str(info)
    except Exception as exc:  # the figure does not depend on llama.cpp; say why the line is missing
        info = f"(llama_cpp not importable: {exc})"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.processor() or platform.machine()}, {cores} cores available; llama.cpp: {info.strip()}"


def main() -> None:
    args = parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy is imported
    import numpy as np

    from benchmarks.arena.ratings import (
        aggregate,
        bootstrap_weights,
        fit_each,
        fit_ratings,
        fit_strengths,
        fit_with_intervals,
    )
    from benchmarks.arena.simulate import simulate_votes

    true = np.linspace(700, 1300, args.models)
    true += 1000 - true.mean()
    names = [f"model-{k:02d}" for k in range(args.models)]
    votes = simulate_votes(dict(zip(names, true, strict=True)), args.votes, seed=args.seed)

    fit_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        ratings = fit_ratings(votes)
        fit_times.append(time.perf_counter() - start)
    bt_fit_ms = statistics.median(fit_times) * 1000

    start = time.perf_counter()
    fit = fit_with_intervals(votes, resamples=args.resamples, seed=args.seed)
    bootstrap_s = time.perf_counter() - start

    # Side by side: per-resample cost, vectorised blocks against one optimisation per resample.
    pairs = aggregate(votes)
    weights = bootstrap_weights(pairs.counts, np.random.default_rng(1), args.loop_resamples)
    prior = np.ones((args.loop_resamples, args.models))
    start = time.perf_counter()
    fit_strengths(pairs, weights, prior)
    vector_each = (time.perf_counter() - start) / args.loop_resamples
    start = time.perf_counter()
    fit_each(pairs, weights, prior)
    loop_each = (time.perf_counter() - start) / args.loop_resamples

    errors = [abs(ratings[n] - t) for n, t in zip(names, true, strict=True)]
    inside = sum(fit.low[k] <= true[names.index(m)] <= fit.high[k] for k, m in enumerate(fit.models))
    widths = fit.high - fit.low
    print(f"system: {system_line()}")
    print(
        f"{args.votes} votes, {args.models} models, {args.resamples} resamples, numpy threads {args.threads}"
    )
    print(
        f"max |rating - true| = {max(errors):.1f} points; true rating inside its 95% interval: "
        f"{inside}/{args.models}; interval widths {widths.min():.0f}-{widths.max():.0f} points"
    )
    print(
        f"per resample: vectorised {vector_each * 1000:.2f} ms, one scipy fit each {loop_each * 1000:.2f} ms "
        f"(loop/vectorised = {loop_each / vector_each:.1f}x)"
    )
    print(f"bt_fit_ms={bt_fit_ms:.1f} bootstrap_s={bootstrap_s:.2f}")


if __name__ == "__main__":
    main()
