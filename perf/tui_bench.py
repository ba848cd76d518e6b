"""What the benchmark screen costs over the headless runner, measured side by side in one run.

The same benchmark (the `sentiment` suite, 40 items, both bundled models, log-likelihood scoring: 80
item results) runs (a) through `benchmarks.runner.run_bench` alone in the main thread, as `duel bench`
does, (b) the same call in a worker thread, and (c) from the TUI's benchmark screen in a headless app
(`App.run_test`), where the runner runs in a thread worker and every item also becomes a feed row, a
progress bar step and a running-score update. Each pass gets a fresh results store (a fresh
DUEL_HOME), so nothing is reused from an earlier pass. Passes go in the order H W T T W H (ROUNDS
times) so drift in the machine's load hits all sides alike, and the fastest pass of each side is
compared (this machine is shared: a slower pass measures the neighbours, not duel).

Why (b): measured here, llama.cpp (built with OpenMP) scored the same items markedly faster when
called from a worker thread than from the main thread, so the TUI (a thread worker) can beat `duel
bench` for a reason that has nothing to do with the TUI. `tui_vs_thread_ratio` compares like with
like and is the honest measure of what the screen costs.

items/s counts the whole run as a user waits for it: from Start to the end (model loads included).
The item-phase figure (first task start to run end, in the runner's own events) is printed too, and
so is the CPU time of the UI thread during each TUI pass: what the screen itself consumed, a figure
the neighbours' load does not distort.

Run: python perf/tui_bench.py [--limit 40] [--rounds 1]
The last line is `tui_items_per_s_ratio=...` (TUI items/s over `duel bench`'s; target >= 0.95); the
line before it, `tui_vs_thread_ratio=...`, is the TUI over the same runner in a plain thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import events as ev  # noqa: E402
from benchmarks.runner import BenchRequest, run_bench  # noqa: E402
from models.resolve import DEFAULT_PAIR, resolve  # noqa: E402

SIZE = (160, 45)


def fresh_home() -> str:
    home = tempfile.mkdtemp(prefix="duel-perf-tui-")
    os.environ["DUEL_HOME"] = home
    return home


class Phase:
    """Times of the runner's own events: first task start and run end."""

    def __init__(self) -> None:
        self.first_task: float | None = None
        self.end: float | None = None

    def see(self, event: object) -> None:
        if isinstance(event, ev.TaskStarted) and self.first_task is None:
            self.first_task = time.perf_counter()
        elif isinstance(event, ev.RunFinished):
            self.end = time.perf_counter()

    @property
    def seconds(self) -> float:
        assert self.first_task is not None and self.end is not None
        return self.end - self.first_task


def headless_pass(request: BenchRequest) -> tuple[float, int, float]:
    fresh_home()
    phase = Phase()
    start = time.perf_counter()
    outcome = run_bench(request, on_event=phase.see)
    seconds = time.perf_counter() - start
    assert outcome.status == "complete" and outcome.cached == 0, outcome
    return seconds, outcome.computed, phase.seconds


async def _tui(request: BenchRequest) -> tuple[float, int, float]:
    from tui.app import DuelApp
    from tui.pair import ModelPair
    from tui.screens.bench_screen import BenchScreen
    from tui.widgets import bench_relay

    phase = Phase()
    original = bench_relay.BenchRelay.__call__

    def observed(self: bench_relay.BenchRelay, event: ev.Event) -> None:  # timing probe only
        phase.see(event)
        original(self, event)

    bench_relay.BenchRelay.__call__ = observed  # type: ignore[method-assign]
    try:
        # The chat panes hold scripted engines, so the real models run only in the benchmark.
        app = DuelApp(ModelPair("scripted:left", "scripted:right", threads=(1, 1)), reopen_last=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            bench = app.screen
            assert isinstance(bench, BenchScreen)
            await pilot.pause(0.5)
            start, ui_cpu = time.perf_counter(), time.thread_time()  # this thread runs the whole UI
            bench.start(request)
            while bench.running:
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - start
            ui_cpu = time.thread_time() - ui_cpu
            print(
                f"         UI thread CPU {ui_cpu:.2f} s = {100 * ui_cpu / seconds:.1f}% of the run",
                flush=True,
            )
            finished = bench.last_finished
            assert finished is not None and finished.status == "complete" and finished.cached == 0, finished
            assert not bench.error, bench.error
            # Not timed: let the scorecard that opens at the end finish building before the app exits.
            deadline = time.monotonic() + 60
            while getattr(app.screen, "card", None) is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await pilot.pause(0.2)
            return seconds, finished.computed, phase.seconds
    finally:
        bench_relay.BenchRelay.__call__ = original  # type: ignore[method-assign]


def thread_pass(request: BenchRequest) -> tuple[float, int, float]:
    box: dict[str, tuple[float, int, float]] = {}
    worker = threading.Thread(target=lambda: box.setdefault("result", headless_pass(request)))
    worker.start()
    worker.join()
    return box["result"]


def tui_pass(request: BenchRequest) -> tuple[float, int, float]:
    fresh_home()
    return asyncio.run(_tui(request))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    # Paths, not names: every pass has its own DUEL_HOME, and the bundled Qwen is assembled only once.
    paths = tuple(str(resolve(name).path) for name in DEFAULT_PAIR)
    request = BenchRequest(suites=("sentiment",), models=paths, limit=args.limit, method="loglik")
    print(f"models: {', '.join(Path(p).name for p in paths)}; sentiment, {args.limit} items each, loglik")

    runners = {"headless": headless_pass, "thread": thread_pass, "tui": tui_pass}
    passes: dict[str, list[tuple[float, int, float]]] = {name: [] for name in runners}
    for name in ["headless", "thread", "tui", "tui", "thread", "headless"] * args.rounds:
        seconds, items, phase = runners[name](request)
        passes[name].append((seconds, items, phase))
        print(
            f"{name:8s} {items} items in {seconds:6.2f} s = {items / seconds:5.2f} items/s "
            f"(item phase {phase:6.2f} s = {items / phase:5.2f} items/s)",
            flush=True,
        )

    best = {name: max(items / seconds for seconds, items, _ in runs) for name, runs in passes.items()}
    best_phase = {name: max(items / phase for _, items, phase in runs) for name, runs in passes.items()}
    summed = {
        name: sum(items for _, items, _ in runs) / sum(seconds for seconds, _, _ in runs)
        for name, runs in passes.items()
    }
    for name in runners:
        print(
            f"{name:8s} fastest {best[name]:.2f} items/s (item phase {best_phase[name]:.2f}); "
            f"all passes {summed[name]:.2f} items/s"
        )
    print(f"all_passes_ratio={summed['tui'] / summed['headless']:.3f}")
    print(f"item_phase_ratio={best_phase['tui'] / best_phase['headless']:.3f}")
    print(f"tui_vs_thread_ratio={best['tui'] / best['thread']:.3f}")
    print(f"tui_items_per_s_ratio={best['tui'] / best['headless']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
