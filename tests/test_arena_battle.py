"""The rules of a blind battle: pool, random pairs and sides, hidden names, one final vote."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.arena.battle import Battle, Pairing, draw_pairing, parse_pool
from benchmarks.arena.store import ArenaError, ArenaStore, VoteRefusedError
from engines.base import Stats
from models.errors import DuelError


def test_parse_pool() -> None:
    assert parse_pool("a, b ,hf:x/y/z.gguf") == ("a", "b", "hf:x/y/z.gguf")
    assert parse_pool(["a", "b"]) == ("a", "b")
    with pytest.raises(ArenaError, match="two or more"):
        parse_pool("a")
    with pytest.raises(ArenaError, match="more than once"):
        parse_pool("a,b,a")


def test_pairs_are_uniform_with_random_sides() -> None:
    rng = random.Random(0)
    pool = ("a", "b", "c")
    draws = [draw_pairing(pool, rng) for _ in range(3000)]
    pairs = Counter(d.pair for d in draws)
    assert len(pairs) == 3 and min(pairs.values()) > 900
    left = Counter(d.model_a for d in draws)
    assert all(900 < left[m] < 1100 for m in pool)


def test_a_new_battle_brings_a_new_pair() -> None:
    rng = random.Random(1)
    previous = draw_pairing(("a", "b", "c", "d"), rng)
    for _ in range(200):
        pairing = draw_pairing(("a", "b", "c", "d"), rng, previous)
        assert pairing.pair != previous.pair
        previous = pairing
    two = [draw_pairing(("a", "b"), rng, Pairing("a", "b")) for _ in range(100)]  # only the sides change
    assert {p.model_a for p in two} == {"a", "b"}


def _stats(tokens: int, finish: str = "stop") -> Stats:
    return Stats(prompt_tokens=5, completion_tokens=tokens, ttft_s=0.1, total_s=1.1, finish_reason=finish)


def test_names_hidden_until_the_vote_then_final(tmp_path: Path) -> None:
    store = ArenaStore(tmp_path / "a.sqlite3")
    battle = Battle(
        Pairing("qwen", "smol"),
        store,
        {"temperature": 0.7},
        system_prompt="Be brief.",
        sha256={"qwen": "q" * 64},
    )
    assert (battle.label("a"), battle.label("b")) == ("Model A", "Model B")
    assert not battle.can_vote
    with pytest.raises(VoteRefusedError):
        battle.cast_vote("a")  # nothing asked yet
    messages = battle.begin_turn("Hi?")
    assert messages["a"][0] == {"role": "system", "content": "Be brief."}
    assert messages["a"][-1] == {"role": "user", "content": "Hi?"}
    with pytest.raises(ArenaError, match="wait"):
        battle.begin_turn("again")
    battle.end_answer("a", "Hello.", _stats(2))
    assert not battle.can_vote  # B is still answering
    with pytest.raises(VoteRefusedError):
        battle.cast_vote("a")
    battle.end_answer("b", "Hey", _stats(1, "cancelled"))  # a stopped answer has ended
    assert battle.can_vote and battle.battle_id is not None
    # a second turn: multi-turn conversations are stored as they grow
    second = battle.begin_turn("And then?")
    assert [m["role"] for m in second["b"]] == ["system", "user", "assistant", "user"]
    battle.end_answer("b", "Bye", _stats(1))
    battle.end_answer("a", "Goodbye.", _stats(3))
    assert battle.label("a") == "Model A"
    pairing = battle.cast_vote("b")
    assert pairing == Pairing("qwen", "smol")
    assert (battle.label("a"), battle.label("b")) == ("qwen", "smol")
    with pytest.raises(VoteRefusedError):
        battle.cast_vote("a")
    with pytest.raises(VoteRefusedError):
        battle.begin_turn("more?")
    stored = store.get_battle(battle.battle_id)
    assert (stored.model_a, stored.model_b, stored.vote, stored.voter) == ("qwen", "smol", "b", "human")
    assert stored.turns == 2 and stored.conversation_a[-1]["content"] == "Goodbye."
    assert stored.conversation_a[0]["role"] == "user"  # the system prompt lives in the settings
    assert stored.settings["system_prompt"] == "Be brief." and stored.sha256_a == "q" * 64
    assert [s["finish_reason"] for s in stored.stats_b] == ["cancelled", "stop"]
    assert stored.stats_a[1]["completion_tokens"] == 3 and stored.stats_a[1]["tokens_per_s"] == 2.0
    store.close()


def test_a_hash_found_after_the_battle_was_stored_is_stored_too(tmp_path: Path) -> None:
    store = ArenaStore(tmp_path / "a.sqlite3")
    battle = Battle(Pairing("qwen", "smol"), store, sha256={"qwen": "q" * 64})
    assert not battle.hashes_known
    battle.begin_turn("Hi?")
    battle.end_answer("a", "Hello.", _stats(2))
    battle.end_answer("b", "Hey", _stats(1))
    assert store.get_battle(battle.battle_id).sha256_b is None  # stored before smol's hash came
    battle.set_sha256("smol", "s" * 64)
    assert battle.hashes_known
    assert store.get_battle(battle.battle_id).sha256_b == "s" * 64
    with pytest.raises(ArenaError, match="not in this battle"):
        battle.set_sha256("other", "o" * 64)
    battle.cast_vote("tie")
    record = store.get_battle(battle.battle_id)
    assert (record.sha256_a, record.sha256_b, record.vote) == ("q" * 64, "s" * 64, "tie")
    with pytest.raises(VoteRefusedError):  # a voted battle is final, its hashes too
        store.record_sha256(battle.battle_id, "a", "x" * 64)


def test_pool_refs_are_checked_without_loading_anything(tmp_path: Path) -> None:
    from benchmarks.arena.battle import check_pool_refs

    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    check_pool_refs(["qwen2.5-coder-0.5b", "scripted:x", "remote:http://h/v1#m", str(model), "hf:a/b/c.gguf"])
    with pytest.raises(ArenaError, match="unknown model 'nope'; known models: qwen2.5-coder-0.5b"):
        check_pool_refs(["smollm2-135m", "nope"])
    with pytest.raises(ArenaError, match="no model file at"):
        check_pool_refs([str(tmp_path / "missing.gguf")])
    with pytest.raises(DuelError):
        check_pool_refs(["hf:"])
