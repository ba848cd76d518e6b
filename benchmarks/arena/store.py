"""Arena battles and votes in SQLite (`arena.sqlite3` in the data dir).

One row per battle: both model refs (the one shown as "Model A", on the left, is `model_a`), their
sha256, the settings, both conversations as message lists, per-answer stats (tokens, speed), and
the outcome. A battle is `open` while it is being fought, then `voted` (with the vote and who cast
it: "human" or "judge:NAME") or `no_verdict` (a judge whose verdict could not be read). Once it is
no longer open nothing about it may change: `record_vote` refuses a second vote, and a trigger in
the schema refuses any UPDATE of a closed battle, whoever tries.

Every write is its own committed transaction; an import is one transaction for the whole file.
Schema version in PRAGMA user_version; migrations run through models.sqlite_schema (the runner the
results and chat stores use): each one and its version bump in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models import sqlite_schema
from models.errors import DuelError
from models.paths import arena_db_file

VOTES = ("a", "b", "tie", "bothbad")
STATUSES = ("open", "voted", "no_verdict")
SOURCES = ("arena", "judge", "import")
HUMAN = "human"
JUDGE_PREFIX = "judge:"

MIGRATIONS: tuple[sqlite_schema.Migration, ...] = (
    # 1: first schema
    """
    CREATE TABLE battles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        session TEXT,
        created_at TEXT NOT NULL,
        model_a TEXT NOT NULL,
        model_b TEXT NOT NULL,
        sha256_a TEXT,
        sha256_b TEXT,
        settings TEXT NOT NULL,
        conversation_a TEXT NOT NULL,
        conversation_b TEXT NOT NULL,
        stats_a TEXT NOT NULL,
        stats_b TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'voted', 'no_verdict')),
        vote TEXT CHECK (vote IN ('a', 'b', 'tie', 'bothbad')),
        voter TEXT,
        voter_id TEXT,
        tstamp REAL,
        detail TEXT,
        CHECK (model_a != model_b),
        CHECK ((status = 'voted') = (vote IS NOT NULL)),
        CHECK (status = 'open' OR voter IS NOT NULL)
    );
    CREATE INDEX battles_voter ON battles(status, voter);
    CREATE TRIGGER battles_closed_are_final BEFORE UPDATE ON battles WHEN OLD.status != 'open'
    BEGIN
        SELECT RAISE(ABORT, 'this battle already has its outcome and cannot change');
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class ArenaError(DuelError):
    """Bad arena input: an unknown battle, a refused vote, a voter name that is not valid."""


