"""Helpers for the tests of the benchmark, scorecard, runs and models screens.

`sections_app` is the real DuelApp on scripted chat models; `headless_run` runs the real runner
without the TUI (the scripted engine, a fresh results store per test via DUEL_HOME); `freeze_run`
overwrites the measured timings and dates of a stored run so snapshots stay the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from tui_support import Opener, wait_until

from benchmarks.runner import BenchRequest, run_bench
from models.paths import results_db_file
from tui.app import DuelApp
from tui.pair import ModelPair

WIDE = (160, 45)
DEFAULT: Any = object()  # sections_app's "no opener given" (None means the real factory)
ALPHA = "scripted:alpha"
BETA = "scripted:beta"


def sections_app(
    left: str = ALPHA,
    right: str = BETA,
    *,
    open_engine: Any = DEFAULT,
    remember_pair: Any = None,
    **kwargs: Any,
) -> DuelApp:
    """The app on a pair of scripted models (`open_engine=None`: the real engine factory)."""
    opener = Opener() if open_engine is DEFAULT else open_engine
    pair = ModelPair(left, right, open_engine=opener, threads=(1, 1), remember=remember_pair)
    kwargs.setdefault("reopen_last", False)
    return DuelApp(pair, **kwargs)


def headless_run(
    models: tuple[str, ...] = (ALPHA, BETA),
    suites: tuple[str, ...] = ("sentiment",),
    limit: int | None = 12,
    method: str = "loglik",
    stop_after: int | None = None,
    parallel: int = 1,
) -> int:
    """Run the real runner without the TUI; `stop_after` items stops it early (a partial run; one
    generated item at a time by default, so the stop lands after exactly that many)."""
    done = [0]

    def on_event(event: object) -> None:
        if type(event).__name__ == "ItemDone":
            done[0] += 1

    def should_stop() -> bool:
        return stop_after is not None and done[0] >= stop_after

    request = BenchRequest(suites=suites, models=models, limit=limit, method=method, parallel=parallel)
    return run_bench(request, on_event=on_event, should_stop=should_stop).run_id


def freeze_run(run_id: int, latency_s: float = 0.25, rss_mib: int = 512) -> None:
    """Fixed timings, memory and dates for a run, so its screens render the same on every machine."""
    conn = sqlite3.connect(results_db_file())
    with conn:
        conn.execute(
            "UPDATE results SET latency_s = ?, created_at = '2026-01-02T03:04:05+00:00' "
            "WHERE cache_key IN (SELECT cache_key FROM run_items WHERE run_id = ?)",
            (latency_s, run_id),
        )
        conn.execute("UPDATE run_models SET peak_rss_bytes = ? WHERE run_id = ?", (rss_mib * 2**20, run_id))
        conn.execute(
            "UPDATE runs SET created_at = '2026-01-02T03:04:05+00:00', "
            "updated_at = '2026-01-02T03:05:00+00:00' WHERE id = ?",
            (run_id,),
        )
    conn.close()


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    await wait_until(pilot, condition, timeout=timeout, what=what)


async def wait_for_scorecard(pilot: Pilot, timeout: float = 30.0) -> None:
    """Until a scorecard screen is on top and built (leaving earlier races Textual's tab widget at exit)."""
    from tui.screens.scorecard_screen import ScorecardScreen

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, ScorecardScreen) and screen.card is not None

    await wait_for(pilot, ready, "the scorecard", timeout=timeout)
    await settle(pilot)


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their messages land."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.05)


async def freeze_cursors(pilot: Pilot) -> None:
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            widget.cursor_blink = False
    await pilot.pause(0.1)
