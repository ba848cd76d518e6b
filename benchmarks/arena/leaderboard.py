"""The arena leaderboard: ratings with intervals, vote counts, win rates and the position bias.

`build_leaderboard` reads the votes of one voter (human, judge:NAME, or all) from the store and fits
them (see ratings.py). Models are keyed by the ref the battle used (`qwen2.5-coder-0.5b`,
`hf:...`, `remote:...#name`); their file sha256 values are listed beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.arena.ratings import (
    N_RESAMPLES,
    PositionBias,
    Vote,
    fit_with_intervals,
    position_bias,
)
from benchmarks.arena.store import HUMAN, ArenaError, ArenaStore, BattleRecord, check_voter

METHOD = (
    "Bradley-Terry ratings on the Elo scale (400 points = 10:1 odds, mean 1000), maximum likelihood with "
    "one virtual tie per model against an average player; ties and both-bad votes count half a win each "
    "way. 95% intervals: percentile Bayesian bootstrap over votes. Rank: 1 + the number of models whose "
    "interval lies entirely above this one's."
)


class NoVotesError(ArenaError):
    """No votes to rate for the chosen voter (not bad input: `duel leaderboard` says so and exits 0)."""


@dataclass(frozen=True)
class Standing:
    model: str
    rating: float
    ci_low: float
    ci_high: float
    votes: int
    wins: int
    ties: int  # ties and both-bad votes
    losses: int
    rank: int
    sha256: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "model": self.model,
            "rating": round(self.rating, 2),
            "ci_low": round(self.ci_low, 2),
            "ci_high": round(self.ci_high, 2),
            "votes": self.votes,
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "sha256": list(self.sha256),
        }


@dataclass(frozen=True)
class Leaderboard:
    voter: str
    standings: tuple[Standing, ...]  # best first
    win_rate: dict[str, dict[str, float | None]]  # score of the row model against the column model
    games: dict[str, dict[str, int]]
    position: PositionBias
    n_votes: int
    no_verdict: int  # judge verdicts that could not be read (excluded)
    resamples: int
    seed: int
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def models(self) -> list[str]:
        return [s.model for s in self.standings]

    def to_json(self) -> dict[str, Any]:
        return {
            "voter": self.voter,
            "created_at": self.created_at,
            "votes": self.n_votes,
            "no_verdict": self.no_verdict,
            "resamples": self.resamples,
            "seed": self.seed,
            "method": METHOD,
            "standings": [s.to_json() for s in self.standings],
            "win_rate": self.win_rate,
            "games": self.games,
            "position_bias": {
                "left_wins": self.position.left_wins,
                "right_wins": self.position.right_wins,
                "ties": self.position.ties,
                "left_share": self.position.share,
                "ci_low": self.position.ci_low,
                "ci_high": self.position.ci_high,
                "p_value": self.position.p_value,
                "summary": self.position.describe(),
            },
        }


def votes_of(battles: Sequence[BattleRecord]) -> list[Vote]:
    return [Vote(b.model_a, b.model_b, b.vote) for b in battles if b.vote is not None]


def _records(votes: Sequence[Vote]) -> dict[str, list[int]]:
    """Per model: [wins, ties, losses]."""
    out: dict[str, list[int]] = {}
    for v in votes:
        a, b = out.setdefault(v.model_a, [0, 0, 0]), out.setdefault(v.model_b, [0, 0, 0])
        if v.outcome == "a":
            a[0] += 1
            b[2] += 1
        elif v.outcome == "b":
            b[0] += 1
            a[2] += 1
        else:
            a[1] += 1
            b[1] += 1
    return out


def win_rates(votes: Sequence[Vote], models: Sequence[str]) -> tuple[dict, dict]:
    """Row model's score (wins + half the ties) / games against each column model; None if never met."""
    score = {m: dict.fromkeys(models, 0.0) for m in models}
    games = {m: dict.fromkeys(models, 0) for m in models}
    for v in votes:
        s = {"a": 1.0, "b": 0.0}.get(v.outcome, 0.5)
        score[v.model_a][v.model_b] += s
        score[v.model_b][v.model_a] += 1 - s
        games[v.model_a][v.model_b] += 1
        games[v.model_b][v.model_a] += 1
    rate = {
        row: {col: (score[row][col] / games[row][col] if games[row][col] else None) for col in models}
        for row in models
    }
    return rate, games


def leaderboard_from_battles(
    battles: Sequence[BattleRecord],
    voter: str,
    *,
    no_verdict: int = 0,
    resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Leaderboard:
    votes = votes_of(battles)
    if not votes:
        raise NoVotesError(f"no votes from {voter} yet")
    fit = fit_with_intervals(votes, resamples=resamples, seed=seed)
    records = _records(votes)
    hashes: dict[str, set[str]] = {}
    for b in battles:
        for ref, sha in ((b.model_a, b.sha256_a), (b.model_b, b.sha256_b)):
            if sha:
                hashes.setdefault(ref, set()).add(sha)
    order = sorted(range(len(fit.models)), key=lambda k: -fit.ratings[k])
    standings = []
    for k in order:
        model = fit.models[k]
        wins, ties, losses = records[model]
        better = sum(1 for other in range(len(fit.models)) if fit.low[other] > fit.high[k])
        standings.append(
            Standing(
                model,
                float(fit.ratings[k]),
                float(fit.low[k]),
                float(fit.high[k]),
                wins + ties + losses,
                wins,
                ties,
                losses,
                1 + better,
                tuple(sorted(hashes.get(model, ()))),
            )
        )
    models = [s.model for s in standings]
    rate, games = win_rates(votes, models)
    return Leaderboard(
        voter, tuple(standings), rate, games, position_bias(votes), len(votes), no_verdict, resamples, seed
    )


def build_leaderboard(
    voter: str = HUMAN, *, store: ArenaStore | None = None, resamples: int = N_RESAMPLES, seed: int = 0
) -> Leaderboard:
    """The leaderboard of `voter` (human, judge:NAME or all) from the arena store."""
    if voter != "all":
        check_voter(voter)
    own = store is None
    store = store or ArenaStore()
    try:
        known = store.voters()
        if voter not in ("all", HUMAN) and voter not in known:
            names = ", ".join(sorted(known)) or "none yet"
            raise ArenaError(f"no votes from '{voter}' (voters: {names})")
        battles = store.battles(voter)
        no_verdict = sum(c["no_verdict"] for v, c in known.items() if voter in ("all", v))
    finally:
        if own:
            store.close()
    if not battles:
        hint = "vote in `duel arena`, or let a judge vote with `duel arena judge`"
        raise NoVotesError(f"no votes from {voter} yet: {hint}")
    return leaderboard_from_battles(battles, voter, no_verdict=no_verdict, resamples=resamples, seed=seed)
