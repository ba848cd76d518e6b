"""Bradley-Terry ratings from pairwise votes, on the Elo scale, with bootstrap intervals.

Model: P(i beats j) = 1 / (1 + exp(-(t_i - t_j))). A rating is 1000 + (400 / ln 10) * (t_i - mean t),
so 400 points are 10:1 odds and the pool's mean is 1000 (the scale of Chatbot Arena). A tie, and a
"both bad" vote, counts as half a win each way. The strengths t are the maximum of the penalised
log-likelihood, found by scipy.optimize (Newton-CG with the exact gradient and Hessian-vector
product); votes are first aggregated to counts per pair, so the fit costs the same for 100 or
100,000 votes.

Regularisation: one virtual tie per model against a reference player fixed at t = 0. Without it
a model that never wins (or never loses) has its maximum at minus (plus) infinity. One tie is the
weight of a single vote: negligible for a model with a few hundred votes (it moves its rating by a
fraction of a point), decisive only where the data say nothing, and it makes the maximum unique
(no need to pin the mean). It reads as "before any vote, every model has drawn once with an
average player", the virtual-draw prior of Coulom's Bayeselo.

Intervals: 95% percentile intervals over `resamples` Bayesian-bootstrap resamples (Rubin 1981):
each resample gives every vote a weight drawn from Exp(1), normalised (Dirichlet weights), and
refits; the virtual ties are resampled the same way as real votes. For models with many votes
this matches the classical bootstrap (counts 0, 1, 2... instead of continuous weights). It is
chosen because the classical bootstrap cannot see the uncertainty of a model that never wins: its
wins stay at zero in every resample, so its interval would be as narrow as a well-measured
model's. With the virtual tie resampled too, such a model gets a finite rating and an interval as
wide as one vote's worth of evidence, which is what the data support. All resamples are fitted
at once as one block-separable problem (vectorised over resamples), with a fixed seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

ELO_PER_NAT = 400 / math.log(10)
MEAN_RATING = 1000.0
N_RESAMPLES = 1000
PRIOR_TIES = 1.0
CONFIDENCE = 0.95
#: Resamples fitted together in one optimisation (keeps arrays small and convergence per block).
BLOCK = 250

# How each vote scores for the model shown as A (ties and both-bad count half a win each way).
OUTCOME_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5, "bothbad": 0.5}


@dataclass(frozen=True)
class Vote:
    model_a: str
    model_b: str
    outcome: str  # a | b | tie | bothbad


@dataclass(frozen=True)
class PairCounts:
    """Votes aggregated per unordered pair (i < j): wins of i, wins of j, ties."""

    models: tuple[str, ...]
    pair_i: np.ndarray  # (P,) int
    pair_j: np.ndarray  # (P,) int
    counts: np.ndarray  # (P, 3) float: i won, j won, tie/both bad

    @property
    def n_votes(self) -> int:
        return int(self.counts.sum())


def aggregate(votes: Iterable[Vote]) -> PairCounts:
    votes = list(votes)
    for v in votes:
        if v.outcome not in OUTCOME_SCORE:
            raise ValueError(f"unknown outcome '{v.outcome}'")
    models = tuple(sorted({v.model_a for v in votes} | {v.model_b for v in votes}))
    index = {m: k for k, m in enumerate(models)}
    cells: dict[tuple[int, int], list[float]] = {}
    for v in votes:
        i, j = index[v.model_a], index[v.model_b]
        if i == j:
            raise ValueError(f"a vote of '{v.model_a}' against itself")
        column = {"a": 0, "b": 1}.get(v.outcome, 2)
        if i > j:  # store with the lower index first, the winner column swapped with it
            i, j = j, i
            column = {0: 1, 1: 0, 2: 2}[column]
        cells.setdefault((i, j), [0.0, 0.0, 0.0])[column] += 1
    keys = sorted(cells)
    return PairCounts(
        models,
        np.array([k[0] for k in keys], dtype=int),
        np.array([k[1] for k in keys], dtype=int),
        np.array([cells[k] for k in keys], dtype=float).reshape(len(keys), 3),
    )


class _Problem:
    """The negative penalised log-likelihood of R independent weightings of the same pairs."""

    def __init__(self, pairs: PairCounts, weights: np.ndarray, prior: np.ndarray) -> None:
        # weights: (R, P, 3) vote weights per pair and outcome; prior: (R, M) virtual-tie weights.
        self.n_models = len(pairs.models)
        self.wins = weights[:, :, 0] + 0.5 * weights[:, :, 2]  # (R, P) wins of i, ties as half
        self.games = weights.sum(axis=2)  # (R, P)
        self.prior = prior
        incidence = np.zeros((len(pairs.pair_i), self.n_models))
        rows = np.arange(len(pairs.pair_i))
        incidence[rows, pairs.pair_i] = 1.0
        incidence[rows, pairs.pair_j] = -1.0
        self.incidence = incidence  # (P, M): d = t_i - t_j = incidence @ t
        self.shape = prior.shape

    def value_and_grad(self, flat: np.ndarray) -> tuple[float, np.ndarray]:
        t = flat.reshape(self.shape)
        d = t @ self.incidence.T  # (R, P)
        # -log L = sum W*log(1+e^-d) + (N-W)*log(1+e^d); the prior: half a win and half a loss vs 0.
        value = np.sum(self.wins * np.logaddexp(0, -d) + (self.games - self.wins) * np.logaddexp(0, d))
        value += np.sum(0.5 * self.prior * (np.logaddexp(0, -t) + np.logaddexp(0, t)))
        residual = self.games * special.expit(d) - self.wins  # d(-log L)/dd
        grad = residual @ self.incidence + self.prior * (special.expit(t) - 0.5)
        return float(value), grad.ravel()

    def hessp(self, flat: np.ndarray, vector: np.ndarray) -> np.ndarray:
        t = flat.reshape(self.shape)
        v = vector.reshape(self.shape)
        p = special.expit(t @ self.incidence.T)
        curvature = self.games * p * (1 - p)  # (R, P)
        out = (curvature * (v @ self.incidence.T)) @ self.incidence
        pt = special.expit(t)
        out += self.prior * pt * (1 - pt) * v
        return out.ravel()


def fit_strengths(pairs: PairCounts, weights: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Maximum penalised-likelihood strengths (natural log-odds units), shape (R, M)."""
    problem = _Problem(pairs, weights, prior)
    start = np.zeros(problem.shape).ravel()
    result = optimize.minimize(
        problem.value_and_grad,
        start,
        jac=True,
        hessp=problem.hessp,
        method="Newton-CG",
        options={"xtol": 1e-9, "maxiter": 200},
    )
    # Judge convergence by the gradient, not `success`: Newton-CG reports "precision loss" once the
    # gradient is ~1e-8 votes, i.e. when it cannot improve any further.
    gradient = problem.value_and_grad(result.x)[1]
    scale = max(1.0, float(weights.sum(axis=(1, 2)).max()))
    if not np.all(np.isfinite(result.x)) or np.abs(gradient).max() > 1e-6 * scale:
        raise ArithmeticError(f"Bradley-Terry fit did not converge: {result.message}")
    return result.x.reshape(problem.shape)


