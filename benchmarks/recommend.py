"""`duel recommend`: which model to use for a task, from what duel measured on this machine.

The decision, per task, in this order:
1. constraints: a model whose peak memory is over `--max-memory` or whose generation speed is under
   `--min-tok-s` is left out, with the reason shown;
2. quality: the headline metric (as on scorecards: the suite's, or macro-F1 for an imbalanced
   classification suite) with its 95% interval. The best model and every model whose difference
   from it is not significant (the scorecard's paired test: exact McNemar or paired bootstrap, alpha
   0.05) form a tie group; the next best outside it starts the next group, and so on. A tie is said
   as such, with the items that would settle it at 80% power, instead of being ranked;
3. within a tie group: faster first (tok/s), then less memory (peak RSS), then the smaller file.
Cost per 1M generated tokens = price per hour / (3600 x tok/s) x 1e6, when a price is given.

How runs are combined: results count together only when their suite, suite version (its content
hash) and settings (method, shots, token limit, scoring version) are all equal. Per task, the group
with the most models (then the most items, then the newest run) is compared; a later run's result
for an item replaces an earlier one; models are compared on the items all of them answered (a
model that shares no item with the others is left out, saying so). tok/s is generated tokens per
second over every generation duel timed for the model (benchmark answers, and chat replies when
the caller passes them); peak RSS is the largest seen in the runs compared; size is the file's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from benchmarks import stats
from benchmarks.baselines import AUTO
from benchmarks.measured import (
    GB,
    MIB,
    ModelFacts,
    Timings,
    arena_board,
    comparison,
    model_facts,
    wanted,
)
from benchmarks.results import ItemResult
from benchmarks.scorecard import baseline_fields, paired_test, score_suite
from benchmarks.scoring import Metric
from benchmarks.store import ResultsStore, StoredResult
from benchmarks.suites import TASKS as SUITE_TASKS

TASKS = (*SUITE_TASKS, "chat")
@dataclass(frozen=True)
class Constraints:
    max_memory_gb: float | None = None
    min_tok_s: float | None = None
    price_per_hour: float | None = None


def cost_per_million(price_per_hour: float, tok_s: float) -> float:
    """What generating 1M tokens costs at `tok_s` on a machine rented at `price_per_hour`."""
    return price_per_hour / (3600 * tok_s) * 1e6


@dataclass(frozen=True)
class Candidate:
    model: str  # the reference used in its latest run
    model_key: str  # sha256 of the file (or source:name)
    quality: float | None
    ci_low: float | None
    ci_high: float | None
    items: int
    tok_s: float | None
    speed_source: str
    peak_rss_mb: float | None
    file_size_gb: float | None
    cost_per_1m: float | None
    rank: int | None = None  # tie group, 1 = best; None when filtered or not ranked
    tied: bool = False  # shares its group with another model
    baseline: str | None = None  # classify / mc: the verdict against always answering the majority
    filtered: str | None = None  # why it is left out
    reason: str = ""

    @property
    def rank_label(self) -> str:
        if self.rank is None:
            return "—"
        return f"{self.rank}=" if self.tied else str(self.rank)


@dataclass(frozen=True)
class TaskRecommendation:
    task: str
    suite: str | None
    settings: dict[str, Any]
    metric: str | None
    metric_reason: str
    items: int
    runs: tuple[int, ...]
    candidates: tuple[Candidate, ...]  # ranked first (in order), then the ones left out
    verdict: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["candidates"] = [{**asdict(c), "rank_label": c.rank_label} for c in self.candidates]
        return out


def speed_text(model: ModelFacts) -> str:
    return ", ".join(model.sources) if model.sources else "not measured (run a generation suite or chat)"


def _filter_reason(c: Candidate, limits: Constraints) -> str | None:
    if limits.max_memory_gb is not None:
        if c.peak_rss_mb is None:
            return "peak memory not measured"
        if c.peak_rss_mb * MIB > limits.max_memory_gb * GB:
            return f"peak RSS {c.peak_rss_mb:.0f} MiB is over {limits.max_memory_gb:g} GB"
    if limits.min_tok_s is not None:
        if c.tok_s is None:
            return "tok/s not measured (run a generation suite or chat with it)"
        if c.tok_s < limits.min_tok_s:
            return f"{c.tok_s:.1f} tok/s is under {limits.min_tok_s:g}"
    return None


def _within_tie(c: Candidate) -> tuple[float, float, float, float]:
    """Faster first, then less memory, then the smaller file, then the better score."""
    inf = float("inf")
    return (-(c.tok_s or 0.0), c.peak_rss_mb or inf, c.file_size_gb or inf, -(c.quality or 0.0))


def _label(metric: str) -> str:
    from benchmarks.export import METRIC_LABELS

    return METRIC_LABELS.get(metric, metric)


def _tie_edge(pick: Candidate, others: list[Candidate]) -> str:
    """Why the first of a tie comes first: what it is better at."""
    if all((pick.tok_s or 0) > (c.tok_s or 0) for c in others):
        return "faster"
    if all((pick.peak_rss_mb or 0) < (c.peak_rss_mb or float("inf")) for c in others):
        return "less memory"
    return "smaller or as good"


def _rank(
    candidates: list[Candidate],
    results: dict[str, list[ItemResult]],
    metric: str,
    labels: tuple[str, ...],
    seed: int,
) -> tuple[list[Candidate], str]:
    """Tie groups by quality (see the module docs), each model's reason, and the verdict."""
    remaining = sorted(candidates, key=lambda c: -(c.quality if c.quality is not None else -1.0))
    ranked: list[Candidate] = []
    top: Candidate | None = None
    top_tests: dict[str, stats.PairedTest] = {}
    verdict = ""
    group_no = 0
    while remaining:
        group_no += 1
        leader = remaining[0]
        tests = {
            c.model_key: paired_test(metric, results[leader.model_key], results[c.model_key], labels, seed)
            for c in remaining[1:]
        }
        tied = [c for c in remaining[1:] if not tests[c.model_key].significant]
        group = sorted([leader, *tied], key=_within_tie)
        if top is None:
            top, top_tests = leader, tests
            verdict = _verdict(group, leader, [c for c in remaining[1:] if c not in tied], tests, metric)
        for c in group:
            if c is leader:
                why = f"best {_label(metric)}"
                if c is not top:
                    test = top_tests[c.model_key]
                    why = f"below {top.model} (p = {test.p_value:.2g})"
            else:
                why = f"tied with {leader.model} (p = {tests[c.model_key].p_value:.2g})"
            if len(group) > 1 and c is group[0]:
                why += f"; first of its tie: {_tie_edge(c, group[1:])}"
            ranked.append(replace(c, rank=group_no, tied=len(group) > 1, reason=why))
        remaining = [c for c in remaining[1:] if c not in tied]
    return ranked, verdict


