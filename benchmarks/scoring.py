"""Per-item scores (`ItemScore`, see benchmarks/results.py for its stored form) and per-suite metrics
with their confidence intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from benchmarks import stats
from benchmarks.results import (
    CORRECT,
    CORRECT_NORM,
    ITEM_VALUE_OF,
    ITEM_VALUES,
    LENGTH_RATIO,
    PROPORTION_METRICS,
    ROUGE_KEYS,
    ItemScore,
)
from engines.base import OptionScore

__all__ = [
    "CORRECT",
    "CORRECT_NORM",
    "ITEM_VALUES",
    "ITEM_VALUE_OF",
    "PROPORTION_METRICS",
    "ROUGE_KEYS",
    "ItemScore",
    "compute_metrics",
    "score_loglik",
    "score_parsed",
    "score_summary",
    "score_unanswered",
]

@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_KEYS), use_stemmer=True)


def rouge(reference: str, prediction: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures with stemming, exactly as rouge-score's scorer computes them."""
    scores = _rouge_scorer().score(reference, prediction)
    return {key: float(scores[key].fmeasure) for key in ROUGE_KEYS}


def score_summary(reference: str, prediction: str, metric: str = "rougeL") -> ItemScore:
    values = rouge(reference, prediction)
    ref_words = max(len(reference.split()), 1)
    values[LENGTH_RATIO] = len(prediction.split()) / ref_words
    return ItemScore(metric, values)


def score_loglik(
    scores: Sequence[OptionScore], answers: Sequence[str], target: str, metric: str = "accuracy"
) -> ItemScore:
    """Pick the option with the highest log-probability (raw) and per character (normalised)."""
    raw = [s.logprob for s in scores]
    norm = [s.logprob_per_char for s in scores]
    pred = answers[int(np.argmax(raw))]
    pred_norm = answers[int(np.argmax(norm))]
    return ItemScore(
        metric,
        {CORRECT: int(pred == target), CORRECT_NORM: int(pred_norm == target)},
        pred,
        pred_norm,
        {a: round(s.logprob, 5) for a, s in zip(answers, scores, strict=True)},
    )


def score_parsed(pred: str | None, target: str, metric: str = "accuracy") -> ItemScore:
    """A generated answer read by a parser: None is unparseable (scored wrong)."""
    correct = int(pred is not None and pred == target)
    return ItemScore(metric, {CORRECT: correct}, pred, unparseable=pred is None)


def score_unanswered(target: str, metric: str) -> ItemScore:
    """An item the model never answered (its prompt did not fit): wrong, or a summary scored as empty."""
    if metric in PROPORTION_METRICS:
        return ItemScore(metric, {CORRECT: 0})
    return score_summary(target, "", metric)


