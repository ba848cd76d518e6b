"""The one migration runner of duel's SQLite files (results store and chat store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from models import sqlite_schema
from models.errors import DuelError
from models.sqlite_schema import migrate, schema_version, sql_statements

FIRST = "CREATE TABLE a (x INTEGER);"
# Creates a table, then fails on its second statement: nothing of it may stay behind.
BROKEN = "CREATE TABLE b (y INTEGER);\nINSERT INTO no_such_table VALUES (1);"


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrations_run_in_order_and_set_the_version(tmp_path: Path) -> None:
    db = tmp_path / "f.sqlite3"
    conn = sqlite3.connect(db)
    second = (
        "CREATE TABLE b (y INTEGER);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); END;"
    )
    assert migrate(conn, [FIRST, second], db) == 2
    assert schema_version(conn) == 2
    conn.execute("INSERT INTO a VALUES (5)")  # the trigger (a statement with ';' inside) was created whole
    assert conn.execute("SELECT y FROM b").fetchall() == [(1,)]
    assert migrate(conn, [FIRST, second], db) == 2  # nothing left to do
    conn.close()


def test_a_failing_sql_migration_leaves_the_old_version_and_nothing_half_applied(tmp_path: Path) -> None:
    db = tmp_path / "f.sqlite3"
    conn = sqlite3.connect(db)
    migrate(conn, [FIRST], db)
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        migrate(conn, [FIRST, BROKEN], db)
    assert schema_version(conn) == 1
    assert not conn.in_transaction
    conn.close()
    assert _tables(db) == {"a"}  # table b was created inside the failed migration: rolled back


def test_a_failing_function_migration_is_rolled_back_too(tmp_path: Path) -> None:
    db = tmp_path / "f.sqlite3"
    conn = sqlite3.connect(db)

    def fill(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO a VALUES (1)")
        raise RuntimeError("half way")

    with pytest.raises(RuntimeError, match="half way"):
        migrate(conn, [FIRST, fill], db)
    # The first migration was committed on its own; the second left nothing.
    assert schema_version(conn) == 1
    assert conn.execute("SELECT COUNT(*) FROM a").fetchone()[0] == 0
    conn.close()


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "f.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 3")
    conn = sqlite3.connect(db)
    with pytest.raises(DuelError, match="newer duel"):
        migrate(conn, [FIRST], db)
    assert schema_version(conn) == 3
    conn.close()


def test_a_file_migrated_meanwhile_by_another_process_is_not_migrated_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The version is read again under the write lock: the first read may be stale."""
    db = tmp_path / "f.sqlite3"
    ours = sqlite3.connect(db)
    other = sqlite3.connect(db)
    migrate(other, [FIRST], db)  # the other process wins the race...
    real = sqlite_schema.schema_version
    reads = []

    def stale_first(conn: sqlite3.Connection) -> int:
        reads.append(1)
        return 0 if len(reads) == 1 else real(conn)  # ...after we looked

    monkeypatch.setattr(sqlite_schema, "schema_version", stale_first)
    assert migrate(ours, [FIRST], db) == 1  # CREATE TABLE a again would raise "already exists"
    assert len(reads) == 2
    ours.close()
    other.close()


def test_sql_statements_split_a_script_and_refuse_a_truncated_one() -> None:
    assert [s.strip() for s in sql_statements("CREATE TABLE a (x);\n\nCREATE TABLE b (y);\n")] == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (y);",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        list(sql_statements("CREATE TABLE a (x"))


def test_the_chat_store_migrates_through_the_same_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui import conversation_store

    db = tmp_path / "chat.sqlite3"
    conversation_store.ConversationStore(db).close()
    monkeypatch.setattr(conversation_store, "MIGRATIONS", [*conversation_store.MIGRATIONS, BROKEN])
    with pytest.raises(sqlite3.OperationalError):
        conversation_store.ConversationStore(db)
    assert "b" not in _tables(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