def _verdict(
    group: list[Candidate],
    leader: Candidate,
    rest: list[Candidate],
    tests: dict[str, stats.PairedTest],
    metric: str,
) -> str:
    """The recommendation in a sentence: the model to use, or the tie and what would settle it."""
    pick = group[0]
    if len(group) == 1:
        score = f" {pick.quality:.3f}" if pick.quality is not None else ""
        text = f"use {pick.model}: best {_label(metric)}{score}"
        if rest:
            test = tests[rest[0].model_key]
            text += f", significantly ahead of {rest[0].model} (p = {test.p_value:.2g}, {test.test})"
    else:
        runner_up = next(c for c in group if c is not leader)
        test = tests[runner_up.model_key]
        settle = stats.settle_sentence(test.n, stats.items_to_settle(test))
        names = ", ".join(c.model for c in group[:-1]) + f" and {group[-1].model}"
        text = (
            f"{names} are tied on {_label(metric)}: the difference is not significant "
            f"(p = {test.p_value:.2g}, {test.test}), so the pick is {pick.model}, "
            f"{_tie_edge(pick, group[1:])}; {settle}"
        )
    if pick.baseline and pick.baseline.startswith("not better"):
        text += f"; but {pick.model} is {pick.baseline}"
    return text


# ----- the recommendation ------------------------------------------------------------------------------
def _candidate(
    model: ModelFacts,
    runs: Collection[int] | None,
    limits: Constraints,
    quality: Metric | Any | None = None,  # a Metric, or an arena Standing (rating, ci_low, ci_high)
    items: int = 0,
    baseline: str | None = None,
) -> Candidate:
    tok_s = model.tok_s
    cost = cost_per_million(limits.price_per_hour, tok_s) if limits.price_per_hour and tok_s else None
    c = Candidate(
        model=model.ref,
        model_key=model.key,
        quality=getattr(quality, "value", getattr(quality, "rating", None)),
        ci_low=quality.ci_low if quality is not None else None,
        ci_high=quality.ci_high if quality is not None else None,
        items=items,
        tok_s=round(tok_s, 2) if tok_s else None,
        speed_source=speed_text(model),
        peak_rss_mb=model.rss_mb(runs),
        file_size_gb=model.file_size_gb,
        cost_per_1m=cost,
        baseline=baseline,
    )
    reason = _filter_reason(c, limits)
    return replace(c, filtered=reason, reason=reason) if reason else c


ARENA_METRIC = "arena rating"


