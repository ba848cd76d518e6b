"""Chat conversations in SQLite, saved as they happen (one commit per message).

The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` takes a database from version i
to i + 1, so an old file is brought forward in order and a newer one is refused with a clear error
(models.sqlite_schema: each migration and its version bump in one transaction).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.base import Stats
from models import paths
from models.errors import DuelError
from models.sqlite_schema import Migration, migrate, schema_version
from tui.chat_state import PANES, PaneTurn, stats_from_json, stats_to_json

MIGRATIONS: list[Migration] = [
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        left_ref TEXT NOT NULL,
        right_ref TEXT NOT NULL,
        settings_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        turn INTEGER NOT NULL,
        pane TEXT NOT NULL CHECK (pane IN ('left', 'right')),
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        model TEXT,
        finish_reason TEXT,
        error TEXT,
        notice TEXT,
        stats_json TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_by_turn ON messages (conversation_id, turn, pane);
    """,
]


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    created_at: float
    updated_at: float
    left_ref: str
    right_ref: str
    turns: int


@dataclass
class StoredConversation:
    summary: ConversationSummary
    settings: dict[str, Any]
    turns: dict[str, list[PaneTurn]] = field(default_factory=dict)  # pane -> its turns, in order


class ConversationStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.conversations_db_file()
        paths.ensure(self.path.parent)
        # The UI thread is the only user; workers never write here.
        self._db = sqlite3.connect(self.path)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def _migrate(self) -> None:
        migrate(self._db, MIGRATIONS, self.path)

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    def close(self) -> None:
        self._db.close()

    # ----- writes (each commits) ------------------------------------------------------------------
    def create_conversation(self, title: str, left_ref: str, right_ref: str, settings: dict[str, Any]) -> int:
        now = time.time()
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO conversations"
                " (title, created_at, updated_at, left_ref, right_ref, settings_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (title, now, now, left_ref, right_ref, json.dumps(settings)),
            )
        return int(cursor.lastrowid or 0)

    def update_conversation(
        self,
        conversation_id: int,
        *,
        left_ref: str | None = None,
        right_ref: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        row = self._summary_row(conversation_id)
        with self._db:
            self._db.execute(
                "UPDATE conversations SET left_ref = ?, right_ref = ?, settings_json = ?, updated_at = ?"
                " WHERE id = ?",
                (
                    left_ref or row["left_ref"],
                    right_ref or row["right_ref"],
                    json.dumps(settings) if settings is not None else row["settings_json"],
                    time.time(),
                    conversation_id,
                ),
            )

    def add_message(
        self,
        conversation_id: int,
        *,
        turn: int,
        pane: str,
        role: str,
        content: str,
        model: str | None = None,
        stats: Stats | None = None,
        finish_reason: str | None = None,
        error: str | None = None,
        notice: str | None = None,
    ) -> int:
        if pane not in PANES:
            raise ValueError(f"unknown pane {pane!r}")
        now = time.time()
        stats_json = json.dumps(stats_to_json(stats)) if stats is not None else None
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO messages (conversation_id, turn, pane, role, content, model, finish_reason,"
                " error, notice, stats_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    turn,
                    pane,
                    role,
                    content,
                    model,
                    finish_reason,
                    error,
                    notice,
                    stats_json,
                    now,
                ),
            )
            self._db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return int(cursor.lastrowid or 0)

    def delete_answers(self, conversation_id: int, turn: int, pane: str | None = None) -> None:
        """Remove the saved answers of one turn (before it is regenerated)."""
        query = "DELETE FROM messages WHERE conversation_id = ? AND turn = ? AND role = 'assistant'"
        args: tuple[Any, ...] = (conversation_id, turn)
        if pane is not None:
            query += " AND pane = ?"
            args += (pane,)
        with self._db:
            self._db.execute(query, args)

    def delete_conversation(self, conversation_id: int) -> None:
        with self._db:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # ----- reads --------------------------------------------------------------------------------
    def _summary_row(self, conversation_id: int) -> sqlite3.Row:
        row = self._db.execute(
            "SELECT c.*, (SELECT COUNT(DISTINCT turn) FROM messages m WHERE m.conversation_id = c.id)"
            " AS turns FROM conversations c WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            raise DuelError(f"no conversation {conversation_id}")
        return row

    @staticmethod
    def _summary(row: sqlite3.Row) -> ConversationSummary:
        return ConversationSummary(
            id=row["id"],
            title=row["title"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            left_ref=row["left_ref"],
            right_ref=row["right_ref"],
            turns=row["turns"],
        )

    def list_conversations(self, limit: int = 500) -> list[ConversationSummary]:
        """Most recently used first."""
        rows = self._db.execute(
            "SELECT c.*, (SELECT COUNT(DISTINCT turn) FROM messages m WHERE m.conversation_id = c.id)"
            " AS turns FROM conversations c ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [self._summary(row) for row in rows]

    def latest_id(self) -> int | None:
        row = self._db.execute(
            "SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return int(row["id"]) if row else None

    def reply_timings(self) -> dict[str, tuple[int, float, int]]:
        """Per model reference: tokens generated, seconds taken (request to last token) and replies,
        over every saved answer with stats (what `duel recommend` reads as chat speed)."""
        out: dict[str, tuple[int, float, int]] = {}
        rows = self._db.execute(
            "SELECT model, stats_json FROM messages WHERE role = 'assistant' AND stats_json IS NOT NULL "
            "AND model IS NOT NULL AND error IS NULL"
        )
        for model, stats_json in rows:
            stats = stats_from_json(json.loads(stats_json))
            if stats is None or stats.completion_tokens <= 0 or stats.total_s <= 0:
                continue
            tokens, seconds, replies = out.get(model, (0, 0.0, 0))
            out[model] = (tokens + stats.completion_tokens, seconds + stats.total_s, replies + 1)
        return out

    def load(self, conversation_id: int) -> StoredConversation:
        row = self._summary_row(conversation_id)
        stored = StoredConversation(self._summary(row), json.loads(row["settings_json"] or "{}"))
        stored.turns = {pane: [] for pane in PANES}
        by_key: dict[tuple[str, int], PaneTurn] = {}
        messages = self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY turn, id", (conversation_id,)
        ).fetchall()
        for message in messages:
            key = (message["pane"], message["turn"])
            if message["role"] == "user":
                turn = PaneTurn(
                    index=message["turn"],
                    prompt=message["content"],
                    model=message["model"] or "",
                    conversation_id=conversation_id,
                )
                by_key[key] = turn
                stored.turns[message["pane"]].append(turn)
                continue
            turn = by_key.get(key)
            if turn is None:  # an answer without its prompt cannot be shown sensibly
                continue
            turn.answer = message["content"]
            turn.model = message["model"] or turn.model
            turn.stats = stats_from_json(json.loads(message["stats_json"]) if message["stats_json"] else None)
            turn.finish_reason = message["finish_reason"]
            turn.error = message["error"]
            turn.notice = message["notice"]
            turn.settled = True
        for pane in PANES:
            for turn in stored.turns[pane]:
                if not turn.settled:  # the app stopped while it was being answered
                    turn.finish_reason, turn.settled = "cancelled", True
                    turn.notice = "(no answer was saved: duel stopped while it was being written)"
        return stored
