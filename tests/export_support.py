"""Benchmark runs with the gaps a shared scorecard must survive, made through the real runner and store.

`gappy_run()`: four built-in suites, two models:
- "scripted:flaky" (a local model) cannot fit some sentiment items and no knowledge item in its
  context: those items fail with an error, so knowledge is a suite where every item failed;
- "scripted:remote" is described as a remote server that sends no token counts (its stored results
  have none), so its summaries have no tok/s, and its memory is not this machine's;
- math is answered by generation and the scripted words never contain a number: every item of both
  models is unparseable, a second all-failed suite.
`solo_run()`: one model on sentiment and summarize (nothing to compare it with).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from benchmarks.runner import BenchRequest, run_bench
from engines.base import ContextOverflowError, LoadOptions, OptionScore
from engines.scripted import ScriptedEngine
from models.info import ModelInfo
from models.paths import results_db_file

FLAKY = "scripted:flaky"
REMOTE = "scripted:remote"
SOLO = "scripted:solo"
GAPPY_SUITES = ("sentiment", "knowledge", "summarize", "math")
LIMIT = 12


class FlakyEngine(ScriptedEngine):
    """Every multiple-choice context, and one sentiment context in three, does not fit."""

    def score_options(self, context: str, options: Sequence[str]) -> list[OptionScore]:
        letters = all(len(o.strip()) == 1 for o in options)
        if letters or hashlib.sha256(context.encode()).digest()[0] % 3 == 0:
            raise ContextOverflowError(f"{self._name}: prompt does not fit the context")
        return super().score_options(context, options)


class RemoteLikeEngine(ScriptedEngine):
    """Describes itself as a model behind a remote server (no file, no local memory of its own)."""

    def describe(self) -> ModelInfo:
        return replace(super().describe(), source="remote", parameters=None, quantization="")


def open_engine(ref: str, options: LoadOptions | None = None, progress: Any = None) -> ScriptedEngine:
    kinds = {FLAKY: FlakyEngine, REMOTE: RemoteLikeEngine}
    name = ref.split(":", 1)[1]
    return kinds[ref](name) if ref in kinds else ScriptedEngine.from_reference(ref)


def gappy_run() -> int:
    run_id = run_bench(
        BenchRequest(suites=GAPPY_SUITES, models=(FLAKY, REMOTE), limit=LIMIT), open_engine=open_engine
    ).run_id
    # A server that sends no usage numbers: nothing to count generated tokens by.
    with sqlite3.connect(results_db_file()) as conn:
        conn.execute("UPDATE results SET completion_tokens = NULL WHERE model_key = 'remote:remote'")
    return run_id


def solo_run() -> int:
    return run_bench(BenchRequest(suites=("sentiment", "summarize"), models=(SOLO,), limit=6)).run_id
