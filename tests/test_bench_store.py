"""The results store: schema version and migrations, per-item commits, run resume, file hashes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from benchmarks.builtin import BUILTIN_SUITES
from benchmarks.results import ItemResult
from benchmarks.scoring import score_parsed
from benchmarks.store import MIGRATIONS, SCHEMA_VERSION, ResultRecord, ResultsStore
from models.errors import DuelError

SENTIMENT = BUILTIN_SUITES[0]


def _record(key: str, item: str, model: str = "m") -> ResultRecord:
    score = score_parsed("positive", "positive")
    result = ItemResult(
        model, "sentiment", item, "loglik", "positive", None, score, False, None, 0.1, None, None, key
    )
    return ResultRecord(result, "model-sha", "1+abc", "ph", {"method": "loglik"})


def _store_with_suite(path: Path) -> ResultsStore:
    store = ResultsStore(path)
    store.record_suite(SENTIMENT, "1+abc")
    return store


def test_schema_version_and_tables(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    with ResultsStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION >= 1
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "run_models", "results", "run_items", "file_hashes", "suite_manifests"} <= tables
    with ResultsStore(db) as store:  # reopening migrates nothing and keeps the version
        assert store.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DuelError, match="newer duel"):
        ResultsStore(db)


def test_each_result_is_committed_when_added(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    with _store_with_suite(db) as store:
        run, resumed = store.start_or_resume("fp", {"models": ["m"], "suites": ["sentiment"]})
        assert not resumed
        store.add_result(run.id, _record("k1", "sent-001"))
        # Another connection (another process after a crash) sees it without any close or commit call.
        with sqlite3.connect(db) as other:
            assert other.execute("SELECT item_id FROM results").fetchall() == [("sent-001",)]
        again, resumed = store.start_or_resume("fp", {})
        assert resumed and again.id == run.id
        store.finish_run(run.id, "complete")
        third, resumed = store.start_or_resume("fp", {})
        assert not resumed and third.id == run.id + 1
        store.link_cached(third.id, "m", "sentiment", [("sent-001", "k1")])
        (result,) = store.run_results(third.id)
        assert result.cached and result.score == score_parsed("positive", "positive")
        assert store.resolve_run("last").id == third.id


def test_run_results_filter_by_model_suite_and_item_in_recorded_order(tmp_path: Path) -> None:
    with _store_with_suite(tmp_path / "r.sqlite3") as store:
        run, _ = store.start_or_resume("fp", {"models": ["a", "b"], "suites": ["sentiment"]})
        for model in ("a", "b"):
            for item in ("sent-002", "sent-001"):
                store.add_result(run.id, _record(f"{model}-{item}", item, model))
        assert len(store.run_results(run.id)) == 4
        only_b = store.run_results(run.id, model_ref="b", suite="sentiment")
        assert [(r.model_ref, r.item_id) for r in only_b] == [("b", "sent-002"), ("b", "sent-001")]
        (one,) = store.run_results(run.id, model_ref="a", suite="sentiment", item_id="sent-001")
        assert one.cache_key == "a-sent-001" and one.score.value == 1.0 and one.score.metric == "accuracy"
        assert store.run_results(run.id, suite="math") == []


def test_file_sha256_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 1000)
    with ResultsStore(tmp_path / "r.sqlite3") as store:
        assert store.file_sha256(model) == hashlib.sha256(model.read_bytes()).hexdigest()
        with sqlite3.connect(store.path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM file_hashes").fetchone()[0] == 1
        model.write_bytes(b"GGUF" + b"\1" * 1001)
        assert store.file_sha256(model) == hashlib.sha256(model.read_bytes()).hexdigest()


def test_delete_run_keeps_results_as_cache(tmp_path: Path) -> None:
    from benchmarks.errors import RunNotFoundError

    with _store_with_suite(tmp_path / "r.sqlite3") as store:
        run, _ = store.start_or_resume("fp", {})
        store.add_result(run.id, _record("k1", "sent-001"))
        store.delete_run(run.id)
        with pytest.raises(RunNotFoundError):
            store.get_run(run.id)
        assert store.count_run_items(run.id) == 0
        assert set(store.cached(["k1"])) == {"k1"}
        with pytest.raises(RunNotFoundError):
            store.delete_run(run.id)


def test_a_result_needs_its_suite_manifest_first(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "r.sqlite3") as store:
        run, _ = store.start_or_resume("fp", {})
        with pytest.raises(ValueError, match="record suite sentiment"):
            store.add_result(run.id, _record("k1", "sent-001"))
        assert store.count_run_items(run.id) == 0


# ----- a file written by schema 1 (before suite manifests were stored) -----------------------------------
V1_SCORES = {
    # suite: (suite version, target, stored score JSON as schema-1 code wrote it)
    "sentiment": (
        "1+abc",
        "negative",
        {
            "correct": 0,
            "correct_norm": 1,
            "pred": "positive",
            "pred_norm": "negative",
            "logprobs": {"positive": -1.0},
        },
    ),
    "math": ("1+def", "42", {"correct": 1, "pred": "42", "unparseable": 0}),
    "gone-news": (
        "1+123",
        "A short summary.",
        {"rouge1": 0.5, "rouge2": 0.25, "rougeL": 0.4, "length_ratio": 1.5},
    ),
    "gone-quiz": ("1+456", "B", {"correct": 0, "pred": None}),
    "gone-tweets": ("1+789", "neutral", {"correct": 1, "pred": "neutral", "unparseable": 0}),
}


def _schema_1_file(path: Path) -> None:
    """A results file as duel wrote it before schema 2, with suites that are no longer installed."""
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    with conn:
        conn.execute(
            "INSERT INTO runs VALUES (1, 't', 't', 'complete', 'fp', ?, NULL)",
            (json.dumps({"models": ["m"], "suites": list(V1_SCORES)}),),
        )
        for suite, (version, target, score) in V1_SCORES.items():
            key = f"key-{suite}"
            conn.execute(
                "INSERT INTO results VALUES (?, 'sha', ?, ?, 'item-1', 'generate', 'ph', '{}', ?, 'out', ?, "
                "0, NULL, 0.5, NULL, NULL, 't', 1)",
                (key, suite, version, target, json.dumps(score)),
            )
            conn.execute("INSERT INTO run_items VALUES (1, 'm', ?, 'item-1', ?, 0)", (suite, key))
    conn.close()


def test_a_schema_1_file_is_migrated_with_the_manifests_of_its_suites(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    _schema_1_file(db)
    with ResultsStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        manifests = store.run_suites(1)
        # Installed suites: their manifests; suites that are gone: read from the stored answers.
        assert {name: (m.task, m.metric) for name, m in manifests.items()} == {
            "sentiment": ("classify", "accuracy"),
            "math": ("math", "exact_match"),
            "gone-news": ("summarize", "rougeL"),
            "gone-quiz": ("mc", "accuracy"),
            "gone-tweets": ("classify", "accuracy"),
        }
        results = {r.suite: r for r in store.run_results(1)}
        for suite, (_, _, stored) in V1_SCORES.items():
            assert results[suite].score.to_json() == stored  # read back unchanged
        assert results["gone-news"].score.value == 0.4 and results["gone-news"].score.correct is None
        assert results["math"].score.metric == "exact_match" and results["math"].score.value == 1.0
        assert results["sentiment"].score.prediction_norm == "negative"
        # What was sent was not stored then: it stays unknown rather than being made up.
        assert all(r.sent is None for r in results.values())


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    db = tmp_path / "r.sqlite3"
    _schema_1_file(db)

    def broken(name: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("benchmarks.suites.find_manifest", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ResultsStore(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "suite_manifests" not in tables  # created by the same migration, rolled back with it
    monkeypatch.undo()
    with ResultsStore(db) as store:  # and the next open migrates it
        assert store.schema_version == SCHEMA_VERSION and len(store.run_suites(1)) == len(V1_SCORES)
