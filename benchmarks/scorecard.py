"""A run's scorecard: per suite x model metrics with intervals, costs, value, and head-to-head tests.

Definitions (also printed in exports):
- latency/item: mean seconds per item (items batched together share the run's time: log-likelihood
  batches evenly, generated items the time since the previous one finished);
- tok/s: generated tokens per second of item time (generation suites only);
- total time: the sum of item times (reused items count with the time they took when computed);
- peak RSS: the largest resident memory seen while that model ran (RSS, since llama.cpp allocates
  outside Python);
- value/s: the headline metric divided by the mean seconds per item; value/GB: divided by the model
  file size in GB. Both reward a model that is nearly as good for much less compute or disk.

The headline metric of a suite is its manifest's, except that an imbalanced classification suite
leads with macro-F1, and `metric=` (the `--metric` option) picks another; classification and
multiple-choice rows carry their baselines (chance, the majority class, and whether the model beats
always answering it): see benchmarks/baselines.py. Head-to-head tests follow the headline metric.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from itertools import combinations
from typing import Any

from benchmarks import stats
from benchmarks.baselines import AUTO, Baselines, baselines, headline_metric, vs_majority
from benchmarks.results import (
    CORRECT,
    CORRECT_NORM,
    ITEM_VALUE_OF,
    METRIC_CHOICES,
    PROPORTION_METRICS,
    ItemResult,
)
from benchmarks.scoring import LabelCodes, Metric, SuiteMetrics, compute_metrics
from benchmarks.store import ResultsStore, RunRow
from benchmarks.suites import SuiteManifest
from models.errors import DuelError

#: Right/wrong metrics and the per-item value each one counts (McNemar tests them).
RIGHT_WRONG = {**dict.fromkeys(PROPORTION_METRICS, CORRECT), "accuracy_norm": CORRECT_NORM}


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
    metric: str  # the headline metric (the suite's, macro-F1 when imbalanced, or --metric's)
    value: float | None
    ci_low: float | None
    ci_high: float | None
    metric_reason: str  # why this metric leads
    # Baselines (classification and multiple choice; None elsewhere), on the items this model answered:
    chance: float | None  # mean of 1/k over items
    majority_label: str | None  # the most frequent answer key
    majority_rate: float | None  # the accuracy of always answering it
    majority_macro_f1: float | None  # classification: the macro-F1 of always answering it
    majority_p_value: float | None  # one-sided exact binomial test of accuracy > majority_rate
    beats_majority: bool | None  # accuracy > majority_rate with p < 0.05
    baseline_verdict: str | None  # "not better than always answering X (...)" or "better than ..."
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
    items_to_settle: int | None = None  # not significant: items in all for 80% power (stats.items_to_settle)

    @property
    def settle_text(self) -> str | None:
        """What would settle a difference that is not significant, in a sentence (None otherwise)."""
        return None if self.significant else stats.settle_sentence(self.n, self.items_to_settle)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SuiteLine:
    """One suite of a scorecard: what it is, which metric leads and why, and its baselines."""

    name: str
    manifest: SuiteManifest
    labels: tuple[str, ...]
    headline: str
    headline_reason: str
    baselines: Baselines | None  # over every item any model answered

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        out: dict[str, Any] = {
            "task": m.task,
            "version": m.version,
            "metric": m.metric,
            "labels": list(self.labels),
            "headline_metric": self.headline,
            "headline_reason": self.headline_reason,
        }
        if self.baselines is not None:
            out["baselines"] = asdict(self.baselines)
        return out


@dataclass
class Scorecard:
    run: dict[str, Any]
    models: list[dict[str, Any]]
    rows: list[ScoreRow]  # one per suite x model
    head_to_head: list[HeadToHead]
    items: list[ItemResult]  # every per-item result
    confusion: dict[str, dict[str, dict[str, dict[str, int]]]] = field(default_factory=dict)  # suite->model
    suites: dict[str, SuiteLine] = field(default_factory=dict)
    metric_choice: str = AUTO  # what --metric asked for

    def row(self, suite: str, model_ref: str) -> ScoreRow | None:
        return next((r for r in self.rows if r.suite == suite and r.model == model_ref), None)

    @property
    def unused_metric(self) -> str | None:
        """A line saying that no suite of the run has the metric --metric asked for (None otherwise)."""
        if self.metric_choice == AUTO or any(s.headline == self.metric_choice for s in self.suites.values()):
            return None
        return f"--metric {self.metric_choice}: no suite of run {self.run['id']} reports it"

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


def paired_test(
    metric: str, a: list[ItemResult], b: list[ItemResult], labels: tuple[str, ...], seed: int
) -> stats.PairedTest:
    """The test of two models' `metric` on the same items (a[i] and b[i] answer the same item)."""
    if metric in RIGHT_WRONG:
        key = RIGHT_WRONG[metric]
        return stats.mcnemar_exact(
            [bool(r.score.values.get(key)) for r in a], [bool(r.score.values.get(key)) for r in b]
        )
    if metric == "macro_f1":
        targets = [str(r.target) for r in a]
        codes_a = LabelCodes.of(targets, [r.score.prediction for r in a], labels)
        codes_b = LabelCodes.of(targets, [r.score.prediction for r in b], labels)
        return stats.paired_bootstrap_statistic(len(a), codes_a.macro_f1, codes_b.macro_f1, seed)
    key = ITEM_VALUE_OF.get(metric, metric)
    values_a = [float(r.score.values.get(key, 0.0)) for r in a]
    return stats.paired_bootstrap(values_a, [float(r.score.values.get(key, 0.0)) for r in b], seed)


