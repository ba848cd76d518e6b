"""`duel bench`: run suites on models with progress bars, then print the scorecard.

Ctrl-C asks the runner to stop after the item in flight (a second Ctrl-C aborts at once); every
finished item is already stored, so the same command again resumes where it stopped.
"""

from __future__ import annotations

import argparse

from engines.parallel import DEFAULT_PARALLEL
from tui.commands.cli_table import width_rule
from tui.commands.options import add_weights_option, weights_choice
from tui.commands.scorecard_cmd import SCORE_COLUMNS, add_metric_option

BENCH_EXAMPLES = """examples:
  duel bench sentiment -m qwen2.5-coder-0.5b -m smollm2-135m --limit 40 --seed 0
  duel bench sentiment summarize --limit 20          (default models: the bundled pair)
  duel bench all                                      every built-in suite
  duel bench knowledge --shots 5                      5-shot multiple choice
  duel bench sentiment --method generate              score by chat answers instead of log-likelihood
  duel bench math --parallel 1                        generate one answer at a time
  duel bench sentiment -m scripted:a -m scripted:b    deterministic test engines, no weights needed

Models run one after another, each with every core (running two at once on a laptop only makes both
slower and their timings meaningless). Ctrl-C stops cleanly; the same command again resumes.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel bench`."""
    bench = sub.add_parser(
        "bench",
        help="run benchmark suites on models and print a scorecard",
        description="Run benchmark suites on one or more models (results are stored and reused).",
        epilog=f"{BENCH_EXAMPLES}\n{width_rule(SCORE_COLUMNS, 'the closing scorecard')}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("suites", nargs="+", metavar="SUITE", help="suite names (see `duel suites`) or 'all'")
    bench.add_argument(
        "-m",
        "--model",
        dest="models",
        action="append",
        metavar="MODEL",
        help="model name, .gguf path or scripted:NAME; repeat to compare (default: the bundled pair)",
    )
    bench.add_argument("--limit", type=int, metavar="N", help="items per suite, stratified by label")
    bench.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the --limit sample (default 0)"
    )
    bench.add_argument(
        "--method",
        choices=("loglik", "generate"),
        default="loglik",
        help="classification / multiple choice: log-likelihood of each option (default) or a chat answer",
    )
    bench.add_argument("--shots", type=int, default=0, metavar="K", help="few-shot exemplars per prompt")
    bench.add_argument(
        "--threads", type=int, metavar="N", help="CPU threads for the model (default: all cores)"
    )
    bench.add_argument("--ctx", type=int, default=4096, metavar="N", help="context window (default 4096)")
    bench.add_argument(
        "--max-tokens", type=int, metavar="N", help="override the generation limit of every suite"
    )
    bench.add_argument(
        "--parallel",
        type=int,
        default=DEFAULT_PARALLEL,
        metavar="N",
        help="generated answers in flight at once: sequences per llama.cpp decode, or requests to a "
        f"remote server (default {DEFAULT_PARALLEL}; 1: one at a time)",
    )
    add_weights_option(bench)
    add_metric_option(bench)
    bench.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from benchmarks.runner import BenchRequest, run_bench
    from tui.commands.bench_view import BenchProgressView, print_scorecard
    from tui.commands.cli_support import StopFlag, require_at_least

    if args.models:
        models = tuple(args.models)
    else:
        from models.resolve import DEFAULT_PAIR

        models = tuple(DEFAULT_PAIR)
    require_at_least(
        ("--limit", args.limit, 1),
        ("--threads", args.threads, 1),
        ("--ctx", args.ctx, 256),
        ("--parallel", args.parallel, 1),
    )
    request = BenchRequest(
        suites=tuple(args.suites),
        models=models,
        limit=args.limit,
        seed=args.seed,
        method=args.method,
        shots=args.shots,
        threads=args.threads,
        n_ctx=args.ctx,
        max_tokens=args.max_tokens,
        weights=weights_choice(args),
        parallel=args.parallel,
    )
    console = Console(stderr=False)
    stop_flag = StopFlag("\nstopping after the item in flight (Ctrl-C again to abort)...")
    with stop_flag as stop, BenchProgressView(console) as view:
        outcome = run_bench(request, on_event=view.handle, should_stop=stop)
    from benchmarks.scorecard import build_scorecard

    card = build_scorecard(str(outcome.run_id), metric=args.metric)
    print_scorecard(console, card)
    reused = f", {outcome.cached} reused from earlier runs" if outcome.cached else ""
    console.print(f"run {outcome.run_id}: {outcome.status} ({outcome.computed} items computed{reused})")
    if outcome.status != "complete":
        console.print("run the same command again to resume where it stopped")
    console.print(f"export: duel scorecard {outcome.run_id} --format md -o scorecard.md")
    return 130 if outcome.stopped else 0
