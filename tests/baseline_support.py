"""An imbalanced classification run with models whose answers the tests choose.

The suite is the shape of the airline case that motivated baselines: 60 posts, 38 negative, 12
neutral and 10 positive. Each post names a sentiment word; "scripted:reader" answers with the word
the post names (right on 52, wrong on the 8 posts that name a misleading word), "scripted:always"
answers "negative" every time (the majority baseline itself), "scripted:coin" is the plain scripted
engine (hash noise). Scores are log-likelihoods, so the run goes through the real runner and store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.runner import BenchRequest, run_bench
from engines.base import LoadOptions, OptionScore
from engines.scripted import ScriptedEngine

SUITE = "airline-imbalanced"
COUNTS = {"negative": 38, "neutral": 12, "positive": 10}
MISLEADING = 8  # negative posts that name "positive": the reader gets them wrong
READER = "scripted:reader"
ALWAYS = "scripted:always"


def rows() -> list[tuple[str, str]]:
    out = []
    for label, count in COUNTS.items():
        for k in range(count):
            hint = "positive" if label == "negative" and k < MISLEADING else label
            out.append((f"Flight {label[:3]}-{k}: the crew felt {hint} to me.", label))
    return out


def plain_macro_f1(
    targets: Sequence[str], preds: Sequence[str | None], labels: Sequence[str],
    present: Sequence[str] | None = None,
) -> float:
    """Macro-F1 written out by hand, for tests to check duel's against: the mean F1 over `present`
    (default: the labels that occur as a target or a prediction)."""
    if present is None:
        present = [lab for lab in labels if lab in targets or lab in preds]
    f1s = []
    for lab in present:
        tp = sum(t == lab and p == lab for t, p in zip(targets, preds, strict=True))
        fp = sum(t != lab and p == lab for t, p in zip(targets, preds, strict=True))
        fn = sum(t == lab and p != lab for t, p in zip(targets, preds, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def import_suite(tmp_path: Path, name: str = SUITE) -> None:
    from tui.cli import main

    csv = tmp_path / f"{name}.csv"
    texts, labels = zip(*rows(), strict=True)
    pd.DataFrame({"text": texts, "airline_sentiment": labels}).to_csv(csv, index=False)
    assert main(["suites", "import", str(csv), "--as", name, "--task", "classify"]) == 0


class ReaderEngine(ScriptedEngine):
    """Scores highest the option whose word the item's own text names."""

    def score_options(self, context: str, options: Sequence[str]) -> list[OptionScore]:
        item = context.rsplit("\n\n", 1)[-1]
        return [OptionScore(-1.0 if o.strip() in item else -5.0, 1, len(o)) for o in options]


class AlwaysEngine(ScriptedEngine):
    """Always scores " negative" highest."""

    def score_options(self, context: str, options: Sequence[str]) -> list[OptionScore]:
        return [OptionScore(-1.0 if o.strip() == "negative" else -5.0, 1, len(o)) for o in options]


def open_engine(ref: str, options: LoadOptions | None = None, progress: Any = None) -> ScriptedEngine:
    kinds = {READER: ReaderEngine, ALWAYS: AlwaysEngine}
    name = ref.split(":", 1)[1]
    return kinds[ref](name) if ref in kinds else ScriptedEngine.from_reference(ref)


def imbalanced_run(tmp_path: Path, models: tuple[str, ...] = (READER, ALWAYS), **request: Any) -> int:
    """Import the suite (once) and run `models` on it; the run's id."""
    if not (tmp_path / f"{SUITE}.csv").exists():
        import_suite(tmp_path)
    req = BenchRequest(suites=(SUITE,), models=models, **request)
    return run_bench(req, open_engine=open_engine).run_id