def _chat(
    models: dict[str, ModelFacts], limits: Constraints, only: Collection[str] | None, board: Any | None
) -> TaskRecommendation:
    """Chat: quality is the arena rating of human votes (with its interval) where there is one; models
    are tied when no other's interval lies entirely above theirs (the leaderboard's own rank rule)."""
    by_ref = {m.ref: m for m in models.values()}
    standings = {}
    for s in board.standings if board is not None else ():
        model = next((models[k] for k in s.sha256 if k in models), None) or by_ref.get(s.model)
        if model is None:
            model = models[s.model] = ModelFacts(s.model, s.model)
        standings[model.key] = s
    pool = [m for m in models.values() if (m.sources or m.key in standings) and wanted(m, only)]
    candidates = [_candidate(m, None, limits, standings.get(m.key), standings[m.key].votes if m.key in
                             standings else 0) for m in pool]
    rated = [c for c in candidates if not c.filtered and c.quality is not None]
    ranks = {c.model_key: 1 + sum((o.ci_low or 0) > (c.ci_high or 0) for o in rated) for c in rated}
    ranked = []
    for c in sorted(rated, key=lambda c: (ranks[c.model_key], *_within_tie(c))):
        tied = sum(r == ranks[c.model_key] for r in ranks.values()) > 1
        why = "best arena rating" if ranks[c.model_key] == 1 else "below another model's interval"
        ranked.append(replace(c, rank=ranks[c.model_key], tied=tied, reason=why + (", tied" if tied else "")))
    unrated = sorted((c for c in candidates if not c.filtered and c.quality is None), key=_within_tie)
    unrated = [replace(c, reason="no arena votes: speed, memory and cost only") for c in unrated]
    if ranked:
        top = [c for c in ranked if c.rank == 1]
        pick = top[0]
        interval = f"[{pick.ci_low:.0f}, {pick.ci_high:.0f}]"
        verdict = f"use {pick.model}: best arena rating {pick.quality:.0f} {interval}"
        if len(top) > 1:
            others = ", ".join(c.model for c in top[1:])
            verdict = (
                f"{pick.model} and {others} are tied on arena rating (no interval lies above another's): "
                f"the pick is {pick.model}, {_tie_edge(pick, top[1:])}; more votes would settle it"
            )
    else:
        verdict = "not ranked: no arena votes yet (vote in `duel arena` or run `duel arena judge`)"
        if unrated:
            verdict += f"; {unrated[0].model} is the fastest"
    reason = (f"Bradley-Terry rating from {board.n_votes} human arena votes (duel leaderboard)"
              if board is not None else "no arena votes yet")
    return TaskRecommendation(
        "chat", None, {}, ARENA_METRIC if ranked else None, reason, 0, (),
        tuple(ranked + unrated + [c for c in candidates if c.filtered]), verdict,
    )


def recommend_task(
    store: ResultsStore,
    task: str,
    limits: Constraints = Constraints(),
    *,
    models: Collection[str] | None = None,
    suites: Collection[str] | None = None,
    chat: Timings | None = None,
    seed: int = 0,
    stored: Sequence[StoredResult] | None = None,
) -> TaskRecommendation | None:
    """The recommendation for one task, or None when nothing of it is stored."""
    known = model_facts(store, chat or {})
    if task == "chat":
        return _chat(known, limits, models, arena_board())
    stored = stored if stored is not None else store.stored_results()
    for s in stored:  # a result whose run recorded no model row still names its model
        known.setdefault(s.model_key, ModelFacts(s.model_key, s.result.model_ref))
    comp = comparison(stored, task, known, models, suites)
    if comp is None:
        return None
    manifest, results = comp.manifest, comp.results
    line, metrics = score_suite(manifest, results, AUTO, seed)
    n = len(next(iter(results.values())))
    candidates = []
    for m, rs in results.items():
        verdict = baseline_fields(task, line.labels, rs, line.headline)["baseline_verdict"]
        candidates.append(_candidate(known[m], comp.runs, limits, metrics[m].get(line.headline), n, verdict))
    eligible = [c for c in candidates if not c.filtered]
    ranked, verdict = _rank(eligible, results, line.headline, line.labels, seed)
    return TaskRecommendation(
        task, comp.suite, comp.settings, line.headline, line.headline_reason, n, comp.runs,
        tuple(ranked + [c for c in candidates if c.filtered]),
        verdict if eligible else "no model meets the constraints", comp.notes,
    )


def recommend(
    store: ResultsStore,
    tasks: Sequence[str] = TASKS,
    limits: Constraints = Constraints(),
    *,
    models: Collection[str] | None = None,
    suites: Collection[str] | None = None,
    chat: Timings | None = None,
    seed: int = 0,
) -> list[TaskRecommendation]:
    """A recommendation per task that has stored results (chat: per model with timed replies)."""
    stored = store.stored_results()
    out = []
    for task in tasks:
        rec = recommend_task(
            store, task, limits, models=models, suites=suites, chat=chat, seed=seed, stored=stored
        )
        if rec is not None and rec.candidates:
            out.append(rec)
    return out
