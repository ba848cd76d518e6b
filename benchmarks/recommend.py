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

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from benchmarks import stats
from benchmarks.baselines import AUTO
from benchmarks.results import ItemResult
from benchmarks.scorecard import baseline_fields, paired_test, score_suite
from benchmarks.scoring import Metric
from benchmarks.store import ResultsStore, StoredResult
from benchmarks.suites import TASKS as SUITE_TASKS
from benchmarks.suites import SuiteManifest

TASKS = (*SUITE_TASKS, "chat")
GB = 1e9
MIB = 2**20

#: (generated tokens, seconds, answers) per model reference, e.g. from the chat history.
Timings = Mapping[str, tuple[int, float, int]]


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


@dataclass
class _Model:
    """What is known of one model file across runs."""

    key: str
    ref: str = ""
    file_size_gb: float | None = None
    peak_rss: dict[int, int] = field(default_factory=dict)  # run id -> bytes
    tokens: int = 0
    seconds: float = 0.0
    sources: list[str] = field(default_factory=list)

    @property
    def tok_s(self) -> float | None:
        return self.tokens / self.seconds if self.tokens and self.seconds > 0 else None

    def rss_mb(self, runs: Collection[int] | None = None) -> float | None:
        seen = [b for run, b in self.peak_rss.items() if b and (runs is None or run in runs)]
        return round(max(seen) / MIB, 1) if seen else None


def _models(store: ResultsStore, chat: Timings) -> dict[str, _Model]:
    models: dict[str, _Model] = {}
    refs: dict[str, str] = {}
    for row in store.all_run_models():  # oldest run first: the latest reference wins
        model = models.setdefault(row["model_key"], _Model(row["model_key"]))
        model.ref = row["model_ref"]
        refs[row["model_ref"]] = model.key
        size = row["identity"].get("file_size")
        model.file_size_gb = round(size / GB, 3) if size else model.file_size_gb
        model.peak_rss[row["run_id"]] = row["peak_rss_bytes"] or 0
    for key, (tokens, seconds, answers) in store.generation_speeds().items():
        model = models.setdefault(key, _Model(key, key))
        model.tokens += tokens
        model.seconds += seconds
        model.sources.append(f"{answers} benchmark answers")
    for ref, (tokens, seconds, replies) in chat.items():
        key = refs.get(ref, ref)
        model = models.setdefault(key, _Model(key, ref))
        model.tokens += tokens
        model.seconds += seconds
        model.sources.append(f"{replies} chat replies")
    return models


# ----- which results are compared ----------------------------------------------------------------------
GroupKey = tuple[str, str, str]  # suite, suite version, settings (JSON)


def _groups(stored: Sequence[StoredResult], task: str) -> dict[GroupKey, dict[str, dict[str, StoredResult]]]:
    """group -> model key -> item id -> the latest result (runs come oldest first)."""
    groups: dict[GroupKey, dict[str, dict[str, StoredResult]]] = defaultdict(lambda: defaultdict(dict))
    for s in stored:
        if s.manifest.task != task or s.result.error is not None:
            continue
        key = (s.result.suite, s.suite_version, json.dumps(s.settings, sort_keys=True))
        groups[key][s.model_key][s.result.item_id] = s
    return groups


def _common_items(
    per_model: dict[str, dict[str, StoredResult]],
) -> tuple[list[str], list[str], dict[str, int]]:
    """(the item ids every kept model answered, the kept models, the others with the items they share).

    Models are taken most items first; one that shares under half of the items kept so far is left
    out rather than shrinking everyone's comparison to a handful of items.
    """
    order = sorted(per_model, key=lambda m: -len(per_model[m]))
    common = list(per_model[order[0]])
    kept, apart = [order[0]], {}
    for model in order[1:]:
        shared = [i for i in common if i in per_model[model]]
        if 2 * len(shared) >= len(common):
            common, kept = shared, [*kept, model]
        else:
            apart[model] = len(shared)
    return common, kept, apart


def _choose(groups: dict[GroupKey, dict[str, dict[str, StoredResult]]]) -> GroupKey:
    def weight(key: GroupKey) -> tuple[int, int, int]:
        per_model = groups[key]
        newest = max(s.run_id for items in per_model.values() for s in items.values())
        return (len(per_model), sum(len(items) for items in per_model.values()), newest)

    return max(groups, key=weight)


