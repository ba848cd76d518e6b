"""The results store: SQLite, schema version in PRAGMA user_version, migrations applied in order.

- `runs`: one row per `duel bench` invocation set; an identical command (same models, suites and
  settings: the fingerprint) resumes the latest unfinished run instead of starting another.
- `run_models`: who took part (identity: file name, sha256, quantization, size) and peak memory.
- `results`: one row per finished item, committed immediately; its key is the cache key (model file
  sha256, suite + version, item id, prompt hash, method, sampling settings), so any later run with the
  same key reuses it instead of recomputing.
- `run_items`: which results make up which run (a resumed or repeated run links cached results).
- `file_hashes`: sha256 of model files by (path, size, mtime), so big files are hashed once.
- `suite_manifests`: the manifest (task, metric, labels) of every suite version with stored results, so
  a scorecard reports the metric the suite was run for, even after the suite is deleted.
- `results.sent`, `prompts` and `prompt_parts` (schema 3): exactly what was sent for each item, each
  prompt and each part of its texts stored once (benchmarks/sent_store.py). Results stored before
  have none (NULL).

Migrations run through models.sqlite_schema: each one and its version bump in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.errors import RunNotFoundError
from benchmarks.results import ItemResult, ItemScore, ResultRecord
from benchmarks.sent_store import load_sent, store_sent
from benchmarks.suites import SuiteManifest
from models import sqlite_schema
from models.errors import DuelError
from models.paths import results_db_file

__all__ = ["SCHEMA_VERSION", "ItemResult", "ResultRecord", "ResultsStore", "RunRow", "StoredResult"]


def _inferred_manifest(conn: sqlite3.Connection, name: str, version: str) -> SuiteManifest:
    """The manifest of a suite no longer installed, for results stored before schema 2 recorded it.

    Read from its stored answers as scorecards did until then: ROUGE scores mean a summary suite,
    single capital letters as answers a multiple-choice suite, anything else a classification suite
    (its labels are then the answers that occur, filled in by the scorecard).
    """
    from benchmarks.suites import TASK_METRIC

    rows = conn.execute(
        "SELECT score, target FROM results WHERE suite = ? AND suite_version = ? ORDER BY rowid",
        (name, version),
    ).fetchall()
    targets = {str(target) for _, target in rows}
    if rows and "rougeL" in json.loads(rows[0][0]):
        task = "summarize"
    elif all(len(t) == 1 and t.isalpha() and t.isupper() for t in targets):
        task = "mc"
    else:
        task = "classify"
    return SuiteManifest(
        name,
        version,
        task,
        TASK_METRIC[task],
        "not installed any more: task read from its stored results",
        file="",
        source="unknown",
    )


def _stored_manifest(conn: sqlite3.Connection, name: str, version: str) -> SuiteManifest:
    from benchmarks.builtin import BUILTIN_SUITES
    from benchmarks.suites import find_manifest

    try:
        return find_manifest(name)
    except DuelError:  # unknown, or an unreadable imported suite next to it
        builtin = next((m for m in BUILTIN_SUITES if m.name == name), None)
        return builtin or _inferred_manifest(conn, name, version)


def _record_stored_suites(conn: sqlite3.Connection) -> None:
    """Migration 2: the manifests table, filled for the results stored so far from the installed
    suites (what scorecards read until then), inferred for a suite that is gone."""
    conn.execute(
        "CREATE TABLE suite_manifests (name TEXT NOT NULL, version TEXT NOT NULL, manifest TEXT NOT NULL, "
        "PRIMARY KEY (name, version))"
    )
    pairs = conn.execute("SELECT DISTINCT suite, suite_version FROM results").fetchall()
    for name, version in pairs:
        manifest = _stored_manifest(conn, name, version)
        conn.execute(
            "INSERT INTO suite_manifests VALUES (?, ?, ?)", (name, version, json.dumps(manifest.to_json()))
        )


MIGRATIONS: tuple[sqlite_schema.Migration, ...] = (
    # 1: first schema
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        config TEXT NOT NULL,
        pid INTEGER
    );
    CREATE INDEX runs_fingerprint ON runs(fingerprint);
    CREATE TABLE run_models (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model_ref TEXT NOT NULL,
        model_key TEXT NOT NULL,
        identity TEXT NOT NULL,
        load_s REAL,
        peak_rss_bytes INTEGER,
        PRIMARY KEY (run_id, model_ref)
    );
    CREATE TABLE results (
        cache_key TEXT PRIMARY KEY,
        model_key TEXT NOT NULL,
        suite TEXT NOT NULL,
        suite_version TEXT NOT NULL,
        item_id TEXT NOT NULL,
        method TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        settings TEXT NOT NULL,
        target TEXT NOT NULL,
        output TEXT,
        score TEXT NOT NULL,
        failed INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        latency_s REAL NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        created_at TEXT NOT NULL,
        run_id INTEGER
    );
    CREATE TABLE run_items (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model_ref TEXT NOT NULL,
        suite TEXT NOT NULL,
        item_id TEXT NOT NULL,
        cache_key TEXT NOT NULL REFERENCES results(cache_key),
        cached INTEGER NOT NULL,
        PRIMARY KEY (run_id, model_ref, suite, item_id)
    );
    CREATE TABLE file_hashes (
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (path, size, mtime_ns)
    );
    """,
    # 2: suite manifests (the metric a suite reports comes from its manifest, never from stored keys)
    _record_stored_suites,
    # 3: what was sent for each item (re-scorable results), texts stored once per part
    """
    ALTER TABLE results ADD COLUMN sent TEXT;
    CREATE TABLE prompt_parts (hash TEXT PRIMARY KEY, text TEXT NOT NULL);
    CREATE TABLE prompts (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunRow:
    id: int
    created_at: str
    updated_at: str
    status: str
    fingerprint: str
    config: dict[str, Any]
    pid: int | None

    @property
    def display_status(self) -> str:
        """complete, running (its process is alive) or partial (stopped or killed before the end)."""
        if self.status == "complete":
            return "complete"
        if self.status == "running" and self.pid and _pid_alive(self.pid) and self.pid != os.getpid():
            return "running"
        return "partial"


@dataclass(frozen=True)
class StoredResult:
    """A result as one run holds it, with the rest of its cache key (for combining runs)."""

    run_id: int
    model_key: str
    suite_version: str
    settings: dict[str, Any]
    manifest: SuiteManifest
    result: ItemResult


def _pid_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)


class ResultsStore(sqlite_schema.VersionedStore):
    """One connection per thread/process; each finished item is its own committed transaction."""

    MIGRATIONS = MIGRATIONS
    FOREIGN_KEYS = True

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or results_db_file())

    # -------------------------------------------------------------------------------------- runs

    def start_or_resume(self, fingerprint: str, config: Mapping[str, Any]) -> tuple[RunRow, bool]:
        """The latest unfinished run with this fingerprint (resumed), else a new run."""
        row = self.conn.execute(
            "SELECT * FROM runs WHERE fingerprint = ? AND status != 'complete' ORDER BY id DESC LIMIT 1",
            (fingerprint,),
        ).fetchone()
        stamp = now_iso()
        with self.conn:
            if row is not None:
                self.conn.execute(
                    "UPDATE runs SET status = 'running', updated_at = ?, pid = ? WHERE id = ?",
                    (stamp, os.getpid(), row["id"]),
                )
                run_id, resumed = int(row["id"]), True
            else:
                cur = self.conn.execute(
                    "INSERT INTO runs (created_at, updated_at, status, fingerprint, config, pid) "
                    "VALUES (?, ?, 'running', ?, ?, ?)",
                    (stamp, stamp, fingerprint, json.dumps(config), os.getpid()),
                )
                run_id, resumed = int(cur.lastrowid or 0), False
        return self.get_run(run_id), resumed

    def finish_run(self, run_id: int, status: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET status = ?, updated_at = ? WHERE id = ?", (status, now_iso(), run_id)
            )

    def _run(self, row: sqlite3.Row) -> RunRow:
        return RunRow(
            int(row["id"]),
            row["created_at"],
            row["updated_at"],
            row["status"],
            row["fingerprint"],
            json.loads(row["config"]),
            row["pid"],
        )

    def get_run(self, run_id: int) -> RunRow:
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"no run with id {run_id} (see `duel runs`)")
        return self._run(row)

    def resolve_run(self, ref: str) -> RunRow:
        """`last` or a numeric id."""
        if ref == "last":
            row = self.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                raise RunNotFoundError("no runs yet: start one with `duel bench SUITE`")
            return self._run(row)
        if not ref.isdigit():
            raise RunNotFoundError(f"'{ref}' is not a run id (use a number from `duel runs`, or `last`)")
        return self.get_run(int(ref))

    def delete_run(self, run_id: int) -> None:
        """Forget a run (its links and model rows); stored results stay as the cache for later runs."""
        self.get_run(run_id)
        with self.conn:
            self.conn.execute("DELETE FROM run_items WHERE run_id = ?", (run_id,))
            self.conn.execute("DELETE FROM run_models WHERE run_id = ?", (run_id,))
            self.conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def list_runs(self) -> list[RunRow]:
        return [self._run(r) for r in self.conn.execute("SELECT * FROM runs ORDER BY id DESC")]

    # ------------------------------------------------------------------------------------ models

    def record_model(
        self, run_id: int, model_ref: str, model_key: str, identity: Mapping[str, Any], load_s: float | None
    ) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO run_models (run_id, model_ref, model_key, identity, load_s, peak_rss_bytes) "
                "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (run_id, model_ref) DO UPDATE SET "
                "model_key = excluded.model_key, identity = excluded.identity, load_s = excluded.load_s",
                (run_id, model_ref, model_key, json.dumps(identity), load_s),
            )

    def update_peak_rss(self, run_id: int, model_ref: str, rss: int) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE run_models SET peak_rss_bytes = MAX(COALESCE(peak_rss_bytes, 0), ?) "
                "WHERE run_id = ? AND model_ref = ?",
                (rss, run_id, model_ref),
            )

    def run_models(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM run_models WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [
            {
                "model_ref": r["model_ref"],
                "model_key": r["model_key"],
                "identity": json.loads(r["identity"]),
                "load_s": r["load_s"],
                "peak_rss_bytes": r["peak_rss_bytes"],
            }
            for r in rows
        ]

    # ----------------------------------------------------------------------------------- results

    def record_suite(self, manifest: SuiteManifest, version: str) -> None:
        """Remember what suite `version` is (task, metric, labels) before its results are stored."""
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO suite_manifests (name, version, manifest) VALUES (?, ?, ?)",
                (manifest.name, version, json.dumps(manifest.to_json())),
            )

    def run_suites(self, run_id: int) -> dict[str, SuiteManifest]:
        """The manifest of each suite with results in a run (the first recorded version of each)."""
        rows = self.conn.execute(
            "SELECT r.suite AS suite, m.manifest AS manifest FROM run_items ri "
            "JOIN results r ON r.cache_key = ri.cache_key "
            "JOIN suite_manifests m ON m.name = r.suite AND m.version = r.suite_version "
            "WHERE ri.run_id = ? ORDER BY ri.rowid",
            (run_id,),
        )
        out: dict[str, SuiteManifest] = {}
        for row in rows:
            if row["suite"] not in out:
                out[row["suite"]] = SuiteManifest.from_json(json.loads(row["manifest"]))
        return out

    def cached(self, keys: Iterable[str]) -> set[str]:
        """Which of these cache keys have a stored result."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT cache_key FROM results WHERE cache_key IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def link_cached(self, run_id: int, model_ref: str, suite: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Attach already stored results (item id, cache key) to this run, in one transaction."""
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO run_items (run_id, model_ref, suite, item_id, cache_key, cached) "
                "VALUES (?, ?, ?, ?, ?, COALESCE((SELECT cached FROM run_items WHERE run_id = ? AND "
                "model_ref = ? AND suite = ? AND item_id = ?), 1))",
                [
                    (run_id, model_ref, suite, item, key, run_id, model_ref, suite, item)
                    for item, key in pairs
                ],
            )

    def add_result(self, run_id: int, record: ResultRecord) -> None:
        """Store one finished item and link it to the run: one transaction, committed before returning.

        The suite's manifest must be recorded first (`record_suite`): it says how to read the score.
        """
        result = record.result
        columns = (
            "cache_key, model_key, suite, suite_version, item_id, method, prompt_hash, settings, target, "
            "output, score, failed, error, latency_s, prompt_tokens, completion_tokens, created_at, run_id, "
            "sent"
        )
        with self.conn:
            known = self.conn.execute(
                "SELECT 1 FROM suite_manifests WHERE name = ? AND version = ?",
                (result.suite, record.suite_version),
            ).fetchone()
            if known is None:
                raise ValueError(f"record suite {result.suite} {record.suite_version} before its results")
            sent = store_sent(self.conn, result.sent)
            self.conn.execute(
                f"INSERT OR REPLACE INTO results ({columns}) VALUES ({', '.join('?' * 19)})",
                (
                    result.cache_key,
                    record.model_key,
                    result.suite,
                    record.suite_version,
                    result.item_id,
                    result.method,
                    record.prompt_hash,
                    json.dumps(record.settings, sort_keys=True),
                    result.target,
                    result.output,
                    json.dumps(result.score.to_json()),
                    int(result.failed),
                    result.error,
                    result.latency_s,
                    result.prompt_tokens,
                    result.completion_tokens,
                    now_iso(),
                    run_id,
                    sent,
                ),
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO run_items (run_id, model_ref, suite, item_id, cache_key, cached) "
                "VALUES (?, ?, ?, ?, ?, 0)",
                (run_id, result.model_ref, result.suite, result.item_id, result.cache_key),
            )
            self.conn.execute("UPDATE runs SET updated_at = ? WHERE id = ?", (now_iso(), run_id))

    def count_run_items(self, run_id: int) -> int:
        return int(
            self.conn.execute("SELECT COUNT(*) FROM run_items WHERE run_id = ?", (run_id,)).fetchone()[0]
        )

    def run_results(
        self,
        run_id: int,
        *,
        model_ref: str | None = None,
        suite: str | None = None,
        item_id: str | None = None,
    ) -> list[ItemResult]:
        """Per-item results of a run (optionally of one model, suite or item), with the run's model
        ref and whether each was reused, in the order they were recorded."""
        sql = (
            "SELECT ri.model_ref AS model_ref, ri.cached AS cached, r.*, m.manifest AS manifest "
            "FROM run_items ri JOIN results r ON r.cache_key = ri.cache_key "
            "JOIN suite_manifests m ON m.name = r.suite AND m.version = r.suite_version WHERE ri.run_id = ?"
        )
        args: list[Any] = [run_id]
        for column, value in (("model_ref", model_ref), ("suite", suite), ("item_id", item_id)):
            if value is not None:
                sql += f" AND ri.{column} = ?"
                args.append(value)
        rows = self.conn.execute(sql + " ORDER BY ri.suite, ri.model_ref, ri.rowid", args).fetchall()
        return self._item_results(rows)

    def stored_results(self, suites: Sequence[str] | None = None) -> list[StoredResult]:
        """Every result of every run (optionally of some suites), oldest run first, without what was
        sent (what `duel recommend` combines runs from)."""
        sql = (
            "SELECT ri.run_id AS run_id, ri.model_ref AS model_ref, ri.cached AS cached, r.*, "
            "m.manifest AS manifest FROM run_items ri JOIN results r ON r.cache_key = ri.cache_key "
            "JOIN suite_manifests m ON m.name = r.suite AND m.version = r.suite_version"
        )
        args: list[Any] = []
        if suites is not None:
            sql += f" WHERE r.suite IN ({','.join('?' * len(suites))})"
            args += list(suites)
        rows = self.conn.execute(sql + " ORDER BY ri.run_id, ri.rowid", args).fetchall()
        manifests: dict[str, SuiteManifest] = {}
        out = []
        for row, result in zip(rows, self._item_results(rows, with_sent=False), strict=True):
            text = row["manifest"]
            manifest = manifests.setdefault(text, SuiteManifest.from_json(json.loads(text)))
            out.append(
                StoredResult(
                    int(row["run_id"]), row["model_key"], row["suite_version"], json.loads(row["settings"]),
                    manifest, result,
                )
            )
        return out

    def generation_speeds(self) -> dict[str, tuple[int, float, int]]:
        """Per model key: generated tokens, the seconds of the items that generated them, and how many
        answers, over every stored generation result that did not fail with an error."""
        rows = self.conn.execute(
            "SELECT model_key, SUM(completion_tokens), SUM(latency_s), COUNT(*) FROM results "
            "WHERE completion_tokens > 0 AND error IS NULL GROUP BY model_key"
        )
        return {key: (int(tokens), float(seconds), int(n)) for key, tokens, seconds, n in rows}

    def all_run_models(self) -> list[dict[str, Any]]:
        """`run_models` of every run, each with its run id."""
        query = "SELECT DISTINCT run_id FROM run_models ORDER BY run_id"
        runs = [int(r[0]) for r in self.conn.execute(query)]
        return [{**m, "run_id": run_id} for run_id in runs for m in self.run_models(run_id)]

    def _item_results(self, rows: Sequence[sqlite3.Row], with_sent: bool = True) -> list[ItemResult]:
        """Results rows (joined with run_items' model_ref and cached, and the suite's manifest) as
        typed results, each score read with its suite's metric and its prompt put back together."""
        metrics: dict[str, str] = {}  # manifest JSON -> its metric
        sent = load_sent(self.conn, [row["sent"] if with_sent else None for row in rows])
        out = []
        for row, prompt in zip(rows, sent, strict=True):
            manifest = row["manifest"]
            if manifest not in metrics:
                metrics[manifest] = str(json.loads(manifest)["metric"])
            out.append(
                ItemResult(
                    model_ref=row["model_ref"],
                    suite=row["suite"],
                    item_id=row["item_id"],
                    method=row["method"],
                    target=row["target"],
                    output=row["output"],
                    score=ItemScore.from_json(metrics[manifest], json.loads(row["score"])),
                    failed=bool(row["failed"]),
                    error=row["error"],
                    latency_s=float(row["latency_s"]),
                    prompt_tokens=row["prompt_tokens"],
                    completion_tokens=row["completion_tokens"],
                    cache_key=row["cache_key"],
                    cached=bool(row["cached"]),
                    sent=prompt,
                )
            )
        return out

    # ------------------------------------------------------------------------------ file hashes

    def file_sha256(self, path: Path) -> str:
        """sha256 of a model file, remembered by (path, size, mtime) so a 469 MiB file is hashed once."""
        import hashlib

        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        row = self.conn.execute(
            "SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?", key
        ).fetchone()
        if row:
            return str(row[0])
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
        value = digest.hexdigest()
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)", (*key, value))
        return value
