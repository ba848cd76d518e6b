"""A run's scorecard: per suite x model metrics with intervals, costs, value, and head-to-head tests.

Definitions (also printed in exports):
- latency/item: mean seconds per item (log-likelihood batches share their time evenly);
- tok/s: generated tokens per second of item time (generation suites only);
- total time: the sum of item times (reused items count with the time they took when computed);
- peak RSS: the largest resident memory seen while that model ran (RSS, since llama.cpp allocates
  outside Python);
- value/s: the primary metric divided by the mean seconds per item; value/GB: divided by the model
  file size in GB. Both reward a model that is nearly as good for much less compute or disk.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from itertools import combinations
from typing import Any

from benchmarks import stats
from benchmarks.results import PROPORTION_METRICS, ItemResult
from benchmarks.scoring import Metric, compute_metrics
from benchmarks.store import ResultsStore, RunRow


@dataclass(frozen=True)
class ScoreRow:
    """One suite x model line: the primary metric with its interval, costs and value for money.

    `flat()` is the machine form (CSV columns, JSON `results`): every field in order, then each
    metric and its interval as `name`, `name_ci_low`, `name_ci_high`. A field added here appears there.
    """

    suite: str
    task: str
    method: str
    model: str
    model_name: str
    file: str | None
    sha256: str | None
    quantization: str | None
    metric: str  # the primary metric, from the suite's manifest
    value: float | None
    ci_low: float | None
    ci_high: float | None
    items: int
    failures: int
    unparseable: int
    mean_latency_s: float | None
    tokens_per_s: float | None
    total_time_s: float
    cached_items: int
    peak_rss_mb: float | None
    file_size_gb: float | None
    value_per_s: float | None
    value_per_gb: float | None
    metrics: tuple[Metric, ...] = ()  # every metric with its 95% interval; None where not computable

    def metric_named(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def flat(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "metrics"}
        for m in self.metrics:
            out[m.name] = m.value
            out[f"{m.name}_ci_low"] = m.ci_low
            out[f"{m.name}_ci_high"] = m.ci_high
        return out


@dataclass(frozen=True)
class HeadToHead:
    """A paired test of two models on the items of one suite both answered."""

    suite: str
    metric: str
    model_a: str
    model_b: str
    value_a: float
    value_b: float
    n: int
    test: str
    p_value: float
    significant: bool
    winner: str | None
    detail: str
    verdict: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Scorecard:
    run: dict[str, Any]
    models: list[dict[str, Any]]
    rows: list[ScoreRow]  # one per suite x model
    head_to_head: list[HeadToHead]
    items: list[ItemResult]  # every per-item result
    confusion: dict[str, dict[str, dict[str, dict[str, int]]]] = field(default_factory=dict)  # suite->model

    def row(self, suite: str, model_ref: str) -> ScoreRow | None:
        return next((r for r in self.rows if r.suite == suite and r.model == model_ref), None)

    def model_sha256(self, model_ref: str) -> str | None:
        model = next((m for m in self.models if m["model_ref"] == model_ref), {})
        return model.get("identity", {}).get("sha256")


def _nan_to_none(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _costs(results: list[ItemResult]) -> dict[str, Any]:
    latencies = [float(r.latency_s) for r in results]
    total = sum(latencies)
    generated = [r.completion_tokens for r in results if r.completion_tokens is not None]
    gen_time = sum(float(r.latency_s) for r in results if r.completion_tokens is not None)
    return {
        "mean_latency_s": total / len(results) if results else None,
        "tokens_per_s": (sum(generated) / gen_time) if generated and gen_time > 0 else None,
        "total_time_s": total,
        "cached_items": sum(1 for r in results if r.cached),
    }


def _head_to_head(
    suite: str,
    primary: str,
    by_model: dict[str, list[ItemResult]],
    order: list[str],
    seed: int,
) -> list[HeadToHead]:
    lines = []
    present = [m for m in order if by_model.get(m)]
    for model_a, model_b in combinations(present, 2):
        a_items = {r.item_id: r for r in by_model[model_a]}
        b_items = {r.item_id: r for r in by_model[model_b]}
        shared = [i for i in a_items if i in b_items]
        if not shared:
            continue
        if primary in PROPORTION_METRICS:
            test = stats.mcnemar_exact(
                [bool(a_items[i].score.correct) for i in shared],
                [bool(b_items[i].score.correct) for i in shared],
            )
        else:
            test = stats.paired_bootstrap(
                [a_items[i].score.value for i in shared],
                [b_items[i].score.value for i in shared],
                seed,
            )
        winner = None
        if test.significant and test.value_a != test.value_b:
            winner = model_a if test.value_a > test.value_b else model_b
        lines.append(
            HeadToHead(
                suite=suite,
                metric=primary,
                model_a=model_a,
                model_b=model_b,
                value_a=test.value_a,
                value_b=test.value_b,
                n=test.n,
                test=test.test,
                p_value=test.p_value,
                significant=test.significant,
                winner=winner,
                detail=test.detail,
                verdict=stats.verdict(test, model_a, model_b),
            )
        )
    return lines


def build_scorecard(run_ref: str, store: ResultsStore | None = None, seed: int = 0) -> Scorecard:
    """The scorecard of run `run_ref` (a run id or `last`) from the results store."""
    own = store is None
    store = store or ResultsStore()
    try:
        run = store.resolve_run(str(run_ref))
        return _build(run, store, seed)
    finally:
        if own:
            store.close()


def _build(run: RunRow, store: ResultsStore, seed: int) -> Scorecard:
    results = store.run_results(run.id)
    models = store.run_models(run.id)
    manifests = store.run_suites(run.id)
    order = [m["model_ref"] for m in models] or list(run.config.get("models", []))
    model_by_ref = {m["model_ref"]: m for m in models}
    grouped: dict[str, dict[str, list[ItemResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        grouped[r.suite][r.model_ref].append(r)
    suite_order = [s for s in run.config.get("suites", []) if s in grouped] + [
        s for s in grouped if s not in run.config.get("suites", [])
    ]
    rows: list[ScoreRow] = []
    h2h: list[HeadToHead] = []
    confusion: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    for suite in suite_order:
        by_model = grouped[suite]
        manifest = manifests[suite]
        # A suite without a label set (multiple choice) is read with the answers that occur.
        labels = manifest.labels or tuple(sorted({r.target for rs in by_model.values() for r in rs}))
        for model_ref in order:
            res = by_model.get(model_ref)
            if not res:
                continue
            metrics = compute_metrics(manifest.task, manifest.metric, labels, res, seed)
            main = metrics.get(metrics.primary)
            identity = model_by_ref.get(model_ref, {}).get("identity", {})
            peak = model_by_ref.get(model_ref, {}).get("peak_rss_bytes")
            costs = _costs(res)
            size_gb = (identity.get("file_size") or 0) / 1e9
            value = _nan_to_none(main.value) if main else None
            rows.append(
                ScoreRow(
                    suite=suite,
                    task=manifest.task,
                    method=res[0].method,
                    model=model_ref,
                    model_name=identity.get("name", model_ref),
                    file=identity.get("file"),
                    sha256=identity.get("sha256"),
                    quantization=identity.get("quantization"),
                    metric=metrics.primary,
                    value=value,
                    ci_low=_nan_to_none(main.ci_low) if main else None,
                    ci_high=_nan_to_none(main.ci_high) if main else None,
                    items=metrics.n,
                    failures=metrics.failures,
                    unparseable=metrics.unparseable,
                    **costs,
                    peak_rss_mb=round(peak / 2**20, 1) if peak else None,
                    file_size_gb=round(size_gb, 3) if size_gb else None,
                    value_per_s=(value / costs["mean_latency_s"])
                    if value is not None and costs["mean_latency_s"]
                    else None,
                    value_per_gb=(value / size_gb) if value is not None and size_gb else None,
                    metrics=tuple(
                        Metric(m.name, _nan_to_none(m.value), _nan_to_none(m.ci_low), _nan_to_none(m.ci_high))
                        for m in metrics.metrics
                    ),
                )
            )
            if metrics.confusion:
                confusion.setdefault(suite, {})[model_ref] = metrics.confusion
        h2h.extend(_head_to_head(suite, manifest.metric, by_model, order, seed))
    run_info = {
        "id": run.id,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "status": run.display_status,
        "settings": run.config,
    }
    return Scorecard(run_info, models, rows, h2h, results, confusion)