def fit_each(pairs: PairCounts, weights: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The same fit, one optimisation per weighting (same method and tolerance): what vectorising
    over resamples saves, as perf/leaderboard.py measures."""
    return np.concatenate(
        [fit_strengths(pairs, weights[r : r + 1], prior[r : r + 1]) for r in range(len(prior))]
    )


def to_elo(strengths: np.ndarray) -> np.ndarray:
    """Strengths (..., M) to ratings with mean 1000 along the last axis."""
    return MEAN_RATING + ELO_PER_NAT * (strengths - strengths.mean(axis=-1, keepdims=True))


def expected_score(rating_a: float, rating_b: float) -> float:
    """P(A beats B) on this scale (ties as half)."""
    return 1.0 / (1.0 + 10 ** ((rating_b - rating_a) / 400))


def votes_per_model(pairs: PairCounts) -> np.ndarray:
    games = pairs.counts.sum(axis=1)
    out = np.zeros(len(pairs.models))
    np.add.at(out, pairs.pair_i, games)
    np.add.at(out, pairs.pair_j, games)
    return out


def align(samples: np.ndarray, point: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """Shift each resample so its vote-weighted mean equals the point estimate's.

    Ratings are defined up to a shift; the point estimate fixes it with the plain mean (1000). Were
    each resample centred on its plain mean too, one model with few votes swinging by hundreds of
    points would drag every other model's interval with it by 1/M of that swing. Weighting by votes
    pins the origin where the evidence is, so each interval reflects its own model's uncertainty.
    """
    weights = evidence / evidence.sum()
    offset = (samples - point) @ weights
    return samples - offset[:, None]


@dataclass(frozen=True)
class Fit:
    models: tuple[str, ...]
    ratings: np.ndarray  # (M,) point estimates
    low: np.ndarray  # (M,) interval bounds
    high: np.ndarray
    samples: np.ndarray  # (resamples, M) bootstrap ratings


def bootstrap_weights(counts: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Dirichlet weights over votes, aggregated: a cell of c votes gets Gamma(c, 1), all normalised
    so the weights still add up to the number of votes. Shape (resamples, *counts.shape)."""
    draws = rng.gamma(np.broadcast_to(counts, (resamples, *counts.shape)) + 0.0)  # Gamma(0) draws 0
    total = draws.reshape(resamples, -1).sum(axis=1)
    scale = counts.sum() / np.where(total > 0, total, 1.0)
    return draws * scale.reshape((resamples,) + (1,) * counts.ndim)


def fit_with_intervals(
    votes: Sequence[Vote],
    *,
    resamples: int = N_RESAMPLES,
    seed: int = 0,
    prior_ties: float = PRIOR_TIES,
    confidence: float = CONFIDENCE,
) -> Fit:
    """Ratings with percentile bootstrap intervals (see the module docstring for the method)."""
    pairs = aggregate(votes)
    n_models = len(pairs.models)
    if n_models < 2:
        raise ValueError("ratings need votes between at least two models")
    base_prior = np.full((1, n_models), prior_ties)
    point = to_elo(fit_strengths(pairs, pairs.counts[None], base_prior))[0]
    evidence = votes_per_model(pairs)
    rng = np.random.default_rng(seed)
    # The virtual ties are votes like the others: they go into the same Dirichlet draw.
    pool = np.concatenate([pairs.counts.ravel(), np.full(n_models, prior_ties)])
    samples = []
    for start in range(0, resamples, BLOCK):
        size = min(BLOCK, resamples - start)
        drawn = bootstrap_weights(pool, rng, size)
        weights = drawn[:, : pairs.counts.size].reshape(size, *pairs.counts.shape)
        prior = drawn[:, pairs.counts.size :]
        samples.append(align(to_elo(fit_strengths(pairs, weights, prior)), point, evidence))
    sample_array = np.concatenate(samples) if samples else np.empty((0, n_models))
    tail = (1 - confidence) / 2 * 100
    if len(sample_array):
        low, high = np.percentile(sample_array, [tail, 100 - tail], axis=0)
    else:
        low = high = np.full(n_models, np.nan)
    return Fit(pairs.models, point, low, high, sample_array)


def fit_ratings(votes: Sequence[Vote], *, prior_ties: float = PRIOR_TIES) -> dict[str, float]:
    """Point ratings only (no intervals): {model: rating}."""
    pairs = aggregate(votes)
    if len(pairs.models) < 2:
        raise ValueError("ratings need votes between at least two models")
    prior = np.full((1, len(pairs.models)), prior_ties)
    ratings = to_elo(fit_strengths(pairs, pairs.counts[None], prior))[0]
    return {m: float(r) for m, r in zip(pairs.models, ratings, strict=True)}


@dataclass(frozen=True)
class PositionBias:
    """How often the side shown as Model A (left) won the votes that had a winner."""

    left_wins: int
    right_wins: int
    ties: int
    share: float | None  # left wins / decisive votes
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # two-sided exact binomial test of share = 0.5

    @property
    def decisive(self) -> int:
        return self.left_wins + self.right_wins

    def describe(self) -> str:
        if self.share is None:
            return "position bias: no decisive votes yet"
        verdict = "significant" if (self.p_value or 1.0) < 1 - CONFIDENCE else "no significant bias"
        return (
            f"position bias: Model A (left) won {self.share:.1%} of {self.decisive} decisive votes "
            f"(95% CI {self.ci_low:.1%}-{self.ci_high:.1%}; {verdict}, p = {self.p_value:.3g}); "
            f"{self.ties} ties"
        )


def position_bias(votes: Iterable[Vote]) -> PositionBias:
    outcomes = [v.outcome for v in votes]
    left, right = outcomes.count("a"), outcomes.count("b")
    ties = len(outcomes) - left - right
    if left + right == 0:
        return PositionBias(left, right, ties, None, None, None, None)
    test = stats.binomtest(left, left + right, 0.5)
    ci = test.proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return PositionBias(
        left, right, ties, left / (left + right), float(ci.low), float(ci.high), float(test.pvalue)
    )
