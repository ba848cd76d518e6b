"""Confidence intervals and paired significance tests (scipy), so a scorecard never oversells a gap.

- Accuracy-type metrics: Wilson score interval; two models on the same items: exact McNemar test
  (a two-sided binomial test on the discordant pairs).
- Means of per-item scores (ROUGE) and macro-F1: bootstrap intervals over items; two models: paired
  bootstrap of the mean difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
N_RESAMPLES = 2000


def wilson_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


def bootstrap_ci(
    n: int,
    statistic: Callable[[np.ndarray], float],
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic(indices)` over resampled item indices 0..n-1.

    Percentile (not BCa) because per-item scores are often tied or degenerate (all 0 or 1), where BCa
    returns NaN; an interval of identical values is then simply [v, v].
    """
    if n <= 0:
        return (math.nan, math.nan)
    if n == 1:
        value = float(statistic(np.arange(1)))
        return (value, value)
    result = stats.bootstrap(
        (np.arange(n),),
        lambda idx: statistic(np.asarray(idx, dtype=int)),
        vectorized=False,
        n_resamples=N_RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def mean_ci(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return bootstrap_ci(len(arr), lambda idx: float(arr[idx].mean()), seed)


@dataclass(frozen=True)
class PairedTest:
    test: str  # "exact McNemar" | "paired bootstrap"
    n: int  # items both models answered
    value_a: float
    value_b: float
    p_value: float
    detail: str  # discordant counts or the interval of the difference

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> PairedTest:
    """Exact McNemar: under H0 each discordant pair favours A or B with probability 1/2."""
    if len(correct_a) != len(correct_b):
        raise ValueError("paired samples must have the same length")
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    discordant = only_a + only_b
    p = 1.0 if discordant == 0 else float(stats.binomtest(only_a, discordant, 0.5).pvalue)
    n = len(a)
    return PairedTest(
        "exact McNemar",
        n,
        float(a.mean()) if n else math.nan,
        float(b.mean()) if n else math.nan,
        min(p, 1.0),
        f"discordant: {only_a} only A right, {only_b} only B right",
    )


def paired_bootstrap(scores_a: Sequence[float], scores_b: Sequence[float], seed: int = 0) -> PairedTest:
    """Bootstrap the mean per-item difference; two-sided p from the distribution shifted to H0 (mean 0)."""
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same length")
    n = len(a)
    diff = a - b
    observed = float(diff.mean()) if n else math.nan
    if n < 2 or np.allclose(diff, diff[0]):
        p = 1.0 if n < 2 or observed == 0 else 0.0
        return PairedTest(
            "paired bootstrap",
            n,
            float(a.mean()) if n else math.nan,
            float(b.mean()) if n else math.nan,
            p,
            f"mean difference {observed:+.4f}",
        )
    result = stats.bootstrap(
        (diff,), np.mean, n_resamples=N_RESAMPLES, method="percentile", rng=np.random.default_rng(seed)
    )
    dist = np.asarray(result.bootstrap_distribution)
    # Shift the resampled means to centre on 0 (the null) and count those at least as extreme.
    p = float((np.sum(np.abs(dist - observed) >= abs(observed)) + 1) / (len(dist) + 1))
    ci = result.confidence_interval
    return PairedTest(
        "paired bootstrap",
        n,
        float(a.mean()),
        float(b.mean()),
        min(p, 1.0),
        f"mean difference {observed:+.4f} (95% CI {ci.low:+.4f} to {ci.high:+.4f})",
    )


def verdict(test: PairedTest, name_a: str, name_b: str) -> str:
    """One line: the winner with its p-value, or that the data show no significant difference."""
    if not test.significant or test.value_a == test.value_b:
        return f"no significant difference (p = {test.p_value:.3g}, {test.test}, n = {test.n})"
    winner = name_a if test.value_a > test.value_b else name_b
    return f"{winner} is better (p = {test.p_value:.3g}, {test.test}, n = {test.n})"
