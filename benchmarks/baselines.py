"""What a classification or multiple-choice score must beat, and which metric a scorecard leads with.

- chance: the accuracy of answering at random, the mean over items of 1/k (k options of the item);
- majority: the accuracy of always answering the most frequent answer of the items scored (e.g.
  "negative" on a sample of airline tweets that is 63% negative); a model is reported as "not better
  than always answering X" unless a one-sided exact binomial test of its accuracy against that rate
  says it is better at ALPHA (0.05);
- the headline metric: macro-F1 (with its bootstrap interval) instead of accuracy for a
  classification suite whose classes are imbalanced, its largest class more than IMBALANCE_RATIO
  times its smallest among the items scored: there, accuracy rewards answering the big class. The
  user can choose another metric (`--metric`).

Pure functions of the per-item results; the scorecard and `duel recommend` both use them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import stats
from benchmarks.results import METRIC_CHOICES, ItemResult
from benchmarks.scoring import macro_f1

IMBALANCE_RATIO = 1.5
BASELINE_TASKS = ("classify", "mc")
AUTO = METRIC_CHOICES[0]


@dataclass(frozen=True)
class Baselines:
    """The baselines of one suite's items (the same for every model answering them)."""

    chance: float
    majority_label: str
    majority_rate: float
    class_counts: dict[str, int]  # answer key -> items, most frequent first
    majority_macro_f1: float | None  # classify: the macro-F1 of always answering the majority label

    @property
    def imbalance_ratio(self) -> float:
        """The largest class over the smallest, among the answers that occur in the items."""
        counts = list(self.class_counts.values())
        return max(counts) / min(counts)

    @property
    def imbalanced(self) -> bool:
        return len(self.class_counts) > 1 and self.imbalance_ratio > IMBALANCE_RATIO

    def counts_text(self) -> str:
        return ", ".join(f"{label} {count}" for label, count in self.class_counts.items())


@dataclass(frozen=True)
class VsMajority:
    """One model's accuracy against always answering the majority label."""

    accuracy: float
    majority_label: str
    majority_rate: float
    p_value: float  # one-sided exact binomial test: accuracy > majority rate
    better: bool

    @property
    def verdict(self) -> str:
        """The sentence every scorecard prints ("not better than always answering negative ...")."""
        test = f"one-sided exact binomial p = {self.p_value:.3g}, alpha {stats.ALPHA}"
        numbers = f"accuracy {self.accuracy:.3f} vs {self.majority_rate:.3f}"
        if self.better:
            return f"better than always answering {self.majority_label} ({numbers}; {test})"
        return f"not better than always answering {self.majority_label} ({numbers}; {test})"


def option_count(result: ItemResult, labels: Sequence[str]) -> int:
    """How many answers the item offered: the options sent or scored, else the suite's labels."""
    if result.sent is not None and result.sent.options:
        return len(result.sent.options)
    if result.score.logprobs:
        return len(result.score.logprobs)
    return max(len(labels), 1)


def baselines(task: str, labels: Sequence[str], results: Sequence[ItemResult]) -> Baselines | None:
    """The baselines of these items (one result per item), or None outside classification / MC."""
    if task not in BASELINE_TASKS or not results:
        return None
    targets = [str(r.target) for r in results]
    counts = Counter(targets)
    # Ties: the label that comes first in the suite's label order (then alphabetically) is "the" majority.
    order = {label: k for k, label in enumerate(labels)}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
    label, count = ranked[0]
    chance = sum(1 / option_count(r, labels) for r in results) / len(results)
    majority_f1 = macro_f1(targets, [label] * len(targets), labels) if task == "classify" else None
    return Baselines(chance, label, count / len(results), dict(ranked), majority_f1)


def vs_majority(correct: int, n: int, base: Baselines) -> VsMajority:
    accuracy = correct / n if n else 0.0
    p = stats.better_than_rate(correct, n, base.majority_rate)
    better = accuracy > base.majority_rate and p < stats.ALPHA
    return VsMajority(accuracy, base.majority_label, base.majority_rate, p, better)


def headline_metric(
    task: str, manifest_metric: str, base: Baselines | None, available: Sequence[str], requested: str = AUTO
) -> tuple[str, str]:
    """(the metric a suite's scorecard leads with, why), from the suite's items and the user's choice."""
    if requested != AUTO and requested in available:
        return requested, "chosen with --metric"
    if task == "classify" and base is not None and base.imbalanced and "macro_f1" in available:
        return "macro_f1", (
            f"classes imbalanced ({base.counts_text()}: the largest is {base.imbalance_ratio:.2f}x the "
            f"smallest, over {IMBALANCE_RATIO}x), so macro-F1 leads; accuracy is still shown"
        )
    return manifest_metric, "the suite's metric"