class VoteRefusedError(ArenaError):
    """A vote that the rules do not allow: before both answers ended, or a second one."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_voter(voter: str) -> str:
    """`human` or `judge:NAME`; anything else is refused with the rule in one line."""
    if voter == HUMAN or (voter.startswith(JUDGE_PREFIX) and voter[len(JUDGE_PREFIX) :].strip()):
        return voter
    raise ArenaError(f"voter '{voter}' is not valid: use 'human' or 'judge:NAME'")


def check_conversation(messages: Any, what: str) -> list[dict[str, str]]:
    """An OpenAI-style message list: [{"role": "user" | "assistant" | "system", "content": str}, ...]."""
    if not isinstance(messages, list):
        raise ArenaError(f"{what} must be a list of messages, got {type(messages).__name__}")
    out = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ArenaError(f"{what}[{index}] must be an object with role and content")
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant"):
            raise ArenaError(f"{what}[{index}]: role must be system, user or assistant, got {role!r}")
        if not isinstance(content, str):
            raise ArenaError(f"{what}[{index}]: content must be text")
        out.append({"role": role, "content": content})
    return out


@dataclass(frozen=True)
class BattleRecord:
    """A battle as stored. `model_a` was shown as "Model A" (left), `model_b` as "Model B" (right)."""

    model_a: str
    model_b: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    conversation_a: Sequence[Mapping[str, str]] = ()
    conversation_b: Sequence[Mapping[str, str]] = ()
    stats_a: Sequence[Mapping[str, Any]] = ()  # one entry per answer of model A, in turn order
    stats_b: Sequence[Mapping[str, Any]] = ()
    sha256_a: str | None = None
    sha256_b: str | None = None
    source: str = "arena"
    session: str | None = None  # the judge run or import this battle came with
    status: str = "open"
    vote: str | None = None
    voter: str | None = None
    voter_id: str | None = None  # the voter as named in an imported file (FastChat's `judge` field)
    tstamp: float | None = None  # when the vote was cast, Unix seconds
    detail: Mapping[str, Any] | None = None  # a judge's raw verdicts
    uid: str = ""
    created_at: str = ""
    id: int | None = None

    @property
    def turns(self) -> int:
        return sum(1 for m in self.conversation_a if m.get("role") == "user")

    def validated(self) -> BattleRecord:
        """A copy with defaults filled in, or ArenaError naming what is wrong."""
        if not self.model_a or not self.model_b:
            raise ArenaError("a battle needs two models")
        if self.model_a == self.model_b:
            raise ArenaError(f"a battle needs two different models, got '{self.model_a}' twice")
        if self.source not in SOURCES:
            raise ArenaError(f"unknown battle source '{self.source}'")
        if self.status not in STATUSES:
            raise ArenaError(f"unknown battle status '{self.status}'")
        if (self.status == "voted") != (self.vote is not None):
            raise ArenaError("a vote is given exactly when the status is 'voted'")
        if self.vote is not None and self.vote not in VOTES:
            raise ArenaError(f"vote must be one of {', '.join(VOTES)}, got '{self.vote}'")
        if self.status != "open":
            if self.voter is None:
                raise ArenaError("a closed battle needs its voter")
            check_voter(self.voter)
        conv_a = check_conversation(list(self.conversation_a), "conversation_a")
        conv_b = check_conversation(list(self.conversation_b), "conversation_b")
        tstamp = self.tstamp if self.tstamp is not None or self.status == "open" else time.time()
        return replace(
            self,
            conversation_a=conv_a,
            conversation_b=conv_b,
            uid=self.uid or uuid.uuid4().hex,
            created_at=self.created_at or now_iso(),
            tstamp=tstamp,
            voter_id=self.voter_id if self.voter_id is not None else self.voter,
        )


_COLUMNS = (
    "uid",
    "source",
    "session",
    "created_at",
    "model_a",
    "model_b",
    "sha256_a",
    "sha256_b",
    "settings",
    "conversation_a",
    "conversation_b",
    "stats_a",
    "stats_b",
    "status",
    "vote",
    "voter",
    "voter_id",
    "tstamp",
    "detail",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _row_values(b: BattleRecord) -> tuple[Any, ...]:
    return (
        b.uid,
        b.source,
        b.session,
        b.created_at,
        b.model_a,
        b.model_b,
        b.sha256_a,
        b.sha256_b,
        _dumps(dict(b.settings)),
        _dumps(list(b.conversation_a)),
        _dumps(list(b.conversation_b)),
        _dumps([dict(s) for s in b.stats_a]),
        _dumps([dict(s) for s in b.stats_b]),
        b.status,
        b.vote,
        b.voter,
        b.voter_id,
        b.tstamp,
        None if b.detail is None else _dumps(dict(b.detail)),
    )


def _from_row(row: sqlite3.Row) -> BattleRecord:
    return BattleRecord(
        model_a=row["model_a"],
        model_b=row["model_b"],
        settings=json.loads(row["settings"]),
        conversation_a=json.loads(row["conversation_a"]),
        conversation_b=json.loads(row["conversation_b"]),
        stats_a=json.loads(row["stats_a"]),
        stats_b=json.loads(row["stats_b"]),
        sha256_a=row["sha256_a"],
        sha256_b=row["sha256_b"],
        source=row["source"],
        session=row["session"],
        status=row["status"],
        vote=row["vote"],
        voter=row["voter"],
        voter_id=row["voter_id"],
        tstamp=row["tstamp"],
        detail=json.loads(row["detail"]) if row["detail"] else None,
        uid=row["uid"],
        created_at=row["created_at"],
        id=int(row["id"]),
    )


class ArenaStore(sqlite_schema.VersionedStore):
    """One connection per thread; every write below is one committed transaction."""

    MIGRATIONS = MIGRATIONS

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or arena_db_file())

    # ------------------------------------------------------------------------------------ writes

    def record_battle(self, battle: BattleRecord) -> int:
        """Store a battle (open, or already voted or judged) and return its id. One commit."""
        record = battle.validated()
        with self.conn:
            cur = self.conn.execute(
                f"INSERT INTO battles ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                _row_values(record),
            )
        return int(cur.lastrowid or 0)

    def record_turn(
        self,
        battle_id: int,
        conversation_a: Sequence[Mapping[str, str]],
        conversation_b: Sequence[Mapping[str, str]],
        stats_a: Sequence[Mapping[str, Any]],
        stats_b: Sequence[Mapping[str, Any]],
    ) -> None:
        """Save both conversations as they stand after a turn (an open battle only). One commit."""
        conv_a = check_conversation(list(conversation_a), "conversation_a")
        conv_b = check_conversation(list(conversation_b), "conversation_b")
        self._require_open(battle_id)
        with self.conn:
            self.conn.execute(
                "UPDATE battles SET conversation_a = ?, conversation_b = ?, stats_a = ?, stats_b = ? "
                "WHERE id = ? AND status = 'open'",
                (
                    _dumps(conv_a),
                    _dumps(conv_b),
                    _dumps([dict(s) for s in stats_a]),
                    _dumps([dict(s) for s in stats_b]),
                    battle_id,
                ),
            )

    def record_sha256(self, battle_id: int, side: str, sha256: str) -> None:
        """The file hash of side `a` or `b` of an open battle (found after it was stored). One commit."""
        if side not in ("a", "b"):
            raise ArenaError(f"side must be a or b, got '{side}'")
        self._require_open(battle_id)
        with self.conn:
            self.conn.execute(
                f"UPDATE battles SET sha256_{side} = ? WHERE id = ? AND status = 'open'", (sha256, battle_id)
            )

    def record_vote(self, battle_id: int, vote: str, voter: str = HUMAN, tstamp: float | None = None) -> None:
        """Cast the vote of an open battle whose both sides have answered. One commit; final."""
        if vote not in VOTES:
            raise ArenaError(f"vote must be one of {', '.join(VOTES)}, got '{vote}'")
        check_voter(voter)
        battle = self._require_open(battle_id)
        for side, conversation in (("A", battle.conversation_a), ("B", battle.conversation_b)):
            if not any(m.get("role") == "assistant" for m in conversation):
                raise VoteRefusedError(f"battle {battle_id}: Model {side} has not answered yet")
        with self.conn:
            cur = self.conn.execute(
                "UPDATE battles SET status = 'voted', vote = ?, voter = ?, voter_id = ?, tstamp = ? "
                "WHERE id = ? AND status = 'open'",
                (vote, voter, voter, tstamp if tstamp is not None else time.time(), battle_id),
            )
        if cur.rowcount != 1:  # another connection voted between the check and the update
            raise VoteRefusedError(f"battle {battle_id} already has a vote; a vote cannot change")

    def import_battles(self, battles: Iterable[BattleRecord]) -> tuple[int, int]:
        """Store closed battles in ONE transaction (all or nothing). Returns (added, skipped):
        a battle whose uid is already stored (the same file imported twice) is skipped."""
        records = [b.validated() for b in battles]
        added = skipped = 0
        marks = ", ".join("?" * len(_COLUMNS))
        with self.conn:
            for record in records:
                cur = self.conn.execute(
                    f"INSERT OR IGNORE INTO battles ({', '.join(_COLUMNS)}) VALUES ({marks})",
                    _row_values(record),
                )
                if cur.rowcount == 1:
                    added += 1
                else:
                    skipped += 1
        return added, skipped

    # ------------------------------------------------------------------------------------- reads

    def get_battle(self, battle_id: int) -> BattleRecord:
        row = self.conn.execute("SELECT * FROM battles WHERE id = ?", (battle_id,)).fetchone()
        if row is None:
            raise ArenaError(f"no arena battle with id {battle_id}")
        return _from_row(row)

    def _require_open(self, battle_id: int) -> BattleRecord:
        battle = self.get_battle(battle_id)
        if battle.status == "voted":
            raise VoteRefusedError(f"battle {battle_id} already has a vote; a vote cannot change")
        if battle.status != "open":
            raise VoteRefusedError(f"battle {battle_id} is closed ({battle.status})")
        return battle

    def battles(self, voter: str = "all", *, status: str | None = "voted") -> list[BattleRecord]:
        """Battles in the order they were stored; `voter`: human, judge:NAME or all."""
        sql, args = "SELECT * FROM battles WHERE 1 = 1", []
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if voter != "all":
            sql += " AND voter = ?"
            args.append(check_voter(voter))
        return [_from_row(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def voters(self) -> dict[str, dict[str, int]]:
        """{voter: {"voted": n, "no_verdict": m}} over closed battles."""
        out: dict[str, dict[str, int]] = {}
        rows = self.conn.execute(
            "SELECT voter, status, COUNT(*) FROM battles WHERE status != 'open' GROUP BY voter, status"
        )
        for voter, status, count in rows:
            out.setdefault(voter, {"voted": 0, "no_verdict": 0})[status] = int(count)
        return out
