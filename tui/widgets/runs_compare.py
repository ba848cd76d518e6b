"""Compare two runs of different models on the same suites, as a run of its own.

The comparison is a new run in the results store that links the stored results of both runs (no
item is computed or re-scored), so `benchmarks.scorecard.build_scorecard` gives it the same
scorecard as any run, head-to-head tests included, and `duel scorecard ID` exports it. Comparing the
same two runs again reopens the comparison made before.
"""

from __future__ import annotations

from collections import defaultdict

from benchmarks.store import ResultsStore
from models.errors import DuelError


def _models(store: ResultsStore, run_id: int) -> list[str]:
    refs = [m["model_ref"] for m in store.run_models(run_id)]
    return refs or list(store.get_run(run_id).config.get("models", []))


def compare_runs(store: ResultsStore, run_a: int, run_b: int) -> int:
    """The id of a run holding run_a's and run_b's results on their shared suites."""
    if run_a == run_b:
        raise DuelError("pick two different runs to compare")
    first, second = store.get_run(run_a), store.get_run(run_b)
    for run in store.list_runs():
        if run.config.get("compare") == [first.id, second.id]:
            return run.id
    models_a, models_b = _models(store, first.id), _models(store, second.id)
    both = [m for m in models_a if m in models_b]
    if both:
        raise DuelError(
            f"runs {first.id} and {second.id} both include {', '.join(both)}: "
            "compare runs of different models"
        )
    suites_b = set(second.config.get("suites", []))
    shared = [s for s in first.config.get("suites", []) if s in suites_b]
    if not shared:
        raise DuelError(f"runs {first.id} and {second.id} have no suite in common")
    config = dict(first.config)
    for key in ("method", "limit", "seed", "shots", "n_ctx", "max_tokens"):
        if first.config.get(key) != second.config.get(key):
            config[key] = f"{first.config.get(key)} / {second.config.get(key)}"
    config.update(models=models_a + models_b, suites=shared, compare=[first.id, second.id])
    run, _ = store.start_or_resume(f"compare:{first.id}:{second.id}", config)
    for source in (first, second):
        for model in store.run_models(source.id):
            store.record_model(
                run.id, model["model_ref"], model["model_key"], model["identity"], model["load_s"]
            )
            if model["peak_rss_bytes"]:
                store.update_peak_rss(run.id, model["model_ref"], model["peak_rss_bytes"])
        pairs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for result in store.run_results(source.id):
            if result.suite in shared:
                pairs[(result.model_ref, result.suite)].append((result.item_id, result.cache_key))
        for (model_ref, suite), items in pairs.items():
            store.link_cached(run.id, model_ref, suite, items)
    complete = first.status == "complete" and second.status == "complete"
    store.finish_run(run.id, "complete" if complete else "partial")
    return run.id
