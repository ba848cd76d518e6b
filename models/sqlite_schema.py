"""Schema versions of duel's SQLite files: one migration runner for the results store and the chat store.

A file's schema version lives in `PRAGMA user_version`; `migrations[i]` takes it from version i to
i + 1. Each migration runs in its own transaction together with its version bump, so a migration that
fails leaves the file at the version before it with nothing half-applied, and a file is never marked
newer than its tables. `BEGIN IMMEDIATE` takes the write lock before the version is read again, so two
processes opening an old file at once (the TUI and `duel bench`) migrate it once, not twice.

A migration is a SQL script or a function of the connection (for steps SQL cannot express, such as
filling a new table from the rows already there); a function must not commit.

Why here: `models` is the bottom layer that both `benchmarks` (results and arena stores) and `tui`
(chat store) already import for their paths (models/paths.py), and this module needs nothing else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Self

from models.errors import DuelError
from models.paths import ensure

Migration = str | Callable[[sqlite3.Connection], None]


def sql_statements(script: str) -> Iterator[str]:
    """The statements of a SQL script, one by one (executescript would commit before running them)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip().strip(";").strip():
                yield pending
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    if callable(migration):
        migration(conn)
        return
    for statement in sql_statements(migration):
        conn.execute(statement)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], path: Path | str) -> int:
    """Bring the file forward to `len(migrations)`, one transaction per migration; the version reached.

    A file written by a newer duel is refused with a one-line error instead of being misread.
    """
    target = len(migrations)
    if schema_version(conn) == target:
        return target  # the usual case: no write lock needed
    isolation = conn.isolation_level
    conn.isolation_level = None  # explicit BEGIN/COMMIT below, no implicit transactions in between
    try:
        while True:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = schema_version(conn)  # read under the write lock: another process may have
                # migrated the file since this connection opened it.
                if version > target:
                    raise DuelError(
                        f"{path} was written by a newer duel (schema {version} > {target}); upgrade duel"
                    )
                if version == target:
                    conn.execute("COMMIT")
                    return version
                _apply(conn, migrations[version])
                conn.execute(f"PRAGMA user_version = {version + 1}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.isolation_level = isolation


class VersionedStore:
    """A SQLite file with a schema version: the connection, the migrations and the context manager the
    results store and the arena store share. One connection per thread (sqlite3's default)."""

    MIGRATIONS: Sequence[Migration] = ()
    FOREIGN_KEYS = False

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure(self.path.parent)
        # A generous timeout: the TUI and a CLI run may write to the same file at the same time.
        self.conn = sqlite3.connect(self.path, timeout=30)
        self.conn.row_factory = sqlite3.Row
        if self.FOREIGN_KEYS:
            self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.migrate()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> None:
        migrate(self.conn, self.MIGRATIONS, self.path)

    @property
    def schema_version(self) -> int:
        return schema_version(self.conn)
