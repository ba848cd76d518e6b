"""What `duel recommend` compares: what duel measured of each model file, and which stored results
are comparable (the rules are in benchmarks/recommend.py's docstring).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.results import ItemResult
from benchmarks.store import ResultsStore, StoredResult
from benchmarks.suites import SuiteManifest

GB = 1e9
MIB = 2**20

#: (generated tokens, seconds, answers) per model reference, e.g. from the chat history.
Timings = Mapping[str, tuple[int, float, int]]


@dataclass
class ModelFacts:
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


def model_facts(store: ResultsStore, chat: Timings) -> dict[str, ModelFacts]:
    models: dict[str, ModelFacts] = {}
    refs: dict[str, str] = {}
    for row in store.all_run_models():  # oldest run first: the latest reference wins
        model = models.setdefault(row["model_key"], ModelFacts(row["model_key"]))
        model.ref = row["model_ref"]
        refs[row["model_ref"]] = model.key
        size = row["identity"].get("file_size")
        model.file_size_gb = round(size / GB, 3) if size else model.file_size_gb
        model.peak_rss[row["run_id"]] = row["peak_rss_bytes"] or 0
    for key, (tokens, seconds, answers) in store.generation_speeds().items():
        model = models.setdefault(key, ModelFacts(key, key))
        model.tokens += tokens
        model.seconds += seconds
        model.sources.append(f"{answers} benchmark answers")
    for ref, (tokens, seconds, replies) in chat.items():
        key = refs.get(ref, ref)
        model = models.setdefault(key, ModelFacts(key, ref))
        model.tokens += tokens
        model.seconds += seconds
        model.sources.append(f"{replies} chat replies")
    return models


# ----- which results are compared ----------------------------------------------------------------------
GroupKey = tuple[str, str, str]  # suite, suite version, settings (JSON)


Groups = dict[GroupKey, dict[str, dict[str, StoredResult]]]  # group -> model key -> item id -> result


def groups_of(stored: Sequence[StoredResult], task: str) -> Groups:
    """The latest result of each model per item in each group (runs come oldest first)."""
    groups: Groups = defaultdict(lambda: defaultdict(dict))
    for s in stored:
        if s.manifest.task != task or s.result.error is not None:
            continue
        key = (s.result.suite, s.suite_version, json.dumps(s.settings, sort_keys=True))
        groups[key][s.model_key][s.result.item_id] = s
    return groups


def common_items(
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


def choose_group(groups: Groups) -> GroupKey:
    def weight(key: GroupKey) -> tuple[int, int, int]:
        per_model = groups[key]
        newest = max(s.run_id for items in per_model.values() for s in items.values())
        return (len(per_model), sum(len(items) for items in per_model.values()), newest)

    return max(groups, key=weight)


# ----- ranking -----------------------------------------------------------------------------------------
def wanted(model: ModelFacts, models: Collection[str] | None) -> bool:
    return models is None or model.key in models or model.ref in models


def arena_board() -> Any | None:
    """The arena leaderboard of human votes, or None when there are none (benchmarks/arena)."""
    from benchmarks.arena.leaderboard import build_leaderboard
    from benchmarks.arena.store import ArenaError
    from models.paths import arena_db_file

    if not arena_db_file().exists():
        return None
    try:
        return build_leaderboard()
    except ArenaError:  # no votes yet
        return None


@dataclass(frozen=True)
class Comparison:
    """The results a task's recommendation compares: one group, on the items every model answered."""

    suite: str
    settings: dict[str, Any]
    manifest: SuiteManifest
    results: dict[str, list[ItemResult]]  # model key -> its results, item by item in the same order
    runs: tuple[int, ...]
    notes: tuple[str, ...]


def comparison(
    stored: Sequence[StoredResult], task: str, known: dict[str, ModelFacts], models: Collection[str] | None,
    suites: Collection[str] | None,
) -> Comparison | None:
    picked = [
        s for s in stored
        if (suites is None or s.result.suite in suites) and wanted(known[s.model_key], models)
    ]
    groups = groups_of(picked, task)
    if not groups:
        return None
    key = choose_group(groups)
    per_model = groups[key]
    common, kept, apart = common_items(per_model)
    notes = [
        f"{known[m].ref} is left out: it shares {shared} of the {len(common)} items the others answered "
        f"on {key[0]} (rerun it with the same --limit and --seed to compare)"
        for m, shared in apart.items()
    ]
    others = [f"{k[0]} {settings_text(json.loads(k[2]))}" for k in groups if k != key]
    if others:
        notes.append(f"also stored for {task}: {'; '.join(others)} (choose with --suite)")
    return Comparison(
        suite=key[0],
        settings=json.loads(key[2]),
        manifest=next(iter(per_model[kept[0]].values())).manifest,
        results={m: [per_model[m][i].result for i in common] for m in kept},
        runs=tuple(sorted({per_model[m][i].run_id for m in kept for i in common})),
        notes=tuple(notes),
    )


def settings_text(settings: Mapping[str, Any]) -> str:
    parts = [str(settings.get("method", "?"))]
    if settings.get("shots"):
        parts.append(f"{settings['shots']}-shot")
    if settings.get("max_tokens"):
        parts.append(f"max {settings['max_tokens']} tokens")
    return f"({', '.join(parts)})"
