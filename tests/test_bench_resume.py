"""A `duel bench` killed with SIGKILL mid-run resumes: no duplicate, no lost item, finished items reused."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.runner import BenchRequest, run_bench
from benchmarks.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]
LIMIT = 12
COMMAND = [
    sys.executable, "-m", "tui", "bench", "sentiment",
    "-m", "scripted:a?delay=0.05", "-m", "scripted:b",
    "--limit", str(LIMIT), "--method", "generate", "--parallel", "4",
]  # fmt: skip


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DUEL_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_kill_mid_run_then_rerun_resumes(duel_home: Path) -> None:
    db = duel_home / "data" / "results.sqlite3"
    proc = subprocess.Popen(
        COMMAND, env=_env(duel_home), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        # scripted:a takes 8 tokens x 0.05 s per item: kill it after a few items are committed.
        while _count(db, "SELECT COUNT(*) FROM results") < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no results appeared"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as conn:
        before = dict(conn.execute("SELECT cache_key, created_at FROM results").fetchall())
        run_status = conn.execute("SELECT status FROM runs").fetchall()
    assert 5 <= len(before) < 2 * LIMIT
    assert run_status == [("running",)]  # killed: never marked complete

    rerun = subprocess.run(
        COMMAND, env=_env(duel_home), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming run 1" in rerun.stdout
    assert f"run 1: complete ({2 * LIMIT - len(before)} items computed, {len(before)} reused" in rerun.stdout

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT model_ref, item_id, cache_key FROM run_items WHERE run_id = 1").fetchall()
        after = dict(conn.execute("SELECT cache_key, created_at FROM results").fetchall())
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
        assert conn.execute("SELECT status FROM runs").fetchone()[0] == "complete"
    # Every item of both models exactly once, nothing lost, nothing duplicated.
    assert len(rows) == 2 * LIMIT
    assert len({(m, i) for m, i, _ in rows}) == 2 * LIMIT
    per_model = {m: {i for mm, i, _ in rows if mm == m} for m in ("scripted:a?delay=0.05", "scripted:b")}
    assert (
        len(per_model["scripted:a?delay=0.05"]) == LIMIT
        and per_model["scripted:a?delay=0.05"] == per_model["scripted:b"]
    )
    assert len(after) == 2 * LIMIT
    # Items finished before the kill were reused as stored, not recomputed.
    assert all(after[key] == created for key, created in before.items())


@pytest.mark.parametrize("parallel", [1, 4])
def test_should_stop_ends_cleanly_and_a_rerun_finishes(duel_home: Path, parallel: int) -> None:
    """The in-process path the TUI uses: a stop request leaves a partial run that resumes. One at a
    time the run stops after the item in flight; batched, the items finished in the same step are
    stored too and the ones in flight store nothing (the rerun generates them)."""
    seen: list[object] = []
    request = BenchRequest(
        ("sentiment",), ("scripted:a", "scripted:b"), limit=12, method="generate", parallel=parallel
    )
    done_items = []

    def on_event(event: object) -> None:
        seen.append(event)
        if type(event).__name__ == "ItemDone":
            done_items.append(event)

    outcome = run_bench(request, on_event=on_event, should_stop=lambda: len(done_items) >= 5)
    # scripted replies are all the same length here: a batch of 4 finishes together
    assert outcome.status == "partial" and outcome.stopped and outcome.computed == (5 if parallel == 1 else 8)
    names = [type(e).__name__ for e in seen]
    assert names[0] == "RunStarted" and names[-1] == "RunFinished"
    again = run_bench(request)
    done = outcome.computed
    assert (again.run_id, again.status) == (outcome.run_id, "complete")
    assert (again.cached, again.computed) == (done, 24 - done)
    with ResultsStore() as store:
        assert store.count_run_items(outcome.run_id) == 24
        assert store.get_run(outcome.run_id).display_status == "complete"


def test_a_rerun_with_another_parallel_resumes_the_same_run(duel_home: Path) -> None:
    request = BenchRequest(("math",), ("scripted:a",), limit=6, method="generate", parallel=3)
    done: list[object] = []
    first = run_bench(
        request,
        on_event=lambda e: done.append(e) if type(e).__name__ == "ItemDone" else None,
        should_stop=lambda: len(done) >= 3,
    )
    again = run_bench(replace(request, parallel=1))
    assert (again.run_id, again.cached, again.computed) == (first.run_id, first.computed, 6 - first.computed)


@pytest.mark.parametrize("parallel", [1, 4])
def test_items_generated_together_share_the_run_time(duel_home: Path, parallel: int) -> None:
    """Total time and tok/s describe what the run cost: items generated 4 at a time each take
    about as long as one alone, so adding their own times would count the run's time about 4 times."""
    from benchmarks.scorecard import build_scorecard

    request = BenchRequest(("math",), ("scripted:a?delay=0.02",), limit=8, method="generate",
                           parallel=parallel)
    start = time.perf_counter()
    run_id = run_bench(request).run_id
    wall = time.perf_counter() - start
    (row,) = build_scorecard(str(run_id)).rows
    assert 0.5 * wall < row.total_time_s <= wall


@pytest.mark.parametrize("method", ["loglik", "generate"])
def test_changed_settings_are_not_served_from_cache(method: str) -> None:
    first = run_bench(BenchRequest(("sentiment",), ("scripted:a",), limit=4, method=method))
    shots = run_bench(BenchRequest(("sentiment",), ("scripted:a",), limit=4, method=method, shots=1))
    assert first.computed == 4 and shots.computed == 4 and shots.cached == 0
    same = run_bench(BenchRequest(("sentiment",), ("scripted:a",), limit=4, method=method, threads=1))
    assert same.cached == 4 and same.computed == 0  # threads change speed, not results


def test_the_weights_choice_reaches_the_engine_and_keeps_the_run() -> None:
    from engines.factory import open_engine

    seen: list[str] = []

    def opener(ref, options=None, progress=None):  # noqa: ANN001
        seen.append(options.weights)
        return open_engine(ref, options, progress)

    run_bench(BenchRequest(("sentiment",), ("scripted:a",), limit=4), open_engine=opener)
    plain = run_bench(BenchRequest(("sentiment",), ("scripted:a",), limit=4, weights="plain"),
                      open_engine=opener)
    assert seen == [None, "plain"]  # None: the engine loads as config.toml says, else auto
    assert plain.cached == 4 and plain.computed == 0  # a weight layout changes speed, not answers
    with ResultsStore() as store:
        assert store.get_run(plain.run_id).config["weights"] == "plain"


def test_ctrl_c_stops_cleanly_with_a_partial_run(duel_home: Path) -> None:
    db = duel_home / "data" / "results.sqlite3"
    proc = subprocess.Popen(
        COMMAND, env=_env(duel_home), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while _count(db, "SELECT COUNT(*) FROM results") < 2:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopping after the item in flight" in err
    assert "run 1: partial" in out and "run the same command again to resume" in out
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs WHERE id = 1").fetchone()[0] == "partial"
        done = conn.execute("SELECT COUNT(*) FROM run_items WHERE run_id = 1").fetchone()[0]
    assert 2 <= done < 2 * LIMIT