# ----- ranking -----------------------------------------------------------------------------------------
def _speed_text(model: _Model) -> str:
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
    model: _Model,
    runs: Collection[int] | None,
    limits: Constraints,
    quality: Metric | None = None,
    items: int = 0,
    baseline: str | None = None,
) -> Candidate:
    tok_s = model.tok_s
    cost = cost_per_million(limits.price_per_hour, tok_s) if limits.price_per_hour and tok_s else None
    c = Candidate(
        model=model.ref,
        model_key=model.key,
        quality=quality.value if quality is not None else None,
        ci_low=quality.ci_low if quality is not None else None,
        ci_high=quality.ci_high if quality is not None else None,
        items=items,
        tok_s=round(tok_s, 2) if tok_s else None,
        speed_source=_speed_text(model),
        peak_rss_mb=model.rss_mb(runs),
        file_size_gb=model.file_size_gb,
        cost_per_1m=cost,
        baseline=baseline,
    )
    reason = _filter_reason(c, limits)
    return replace(c, filtered=reason, reason=reason) if reason else c


def _wanted(model: _Model, models: Collection[str] | None) -> bool:
    return models is None or model.key in models or model.ref in models


def _chat(
    models: dict[str, _Model], limits: Constraints, wanted: Collection[str] | None
) -> TaskRecommendation:
    timed = [_candidate(m, None, limits) for m in models.values() if m.sources and _wanted(m, wanted)]
    kept = sorted((c for c in timed if not c.filtered), key=_within_tie)
    kept = [replace(c, reason="speed, memory and cost only: no chat quality score") for c in kept]
    verdict = "not ranked: duel has no chat quality score; compare answers side by side in `duel`"
    if kept:
        verdict += f" ({kept[0].model} is the fastest)"
    return TaskRecommendation(
        "chat", None, {}, None, "duel measures no chat quality yet", 0, (),
        tuple(kept + [c for c in timed if c.filtered]), verdict,
    )


@dataclass(frozen=True)
class _Comparison:
    """The results a task's recommendation compares: one group, on the items every model answered."""

    suite: str
    settings: dict[str, Any]
    manifest: SuiteManifest
    results: dict[str, list[ItemResult]]  # model key -> its results, item by item in the same order
    runs: tuple[int, ...]
    notes: tuple[str, ...]


def _comparison(
    stored: Sequence[StoredResult], task: str, known: dict[str, _Model], models: Collection[str] | None,
    suites: Collection[str] | None,
) -> _Comparison | None:
    picked = [
        s for s in stored
        if (suites is None or s.result.suite in suites) and _wanted(known[s.model_key], models)
    ]
    groups = _groups(picked, task)
    if not groups:
        return None
    key = _choose(groups)
    per_model = groups[key]
    common, kept, apart = _common_items(per_model)
    notes = [
        f"{known[m].ref} is left out: it shares {shared} of the {len(common)} items the others answered "
        f"on {key[0]} (rerun it with the same --limit and --seed to compare)"
        for m, shared in apart.items()
    ]
    others = [f"{k[0]} {_settings_text(json.loads(k[2]))}" for k in groups if k != key]
    if others:
        notes.append(f"also stored for {task}: {'; '.join(others)} (choose with --suite)")
    return _Comparison(
        suite=key[0],
        settings=json.loads(key[2]),
        manifest=next(iter(per_model[kept[0]].values())).manifest,
        results={m: [per_model[m][i].result for i in common] for m in kept},
        runs=tuple(sorted({per_model[m][i].run_id for m in kept for i in common})),
        notes=tuple(notes),
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
    known = _models(store, chat or {})
    if task == "chat":
        return _chat(known, limits, models)
    stored = stored if stored is not None else store.stored_results()
    for s in stored:  # a result whose run recorded no model row still names its model
        known.setdefault(s.model_key, _Model(s.model_key, s.result.model_ref))
    comp = _comparison(stored, task, known, models, suites)
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


def _settings_text(settings: Mapping[str, Any]) -> str:
    parts = [str(settings.get("method", "?"))]
    if settings.get("shots"):
        parts.append(f"{settings['shots']}-shot")
    if settings.get("max_tokens"):
        parts.append(f"max {settings['max_tokens']} tokens")
    return f"({', '.join(parts)})"


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
