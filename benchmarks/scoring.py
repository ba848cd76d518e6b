"""Per-item scores and per-suite metrics (with their confidence intervals).

Per-item score dicts (stored as JSON with every result, so others can re-score them):
- classify / mc, log-likelihood: correct, correct_norm (length-normalised: log-prob per character), pred,
  pred_norm, logprobs
- classify / mc / math, generation: correct, pred (None when unparseable), unparseable
- summarize: rouge1, rouge2, rougeL (F-measure, Porter stemming, as rouge-score computes them),
  length_ratio (summary words / reference words)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from benchmarks import stats
from engines.base import OptionScore

ROUGE_KEYS = ("rouge1", "rouge2", "rougeL")


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_KEYS), use_stemmer=True)


def rouge(reference: str, prediction: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures with stemming, exactly as rouge-score's scorer computes them."""
    scores = _rouge_scorer().score(reference, prediction)
    return {key: float(scores[key].fmeasure) for key in ROUGE_KEYS}


def score_summary(reference: str, prediction: str) -> dict[str, Any]:
    result: dict[str, Any] = rouge(reference, prediction)
    ref_words = max(len(reference.split()), 1)
    result["length_ratio"] = len(prediction.split()) / ref_words
    return result


def score_loglik(scores: Sequence[OptionScore], answers: Sequence[str], target: str) -> dict[str, Any]:
    """Pick the option with the highest log-probability (raw) and per character (normalised)."""
    raw = [s.logprob for s in scores]
    norm = [s.logprob_per_char for s in scores]
    pred = answers[int(np.argmax(raw))]
    pred_norm = answers[int(np.argmax(norm))]
    return {
        "correct": int(pred == target),
        "correct_norm": int(pred_norm == target),
        "pred": pred,
        "pred_norm": pred_norm,
        "logprobs": {a: round(s.logprob, 5) for a, s in zip(answers, scores, strict=True)},
    }


def score_parsed(pred: str | None, target: str) -> dict[str, Any]:
    return {
        "correct": int(pred is not None and pred == target),
        "pred": pred,
        "unparseable": int(pred is None),
    }


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
    value: float
    ci_low: float
    ci_high: float


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


def compute_metrics(
    task: str, labels: Sequence[str], rows: Sequence[Mapping[str, Any]], seed: int = 0
) -> SuiteMetrics:
    """Metrics with 95% intervals from per-item rows ({"target", "score", "failed"})."""
    n = len(rows)
    scores = [r["score"] for r in rows]
    failures = sum(1 for r in rows if r.get("failed"))
    unparseable = sum(int(s.get("unparseable", 0)) for s in scores)
    metrics: list[Metric] = []
    if task == "summarize":
        for key in (*ROUGE_KEYS, "length_ratio"):
            values = [float(s.get(key, 0.0)) for s in scores]
            value = float(np.mean(values)) if values else math.nan
            low, high = stats.mean_ci(values, seed) if values else (math.nan, math.nan)
            metrics.append(Metric(key, value, low, high))
        return SuiteMetrics("rougeL", metrics, n, failures, unparseable)
    correct = [int(s.get("correct", 0)) for s in scores]
    primary = "exact_match" if task == "math" else "accuracy"
    k = sum(correct)
    metrics.append(Metric(primary, k / n if n else math.nan, *stats.wilson_ci(k, n)))
    if scores and all("correct_norm" in s for s in scores):
        k_norm = sum(int(s["correct_norm"]) for s in scores)
        metrics.append(Metric("accuracy_norm", k_norm / n, *stats.wilson_ci(k_norm, n)))
    result = SuiteMetrics(primary, metrics, n, failures, unparseable)
    if task == "classify" and n:
        targets = [str(r["target"]) for r in rows]
        preds = [s.get("pred") for s in scores]
        value = macro_f1(targets, preds, labels)
        present = [lab for lab in labels if lab in targets or lab in preds]
        codes = {lab: k for k, lab in enumerate(present)}
        t = np.array([codes.get(x, -2) for x in targets])
        p = np.array([codes.get(x, -1) if x is not None else -1 for x in preds])

        def resampled_f1(idx: np.ndarray) -> float:
            tt, pp = t[idx], p[idx]
            f1s = []
            for k in range(len(present)):
                tp = np.sum((tt == k) & (pp == k))
                denom = 2 * tp + np.sum((tt != k) & (pp == k)) + np.sum((tt == k) & (pp != k))
                f1s.append(2 * tp / denom if tp else 0.0)
            return float(np.mean(f1s)) if f1s else math.nan

        low, high = stats.bootstrap_ci(n, resampled_f1, seed)
        metrics.append(Metric("macro_f1", value, low, high))
        result.confusion = confusion(targets, preds, labels)
    return result