def macro_f1(targets: Sequence[str], preds: Sequence[str | None], labels: Sequence[str]) -> float:
    """Mean F1 over the labels that occur as a target or a prediction (unparseable = no prediction)."""
    present = [lab for lab in labels if lab in targets or lab in preds]
    if not present:
        return math.nan
    f1s = []
    for label in present:
        tp = sum(1 for t, p in zip(targets, preds, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(targets, preds, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(targets, preds, strict=True) if t == label and p != label)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


@dataclass(frozen=True)
class LabelCodes:
    """Targets and predictions as integer codes, for macro-F1 over many resamples at once.

    Codes 0..k-1 are the labels that occur as a target or a prediction (as `macro_f1` counts them);
    a target outside the label set is -2 and a missing (unparseable) prediction -1, so neither ever
    matches a label.
    """

    targets: np.ndarray
    preds: np.ndarray
    k: int

    @classmethod
    def of(cls, targets: Sequence[str], preds: Sequence[str | None], labels: Sequence[str]) -> LabelCodes:
        present = [lab for lab in labels if lab in targets or lab in preds]
        codes = {lab: k for k, lab in enumerate(present)}
        t = np.array([codes.get(x, -2) for x in targets], dtype=int)
        p = np.array([codes.get(x, -1) if x is not None else -1 for x in preds], dtype=int)
        return cls(t, p, len(present))

    def macro_f1(self, idx: np.ndarray) -> np.ndarray:
        """Macro-F1 of the items at `idx` (shape (..., n): one resample per row), vectorised."""
        if self.k == 0:
            return np.full(idx.shape[:-1], math.nan)
        t = self.targets[idx][..., None]  # (..., n, 1) against the labels (k,)
        p = self.preds[idx][..., None]
        labels = np.arange(self.k)
        tp = np.sum((t == labels) & (p == labels), axis=-2)
        fp = np.sum((t != labels) & (p == labels), axis=-2)
        fn = np.sum((t == labels) & (p != labels), axis=-2)
        denom = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denom, out=np.zeros(tp.shape, dtype=float), where=tp > 0)
        return f1.mean(axis=-1)


def confusion(
    targets: Sequence[str], preds: Sequence[str | None], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    """{true label: {predicted label or 'unparseable': count}}."""
    columns = list(labels) + ["unparseable"]
    table = {t: dict.fromkeys(columns, 0) for t in labels}
    for t, p in zip(targets, preds, strict=True):
        row = table.setdefault(t, dict.fromkeys(columns, 0))
        key = "unparseable" if p is None else p
        row[key] = row.get(key, 0) + 1
    return table


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None  # NaN (or None on a scorecard) when there is nothing to compute it from
    ci_low: float | None
    ci_high: float | None


@dataclass
class SuiteMetrics:
    primary: str
    metrics: list[Metric]
    n: int
    failures: int  # unparseable answers + engine errors
    unparseable: int
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    def get(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


class ScoredItem(Protocol):
    """What metrics need of a result (benchmarks.results.ItemResult has it)."""

    @property
    def target(self) -> str: ...
    @property
    def score(self) -> ItemScore: ...
    @property
    def failed(self) -> bool: ...


def compute_metrics(
    task: str, metric: str, labels: Sequence[str], results: Sequence[ScoredItem], seed: int = 0
) -> SuiteMetrics:
    """Metrics with 95% intervals from per-item results; `metric` (the manifest's) is the primary one."""
    n = len(results)
    scores = [r.score for r in results]
    failures = sum(1 for r in results if r.failed)
    unparseable = sum(1 for s in scores if s.unparseable)
    metrics: list[Metric] = []
    if task == "summarize":
        for key in (*ROUGE_KEYS, LENGTH_RATIO):
            values = [float(s.values.get(key, 0.0)) for s in scores]
            value = float(np.mean(values)) if values else math.nan
            low, high = stats.mean_ci(values, seed) if values else (math.nan, math.nan)
            metrics.append(Metric(key, value, low, high))
        return SuiteMetrics(metric, metrics, n, failures, unparseable)
    correct = [int(s.values.get(CORRECT, 0)) for s in scores]
    proportion = metric if metric in PROPORTION_METRICS else "accuracy"
    k = sum(correct)
    metrics.append(Metric(proportion, k / n if n else math.nan, *stats.wilson_ci(k, n)))
    if scores and all(CORRECT_NORM in s.values for s in scores):
        k_norm = sum(int(s.values[CORRECT_NORM]) for s in scores)
        metrics.append(Metric("accuracy_norm", k_norm / n, *stats.wilson_ci(k_norm, n)))
    result = SuiteMetrics(metric, metrics, n, failures, unparseable)
    if task == "classify" and n:
        targets = [str(r.target) for r in results]
        preds = [s.prediction for s in scores]
        codes = LabelCodes.of(targets, preds, labels)
        value = macro_f1(targets, preds, labels)
        low, high = stats.bootstrap_ci(n, codes.macro_f1, seed)
        metrics.append(Metric("macro_f1", value, low, high))
        result.confusion = confusion(targets, preds, labels)
    return result
