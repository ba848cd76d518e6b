"""The arena store: schema version, one commit per write, and votes that cannot change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks.arena.store import (
    SCHEMA_VERSION,
    ArenaError,
    ArenaStore,
    BattleRecord,
    VoteRefusedError,
)
from models.errors import DuelError

Q = {"role": "user", "content": "What is 2+2?"}


def _answered(model_a: str = "alpha", model_b: str = "beta", **kw: object) -> BattleRecord:
    return BattleRecord(
        model_a=model_a,
        model_b=model_b,
        settings={"temperature": 0.7, "max_tokens": 64},
        conversation_a=[Q, {"role": "assistant", "content": "4"}],
        conversation_b=[Q, {"role": "assistant", "content": "four"}],
        stats_a=[{"completion_tokens": 1, "tokens_per_s": 0.0, "finish_reason": "stop"}],
        stats_b=[{"completion_tokens": 1, "tokens_per_s": 0.0, "finish_reason": "stop"}],
        sha256_a="aa" * 32,
        **kw,  # type: ignore[arg-type]
    )


def test_schema_version_and_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "arena.sqlite3"
    with ArenaStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION >= 1
    with ArenaStore(db) as store:  # reopening migrates nothing
        assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DuelError, match="newer duel"):
        ArenaStore(db)


def test_a_failing_migration_leaves_the_old_version_and_nothing_half_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The arena store migrates through the shared runner (models.sqlite_schema): a migration and its
    version bump commit together or not at all."""
    db = tmp_path / "arena.sqlite3"
    ArenaStore(db).close()
    broken = "CREATE TABLE extra (x INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(ArenaStore, "MIGRATIONS", (*ArenaStore.MIGRATIONS, broken))
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        ArenaStore(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "extra" not in tables and "battles" in tables


def test_default_path_is_under_duel_home(duel_home: Path) -> None:
    with ArenaStore() as store:
        assert store.path == duel_home / "data" / "arena.sqlite3"


def test_a_vote_is_committed_at_once_and_stores_everything(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    store = ArenaStore(db)
    battle_id = store.record_battle(_answered())
    store.record_vote(battle_id, "a", "human", tstamp=1_700_000_000.5)
    with sqlite3.connect(db) as other:  # another connection sees it: it was committed
        row = other.execute("SELECT status, vote, voter, model_a, sha256_a FROM battles").fetchone()
    assert row == ("voted", "a", "human", "alpha", "aa" * 32)
    stored = store.get_battle(battle_id)
    assert stored.conversation_b[1] == {"role": "assistant", "content": "four"}
    assert stored.stats_a[0]["finish_reason"] == "stop" and stored.settings["max_tokens"] == 64
    assert stored.tstamp == 1_700_000_000.5 and stored.created_at and len(stored.uid) == 32
    store.close()


def test_a_vote_cannot_change(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    with ArenaStore(db) as store:
        battle_id = store.record_battle(_answered())
        store.record_vote(battle_id, "b")
        with pytest.raises(VoteRefusedError, match="cannot change"):
            store.record_vote(battle_id, "a")
        with pytest.raises(VoteRefusedError):
            store.record_turn(battle_id, [Q], [Q], [], [])
        assert store.get_battle(battle_id).vote == "b"
    with sqlite3.connect(db) as conn, pytest.raises(sqlite3.DatabaseError, match="cannot change"):
        conn.execute("UPDATE battles SET vote = 'a' WHERE id = ?", (battle_id,))  # not even by hand


def test_no_vote_before_both_sides_answered(tmp_path: Path) -> None:
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        battle_id = store.record_battle(
            BattleRecord("alpha", "beta", conversation_a=[Q, {"role": "assistant", "content": "4"}])
        )
        with pytest.raises(VoteRefusedError, match="Model B has not answered"):
            store.record_vote(battle_id, "a")
        store.record_turn(
            battle_id,
            [Q, {"role": "assistant", "content": "4"}],
            [Q, {"role": "assistant", "content": ""}],  # a stopped answer, even empty, has ended
            [{"finish_reason": "stop"}],
            [{"finish_reason": "cancelled"}],
        )
        store.record_vote(battle_id, "bothbad")
        assert store.get_battle(battle_id).stats_b == [{"finish_reason": "cancelled"}]


def test_bad_votes_voters_and_battles_are_refused(tmp_path: Path) -> None:
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        battle_id = store.record_battle(_answered())
        with pytest.raises(ArenaError, match="vote must be one of"):
            store.record_vote(battle_id, "maybe")
        with pytest.raises(ArenaError, match="not valid"):
            store.record_vote(battle_id, "a", voter="bob")
        with pytest.raises(ArenaError, match="no arena battle"):
            store.record_vote(999, "a")
        with pytest.raises(ArenaError, match="two different models"):
            store.record_battle(_answered("alpha", "alpha"))
        with pytest.raises(ArenaError, match="role must be"):
            store.record_battle(BattleRecord("x", "y", conversation_a=[{"role": "bot", "content": "hi"}]))


def test_filters_by_voter_and_counts_verdicts(tmp_path: Path) -> None:
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        store.record_vote(store.record_battle(_answered()), "a")
        store.record_battle(_answered(status="voted", vote="tie", voter="judge:q", source="judge"))
        store.record_battle(_answered(status="no_verdict", voter="judge:q", source="judge"))
        store.record_battle(_answered())  # open: never counted
        assert [b.vote for b in store.battles("human")] == ["a"]
        assert [b.vote for b in store.battles("judge:q")] == ["tie"]
        assert len(store.battles("all")) == 2
        assert store.voters() == {
            "human": {"voted": 1, "no_verdict": 0},
            "judge:q": {"voted": 1, "no_verdict": 1},
        }


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        good = _answered(status="voted", vote="a", voter="human", source="import", uid="u1")
        bad = _answered("same", "same", status="voted", vote="a", voter="human", source="import", uid="u2")
        with pytest.raises(ArenaError):
            store.import_battles([good, bad])
        assert store.battles("all") == []
        assert store.import_battles([good]) == (1, 0)
        assert store.import_battles([good]) == (0, 1)  # the same record again is skipped
