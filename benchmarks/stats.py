"""Confidence intervals and paired significance tests (scipy), so a scorecard never oversells a gap.

- Accuracy-type metrics: Wilson score interval; two models on the same items: exact McNemar test
  (a two-sided binomial test on the discordant pairs).
- Means of per-item scores (ROUGE) and macro-F1: bootstrap intervals over items; two models: paired
  bootstrap of the difference (the same resampled items for both models), of the mean per-item
  difference or of any statistic of a resample (macro-F1).
- A model against a fixed rate (the majority-class baseline): one-sided exact binomial test.
- How many items would settle a difference that is not significant: a power calculation at
  ALPHA and POWER (`items_to_settle`).

Every test is at ALPHA = 0.05. Bootstraps are percentile bootstraps with N_RESAMPLES resamples drawn
from `numpy.random.default_rng(seed)`, vectorised (all resamples in one array).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

ALPHA = 0.05
POWER = 0.8  # the chance of a significant result that `items_to_settle` plans for
N_RESAMPLES = 2000
RESAMPLE_CELLS = 2_000_000

#: A statistic of resampled items: item indices of shape (..., n) -> one value per resample, shape (...).
Statistic = Callable[[np.ndarray], np.ndarray]


def wilson_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


def _resample(n: int, statistic: Statistic, seed: int, confidence: float = 0.95) -> Any:
    """scipy's percentile bootstrap of `statistic` over resampled item indices 0..n-1, vectorised."""
    return stats.bootstrap(
        (np.arange(n),),
        lambda idx, axis=-1: statistic(np.asarray(idx, dtype=int)),
        vectorized=True,
        n_resamples=N_RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
        # Resamples in batches of about RESAMPLE_CELLS indices, so memory stays bounded on big suites.
        batch=max(1, min(N_RESAMPLES, RESAMPLE_CELLS // max(n, 1))),
    )


def bootstrap_ci(
    n: int,
    statistic: Statistic,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic(indices)` over resampled item indices 0..n-1.

    `statistic` is vectorised: it gets indices of shape (..., n) and returns one value per row.
    Percentile (not BCa) because per-item scores are often tied or degenerate (all 0 or 1), where BCa
    returns NaN; an interval of identical values is then simply [v, v].
    """
    if n <= 0:
        return (math.nan, math.nan)
    if n == 1:
        value = float(statistic(np.arange(1)))
        return (value, value)
    result = _resample(n, statistic, seed, confidence)
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def mean_ci(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return bootstrap_ci(len(arr), lambda idx: arr[idx].mean(axis=-1), seed)


@dataclass(frozen=True)
class PairedTest:
    test: str  # "exact McNemar" | "paired bootstrap"
    n: int  # items both models answered
    value_a: float
    value_b: float
    p_value: float
    detail: str  # discordant counts or the interval of the difference
    discordant: tuple[int, int] | None = None  # McNemar: (only A right, only B right)
    difference_se: float | None = None  # bootstrap: standard deviation of the resampled difference

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
        discordant=(only_a, only_b),
    )


def paired_bootstrap_statistic(
    n: int, statistic_a: Statistic, statistic_b: Statistic, seed: int = 0
) -> PairedTest:
    """Paired bootstrap of `statistic_a - statistic_b`: both models on the same resampled items.

    Two-sided p from the resampled differences shifted to centre on 0 (the null hypothesis): the
    share of them at least as far from 0 as the observed difference.
    """
    everything = np.arange(n)
    value_a = float(statistic_a(everything)) if n else math.nan
    value_b = float(statistic_b(everything)) if n else math.nan
    observed = value_a - value_b
    if n < 2:
        return PairedTest("paired bootstrap", n, value_a, value_b, 1.0, f"difference {observed:+.4f}")
    result = _resample(n, lambda idx: statistic_a(idx) - statistic_b(idx), seed)
    dist = np.asarray(result.bootstrap_distribution)
    if np.ptp(dist) == 0:  # every resample gives the same difference: it is exactly that, or 0
        p = 1.0 if observed == 0 else 0.0
        return PairedTest(
            "paired bootstrap", n, value_a, value_b, p, f"difference {observed:+.4f}", difference_se=0.0
        )
    p = float((np.sum(np.abs(dist - observed) >= abs(observed)) + 1) / (len(dist) + 1))
    ci = result.confidence_interval
    return PairedTest(
        "paired bootstrap",
        n,
        value_a,
        value_b,
        min(p, 1.0),
        f"difference {observed:+.4f} (95% CI {ci.low:+.4f} to {ci.high:+.4f})",
        difference_se=float(dist.std(ddof=1)),
    )


def paired_bootstrap(scores_a: Sequence[float], scores_b: Sequence[float], seed: int = 0) -> PairedTest:
    """Paired bootstrap of the mean per-item difference (ROUGE and other per-item scores)."""
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same length")
    test = paired_bootstrap_statistic(
        len(a), lambda idx: a[idx].mean(axis=-1), lambda idx: b[idx].mean(axis=-1), seed
    )
    return PairedTest(
        test.test,
        test.n,
        test.value_a,
        test.value_b,
        test.p_value,
        test.detail.replace("difference", "mean difference", 1),
        difference_se=test.difference_se,
    )


def better_than_rate(successes: int, n: int, rate: float) -> float:
    """One-sided exact binomial p-value of `successes` of `n` against a fixed rate (H1: better).

    Used against the majority-class baseline: could a model that answers the most frequent class
    every time have done as well? p >= ALPHA: the data cannot tell the model from that baseline.
    """
    if n <= 0:
        return math.nan
    return float(stats.binomtest(successes, n, min(max(rate, 0.0), 1.0), alternative="greater").pvalue)


def items_to_settle(test: PairedTest, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """How many items in all would make the observed difference significant with probability `power`.

    - exact McNemar (right/wrong items): the sample size for McNemar's test from the observed
      discordant rates (Connor 1987, normal approximation): with p10, p01 the shares of items only A
      or only B got right, psi = p10 + p01 and delta = p10 - p01,
      n = (z(1 - alpha/2) sqrt(psi) + z(power) sqrt(psi - delta^2))^2 / delta^2;
    - paired bootstrap (macro-F1, ROUGE): a normal approximation, the standard error of the difference
      shrinking as 1/sqrt(n): n = n_now * ((z(1 - alpha/2) + z(power)) * se / delta)^2.
    None when the observed difference is 0 (no number of items settles a difference of nothing).
    """
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    z_power = float(stats.norm.ppf(power))
    if test.n <= 0:
        return None
    if test.discordant is not None:
        only_a, only_b = test.discordant
        psi = (only_a + only_b) / test.n
        delta = (only_a - only_b) / test.n
        if delta == 0:
            return None
        need = (z_alpha * math.sqrt(psi) + z_power * math.sqrt(max(psi - delta**2, 0.0))) ** 2 / delta**2
        return math.ceil(need)
    delta = test.value_a - test.value_b
    if test.difference_se is None or delta == 0 or math.isnan(delta):
        return None
    return math.ceil(test.n * ((z_alpha + z_power) * test.difference_se / abs(delta)) ** 2)


def settle_sentence(n: int, needed: int | None) -> str:
    """What would settle a difference that `n` items left open, given `items_to_settle`'s answer."""
    if needed is None:
        return "the same score on these items: more items of this kind would not be expected to part them"
    more = needed - n
    power = f"{POWER:.0%} power"
    if more > 0:
        return f"about {more} more items ({needed} in all) would settle it at {power}"
    return f"{needed} items would give {power} at this difference, yet {n} did not settle it: it may be noise"


def verdict(test: PairedTest, name_a: str, name_b: str) -> str:
    """One line: the winner with its p-value, or that the data show no significant difference."""
    if not test.significant or test.value_a == test.value_b:
        return f"no significant difference (p = {test.p_value:.3g}, {test.test}, n = {test.n})"
    winner = name_a if test.value_a > test.value_b else name_b
    return f"{winner} is better (p = {test.p_value:.3g}, {test.test}, n = {test.n})"
