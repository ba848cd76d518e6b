"""Put a run back into a results store from its JSON scorecard export (`duel scorecard RUN --format json`).

For the documentation: the README's scorecard run is a real run of the bundled models that took minutes
of CPU; its JSON export holds every per-item result (answer key, output, stored score, latency, tokens)
and each model's identity and peak memory, which is all a scorecard is computed from. Rebuilding it
lets the HTML page and its screenshots be made again by the current code without re-running the
models (`make_scorecard_shots.py --from-json docs/scorecard/scorecard.json`). Suites are taken from
the export where it lists them (newer exports), else from the built-in suite of that name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.results import ItemResult, ItemScore, ResultRecord, SentPrompt
from benchmarks.store import ResultsStore
from benchmarks.suites import SuiteManifest, load_suite


def _manifest(name: str, listed: dict[str, Any] | None) -> tuple[SuiteManifest, str]:
    suite = load_suite(name)
    manifest = suite.manifest
    if listed:
        fields = {**manifest.to_json(), "task": listed["task"], "metric": listed["metric"]}
        fields["labels"] = listed.get("labels") or list(manifest.labels)
        manifest = SuiteManifest.from_json(fields)
        return manifest, str(listed.get("version") or suite.content_version)
    return manifest, suite.content_version


def _item(data: dict[str, Any], metric: str) -> ItemResult:
    return ItemResult(
        model_ref=data["model"],
        suite=data["suite"],
        item_id=data["item_id"],
        method=data["method"],
        target=data["target"],
        output=data["output"],
        score=ItemScore.from_json(metric, data["score"]),
        failed=bool(data["failed"]),
        error=data["error"],
        latency_s=float(data["latency_s"]),
        prompt_tokens=data["prompt_tokens"],
        completion_tokens=data["completion_tokens"],
        cache_key=data["cache_key"],
        cached=bool(data["cached"]),
        sent=SentPrompt.from_json(data["sent"]) if data.get("sent") else None,
    )


def rebuild(export: Path, store: ResultsStore) -> int:
    """Store the run of `export` (its settings, models, suites and items) and return its new id."""
    data = json.loads(export.read_text(encoding="utf-8"))
    run = data["run"]
    row, _ = store.start_or_resume(f"rebuilt-{run['id']}-{run['created_at']}", run["settings"])
    for model in data["models"]:
        store.record_model(row.id, model["model_ref"], model["model_key"], model["identity"], model["load_s"])
        if model.get("peak_rss_bytes"):
            store.update_peak_rss(row.id, model["model_ref"], int(model["peak_rss_bytes"]))
    keys = {m["model_ref"]: m["model_key"] for m in data["models"]}
    listed = data.get("suites") or {}
    manifests = {}
    for name in dict.fromkeys(i["suite"] for i in data["items"]):
        manifest, version = _manifest(name, listed.get(name))
        store.record_suite(manifest, version)
        manifests[name] = (manifest, version)
    for item in data["items"]:
        manifest, version = manifests[item["suite"]]
        result = _item(item, manifest.metric)
        store.add_result(row.id, ResultRecord(result, keys[result.model_ref], version, "", {}))
    store.finish_run(row.id, run["status"])
    with store.conn:  # the run's own dates, so the page says when it was measured
        store.conn.execute(
            "UPDATE runs SET created_at = ?, updated_at = ? WHERE id = ?",
            (run["created_at"], run["updated_at"], row.id),
        )
    return row.id