def head_to_head(
    suite: str,
    metric: str,
    labels: tuple[str, ...],
    by_model: dict[str, list[ItemResult]],
    order: list[str],
    seed: int,
) -> list[HeadToHead]:
    """Every pair of models on the items both answered, tested on `metric` (the headline)."""
    lines = []
    present = [m for m in order if by_model.get(m)]
    for model_a, model_b in combinations(present, 2):
        a_items = {r.item_id: r for r in by_model[model_a]}
        b_items = {r.item_id: r for r in by_model[model_b]}
        shared = [i for i in a_items if i in b_items]
        if not shared:
            continue
        test = paired_test(metric, [a_items[i] for i in shared], [b_items[i] for i in shared], labels, seed)
        winner = None
        if test.significant and test.value_a != test.value_b:
            winner = model_a if test.value_a > test.value_b else model_b
        lines.append(
            HeadToHead(
                suite=suite,
                metric=metric,
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
                items_to_settle=None if test.significant else stats.items_to_settle(test),
            )
        )
    return lines


def unique_items(results: list[ItemResult]) -> list[ItemResult]:
    """One result per item (the first), for what depends on the items and not on who answered."""
    return list({r.item_id: r for r in reversed(results)}.values())[::-1]


def score_suite(
    manifest: SuiteManifest, by_model: dict[str, list[ItemResult]], metric_choice: str, seed: int
) -> tuple[SuiteLine, dict[str, SuiteMetrics]]:
    """One suite's metrics per model (in `by_model`'s order), and its labels, baselines and headline
    metric from every item any model answered."""
    everyone = [r for rs in by_model.values() for r in rs]
    # A suite without a label set (multiple choice) is read with the answers that occur.
    labels = manifest.labels or tuple(sorted({r.target for r in everyone}))
    per_model = {
        model: compute_metrics(manifest.task, manifest.metric, labels, res, seed)
        for model, res in by_model.items()
        if res
    }
    available = list(dict.fromkeys(m.name for sm in per_model.values() for m in sm.metrics))
    base = baselines(manifest.task, labels, unique_items(everyone))
    headline, reason = headline_metric(manifest.task, manifest.metric, base, available, metric_choice)
    return SuiteLine(manifest.name, manifest, labels, headline, reason, base), per_model


def build_scorecard(
    run_ref: str, store: ResultsStore | None = None, seed: int = 0, metric: str = AUTO
) -> Scorecard:
    """The scorecard of run `run_ref` (a run id or `last`) from the results store; `metric` names the
    headline metric where a suite has it (`auto`: the suite's, or macro-F1 when classes are imbalanced)."""
    if metric not in METRIC_CHOICES:
        raise DuelError(f"unknown metric '{metric}' (metrics: {', '.join(METRIC_CHOICES)})")
    own = store is None
    store = store or ResultsStore()
    try:
        run = store.resolve_run(str(run_ref))
        return _build(run, store, seed, metric)
    finally:
        if own:
            store.close()


def baseline_fields(
    task: str, labels: tuple[str, ...], results: list[ItemResult], headline: str
) -> dict[str, Any]:
    """The baseline fields of a ScoreRow (all None outside classification and multiple choice)."""
    base = baselines(task, labels, results)
    if base is None:
        return dict.fromkeys(
            ("chance", "majority_label", "majority_rate", "majority_macro_f1", "majority_p_value",
             "beats_majority", "baseline_verdict"),
        )
    key = CORRECT_NORM if headline == "accuracy_norm" else CORRECT
    correct = sum(int(r.score.values.get(key, 0)) for r in results)
    test = vs_majority(correct, len(results), base)
    return {
        "chance": base.chance,
        "majority_label": base.majority_label,
        "majority_rate": base.majority_rate,
        "majority_macro_f1": base.majority_macro_f1,
        "majority_p_value": test.p_value,
        "beats_majority": test.better,
        "baseline_verdict": test.verdict,
    }


def _build(run: RunRow, store: ResultsStore, seed: int, metric_choice: str) -> Scorecard:
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
    lines: dict[str, SuiteLine] = {}
    for suite in suite_order:
        by_model = grouped[suite]
        manifest = manifests[suite]
        ordered = {m: by_model[m] for m in order if by_model.get(m)}
        line, per_model = score_suite(manifest, ordered, metric_choice, seed)
        lines[suite] = line
        labels = line.labels
        for model_ref, metrics in per_model.items():
            res = by_model[model_ref]
            main = metrics.get(line.headline)
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
                    metric=line.headline,
                    value=value,
                    ci_low=_nan_to_none(main.ci_low) if main else None,
                    ci_high=_nan_to_none(main.ci_high) if main else None,
                    metric_reason=line.headline_reason,
                    **baseline_fields(manifest.task, labels, res, line.headline),
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
        h2h.extend(head_to_head(suite, line.headline, labels, by_model, order, seed))
    run_info = {
        "id": run.id,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "status": run.display_status,
        "settings": run.config,
    }
    return Scorecard(run_info, models, rows, h2h, results, confusion, lines, metric_choice)
