"""Bradley-Terry ratings: known strengths come back, ties, a model that never wins, the bias line."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from benchmarks.arena.ratings import (
    Vote,
    _Problem,
    aggregate,
    bootstrap_weights,
    fit_each,
    fit_ratings,
    fit_strengths,
    fit_with_intervals,
    position_bias,
)
from benchmarks.arena.simulate import simulate_votes as simulate

TRUE = {"m-strong": 1300.0, "m-good": 1150.0, "m-mid": 1000.0, "m-weak": 850.0, "m-poor": 700.0}


def test_known_strengths_come_back_in_order_inside_their_intervals() -> None:
    fit = fit_with_intervals(simulate(TRUE, 3000, seed=7), resamples=1000, seed=0)
    order = [fit.models[k] for k in np.argsort(-fit.ratings)]
    assert order == sorted(TRUE, key=lambda m: -TRUE[m])
    assert fit.ratings.mean() == pytest.approx(1000.0)
    for k, model in enumerate(fit.models):
        assert fit.low[k] <= TRUE[model] <= fit.high[k], (model, fit.low[k], TRUE[model], fit.high[k])
        assert fit.low[k] < fit.ratings[k] < fit.high[k]
        assert 10 < fit.high[k] - fit.low[k] < 120  # ~1200 votes each: tens of points, not hundreds


def test_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    true = {"a": 1120.0, "b": 1040.0, "c": 960.0, "d": 880.0}
    covered = total = 0
    for seed in range(20):
        fit = fit_with_intervals(simulate(true, 1500, seed=100 + seed), resamples=1000, seed=seed)
        for k, model in enumerate(fit.models):
            covered += fit.low[k] <= true[model] <= fit.high[k]
            total += 1
    assert covered / total >= 0.85  # 80 intervals; a broken interval method covers far less


def test_ties_and_both_bad_count_as_half_a_win_each_way() -> None:
    with_ties = [Vote("x", "y", "a")] * 3 + [Vote("x", "y", "tie"), Vote("y", "x", "bothbad")]
    as_wins = [Vote("x", "y", "a")] * 4 + [Vote("x", "y", "b")]
    assert fit_ratings(with_ties) == pytest.approx(fit_ratings(as_wins), abs=1e-6)
    only_ties = [Vote("x", "y", "tie")] * 20 + [Vote("y", "x", "bothbad")] * 5
    assert fit_ratings(only_ties) == pytest.approx({"x": 1000.0, "y": 1000.0}, abs=1e-6)


def test_ties_in_the_data_still_give_back_the_truth() -> None:
    votes = simulate(TRUE, 4000, seed=11, tie_rate=0.4)
    assert 500 < sum(v.outcome in ("tie", "bothbad") for v in votes) < 1500
    fit = fit_with_intervals(votes, seed=1)
    order = [fit.models[k] for k in np.argsort(-fit.ratings)]
    assert order == sorted(TRUE, key=lambda m: -TRUE[m])
    for k, model in enumerate(fit.models):
        assert fit.low[k] <= TRUE[model] <= fit.high[k], model


def test_a_model_that_never_wins_gets_a_finite_rating_and_a_wide_interval() -> None:
    true = {"a": 1100.0, "b": 1000.0, "c": 900.0}
    votes = simulate(true, 900, seed=3)
    rng = np.random.default_rng(4)
    for _ in range(90):  # "zero" loses every battle, on either side
        other = str(rng.choice(list(true)))
        votes.append(Vote("zero", other, "b") if rng.random() < 0.5 else Vote(other, "zero", "a"))
    fit = fit_with_intervals(votes, seed=0)
    k = fit.models.index("zero")
    assert np.all(np.isfinite(fit.ratings)) and np.all(np.isfinite(fit.low))
    assert fit.ratings[k] == fit.ratings.min()
    others = [i for i in range(len(fit.models)) if i != k]
    widest_other = max(fit.high[i] - fit.low[i] for i in others)
    assert fit.high[k] - fit.low[k] > 3 * widest_other
    assert fit.high[k] < min(fit.low[i] for i in others)  # still clearly below everyone
    assert widest_other < 120  # the loser's uncertainty does not spill into the others' intervals


def test_the_scale_is_elo_400_points_for_ten_to_one_odds() -> None:
    votes = [Vote("x", "y", "a")] * 10_000 + [Vote("y", "x", "a")] * 1_000
    ratings = fit_ratings(votes)
    assert ratings["x"] - ratings["y"] == pytest.approx(400, abs=2)
    assert (ratings["x"] + ratings["y"]) / 2 == pytest.approx(1000)


def test_the_bootstrap_is_seeded() -> None:
    votes = simulate(TRUE, 600, seed=5)
    one, two = fit_with_intervals(votes, seed=3), fit_with_intervals(votes, seed=3)
    other = fit_with_intervals(votes, seed=4)
    assert np.array_equal(one.low, two.low) and np.array_equal(one.high, two.high)
    assert not np.array_equal(one.low, other.low)
    assert one.samples.shape == (1000, 5)


def test_the_vectorised_fit_matches_one_fit_per_resample() -> None:
    pairs = aggregate(simulate(TRUE, 500, seed=9))
    rng = np.random.default_rng(0)
    weights = bootstrap_weights(pairs.counts, rng, 4)
    prior = np.ones((4, len(pairs.models)))
    joint = fit_strengths(pairs, weights, prior)
    assert np.abs(fit_each(pairs, weights, prior) - joint).max() < 1e-6
    for r in range(4):  # and an independent optimiser on each resample agrees
        single = _Problem(pairs, weights[r : r + 1], prior[r : r + 1])
        reference = optimize.minimize(
            single.value_and_grad, np.zeros(len(pairs.models)), jac=True, method="L-BFGS-B",
            options={"gtol": 1e-10, "ftol": 0.0},
        )  # fmt: skip
        assert np.abs(reference.x - joint[r]).max() < 1e-5


def test_position_bias_counts_the_left_side() -> None:
    biased = [Vote("x", "y", "a")] * 70 + [Vote("x", "y", "b")] * 30 + [Vote("x", "y", "tie")] * 5
    bias = position_bias(biased)
    assert (bias.left_wins, bias.right_wins, bias.ties) == (70, 30, 5)
    assert bias.share == pytest.approx(0.7) and bias.p_value < 0.001
    assert bias.ci_low < 0.7 < bias.ci_high
    assert "significant" in bias.describe() and "70.0%" in bias.describe()
    fair = position_bias([Vote("x", "y", "a")] * 50 + [Vote("y", "x", "a")] * 50 + [Vote("x", "y", "b")] * 50)
    assert fair.share == pytest.approx(2 / 3) and fair.p_value < 0.05  # left won 100 of 150
    even = position_bias([Vote("x", "y", "a"), Vote("x", "y", "b")] * 40)
    assert even.share == 0.5 and even.p_value == pytest.approx(1.0) and "no significant" in even.describe()
    assert position_bias([Vote("x", "y", "tie")]).share is None


def test_a_vote_against_itself_is_refused() -> None:
    with pytest.raises(ValueError):
        aggregate([Vote("x", "x", "a")])
    with pytest.raises(ValueError):
        aggregate([Vote("x", "y", "maybe")])
    assert math.isfinite(fit_ratings([Vote("x", "y", "a")])["x"])  # one win: finite thanks to the prior
