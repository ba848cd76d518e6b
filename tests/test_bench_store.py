"""The results store: schema version, per-item commits, run resume, file hashes."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from benchmarks.store import SCHEMA_VERSION, ResultRecord, ResultsStore
from models.errors import DuelError


def _record(key: str, item: str) -> ResultRecord:
    return ResultRecord(
        key,
        "model-sha",
        "sentiment",
        "1+abc",
        item,
        "loglik",
        "ph",
        {"method": "loglik"},
        "positive",
        None,
        {"correct": 1},
        False,
        None,
        0.1,
        None,
        None,
    )


def test_schema_version_and_tables(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    with ResultsStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION >= 1
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "run_models", "results", "run_items", "file_hashes"} <= tables
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
    with ResultsStore(db) as store:
        run, resumed = store.start_or_resume("fp", {"models": ["m"], "suites": ["sentiment"]})
        assert not resumed
        store.add_result(run.id, "m", _record("k1", "sent-001"))
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
        assert result["cached"] and result["score"] == {"correct": 1}
        assert store.resolve_run("last").id == third.id


def test_run_results_filter_by_model_suite_and_item_in_recorded_order(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "r.sqlite3") as store:
        run, _ = store.start_or_resume("fp", {"models": ["a", "b"], "suites": ["sentiment"]})
        for model in ("a", "b"):
            for item in ("sent-002", "sent-001"):
                store.add_result(run.id, model, _record(f"{model}-{item}", item))
        assert len(store.run_results(run.id)) == 4
        only_b = store.run_results(run.id, model_ref="b", suite="sentiment")
        assert [(r["model_ref"], r["item_id"]) for r in only_b] == [("b", "sent-002"), ("b", "sent-001")]
        (one,) = store.run_results(run.id, model_ref="a", suite="sentiment", item_id="sent-001")
        assert one["cache_key"] == "a-sent-001" and one["score"] == {"correct": 1}
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

    with ResultsStore(tmp_path / "r.sqlite3") as store:
        run, _ = store.start_or_resume("fp", {})
        store.add_result(run.id, "m", _record("k1", "sent-001"))
        store.delete_run(run.id)
        with pytest.raises(RunNotFoundError):
            store.get_run(run.id)
        assert store.count_run_items(run.id) == 0
        assert set(store.cached(["k1"])) == {"k1"}
        with pytest.raises(RunNotFoundError):
            store.delete_run(run.id)
