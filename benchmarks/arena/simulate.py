"""Votes drawn from known Bradley-Terry ratings: for tests of the fit and for perf/leaderboard.py."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from benchmarks.arena.ratings import Vote


def simulate_votes(true: Mapping[str, float], n: int, seed: int, tie_rate: float = 0.0) -> list[Vote]:
    """`n` votes between random pairs on random sides, each won with the Bradley-Terry probability.

    With ties, a vote is a tie (or a both-bad, half each) with probability `tie_rate * 4p(1-p)`, so
    close models tie more often, and otherwise a win drawn so that the expected score with ties as
    half is still the Bradley-Terry p; that tie probability keeps the win probability in [0, 1].
    """
    rng = np.random.default_rng(seed)
    names = list(true)
    votes = []
    for _ in range(n):
        i, j = rng.choice(len(names), 2, replace=False)
        a, b = names[i], names[j]
        p = 1 / (1 + 10 ** ((true[b] - true[a]) / 400))
        tie = tie_rate * 4 * p * (1 - p)
        if rng.random() < tie:
            votes.append(Vote(a, b, "tie" if rng.random() < 0.5 else "bothbad"))
            continue
        p_win = (p - tie / 2) / (1 - tie)
        votes.append(Vote(a, b, "a" if rng.random() < p_win else "b"))
    return votes
