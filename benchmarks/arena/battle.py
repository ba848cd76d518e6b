"""The rules of a blind battle, for the TUI (or any front end) to drive.

A pool of two or more model refs; each battle draws a pair at random and random sides, shows them as
"Model A" (left) and "Model B" (right) only, and collects a multi-turn conversation with each. A vote
(A better, B better, tie, both bad) is accepted only when both answers of the last turn have ended (a
stopped or failed answer has ended), it is stored in one commit, and then the names are revealed;
after that the battle cannot take another turn or another vote. The front end streams the answers
(engines are its business); this class only keeps the state and talks to the store.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.arena.store import HUMAN, VOTES, ArenaError, ArenaStore, BattleRecord, VoteRefusedError
from engines.base import Engine, Message, Stats
from models.info import ModelInfo

SIDES = ("a", "b")
VOTE_LABELS = {"a": "A is better", "b": "B is better", "tie": "tie", "bothbad": "both are bad"}


def parse_pool(pool: str | Iterable[str]) -> tuple[str, ...]:
    """`A,B,C` (or a list) as a pool of distinct refs, at least two; a one-line error otherwise."""
    items = pool.split(",") if isinstance(pool, str) else list(pool)
    refs = tuple(ref.strip() for ref in items if ref.strip())
    duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
    if duplicates:
        raise ArenaError(f"the pool names {', '.join(duplicates)} more than once")
    if len(refs) < 2:
        raise ArenaError(f"the arena needs a pool of two or more models, got {len(refs)} (--pool A,B,...)")
    return refs


ENGINE_PREFIXES = ("scripted:", "remote:")  # refs the engine factory opens without a model file


def check_pool_refs(refs: Iterable[str]) -> None:
    """Refuse, before any battle, a ref that cannot name a model: an unknown name, a missing file, a
    malformed `hf:` reference. Cheap (nothing is loaded or downloaded): a blind battle would only say
    "Model A could not be loaded", and hold the reason back until the vote."""
    from pathlib import Path

    from models.hub.refs import parse_reference
    from models.resolve import is_path_reference, known_names

    known: list[str] | None = None
    for ref in refs:
        if ref.startswith(ENGINE_PREFIXES):
            continue
        if ref.startswith("hf:"):
            parse_reference(ref)
        elif is_path_reference(ref):
            if not Path(ref).expanduser().is_file():
                raise ArenaError(f"pool: no model file at {ref}")
        else:
            known = known if known is not None else known_names()
            if ref not in known:
                raise ArenaError(f"pool: unknown model '{ref}'; known models: {', '.join(known)}")


@dataclass(frozen=True)
class Pairing:
    """Who sits where: `model_a` is shown as "Model A" (left), `model_b` as "Model B" (right)."""

    model_a: str
    model_b: str

    def ref(self, side: str) -> str:
        return self.model_a if side == "a" else self.model_b

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.model_a, self.model_b))


def draw_pairing(pool: Sequence[str], rng: random.Random, previous: Pairing | None = None) -> Pairing:
    """A pair drawn uniformly from the pool, on random sides.

    With three or more models the previous battle's pair is left out of the draw, so "new battle"
    always brings a new pair; with two models only the sides change (at random).
    """
    refs = parse_pool(pool)
    pairs = [(refs[i], refs[j]) for i in range(len(refs)) for j in range(i + 1, len(refs))]
    if previous is not None and len(pairs) > 1:
        pairs = [p for p in pairs if frozenset(p) != previous.pair]
    first, second = rng.choice(pairs)
    return Pairing(first, second) if rng.random() < 0.5 else Pairing(second, first)


def engine_sha256(engine: Engine) -> str | None:
    """sha256 of the engine's model file (cached by path, size and mtime), None for remote/scripted."""
    return info_sha256(engine.describe())


def info_sha256(info: ModelInfo) -> str | None:
    """sha256 of the model file `info` describes (hashing takes seconds the first time: call it from
    a worker thread); None for a model with no file (remote, scripted)."""
    if info.sha256 or info.path is None:
        return info.sha256
    from benchmarks.store import ResultsStore

    with ResultsStore() as store:
        return store.file_sha256(info.path)


@dataclass
class _Side:
    conversation: list[Message] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)
    answering: bool = False


class Battle:
    """One battle between two hidden models, stored as it goes (see the module docstring)."""

    def __init__(
        self,
        pairing: Pairing,
        store: ArenaStore,
        settings: Mapping[str, Any] | None = None,
        *,
        sha256: Mapping[str, str | None] | None = None,
        system_prompt: str | None = None,
    ) -> None:
        self.pairing = pairing
        self.store = store
        self.settings = dict(settings or {})
        self.system_prompt = system_prompt or None
        if self.system_prompt:
            self.settings["system_prompt"] = self.system_prompt
        self.sha256 = dict(sha256 or {})
        self.sides = {side: _Side() for side in SIDES}
        self.battle_id: int | None = None  # stored at the first answered turn
        self.vote: str | None = None

    # ------------------------------------------------------------------------------------ state

    @property
    def revealed(self) -> bool:
        return self.vote is not None

    @property
    def turns(self) -> int:
        return sum(1 for m in self.sides["a"].conversation if m["role"] == "user")

    @property
    def answering(self) -> bool:
        return any(s.answering for s in self.sides.values())

    @property
    def hashes_known(self) -> bool:
        """Both models' sha256 are in (None for a model without a file): a vote stores them."""
        return all(ref in self.sha256 for ref in (self.pairing.model_a, self.pairing.model_b))

    def set_sha256(self, ref: str, sha256: str | None) -> None:
        """A model's file hash, found after the battle began (hashing runs while the models answer);
        stored at once when the battle is already in the store."""
        if ref not in self.pairing.pair:
            raise ArenaError(f"'{ref}' is not in this battle")
        self.sha256[ref] = sha256
        if self.battle_id is not None and sha256 and not self.revealed:
            side = "a" if ref == self.pairing.model_a else "b"
            self.store.record_sha256(self.battle_id, side, sha256)

    @property
    def can_vote(self) -> bool:
        """Both answers of the last turn have ended and no vote is in yet."""
        return not self.revealed and self.turns > 0 and not self.answering

    def label(self, side: str) -> str:
        """ "Model A" / "Model B" until the vote, then the model's ref."""
        return self.pairing.ref(side) if self.revealed else f"Model {side.upper()}"

    # ------------------------------------------------------------------------------------ turns

    def begin_turn(self, prompt: str) -> dict[str, list[Message]]:
        """Add the user's prompt to both sides; returns the messages each model must answer."""
        if self.revealed:
            raise VoteRefusedError("this battle is over: start a new battle to ask again")
        if self.answering:
            raise ArenaError("wait until both answers have ended")
        if not prompt.strip():
            raise ArenaError("the prompt is empty")
        out = {}
        for side, state in self.sides.items():
            state.conversation.append({"role": "user", "content": prompt})
            state.answering = True
            head: list[Message] = (
                [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            )
            out[side] = head + [dict(m) for m in state.conversation]
        return out

    def end_answer(self, side: str, text: str, stats: Stats | None, finish_reason: str | None = None) -> None:
        """Record one side's answer once it has ended (finished, stopped or failed)."""
        state = self.sides[side]
        if not state.answering:
            raise ArenaError(f"Model {side.upper()} is not answering")
        state.answering = False
        state.conversation.append({"role": "assistant", "content": text})
        record = stats.to_json() if stats is not None else {"finish_reason": finish_reason or "error"}
        if finish_reason is not None:
            record["finish_reason"] = finish_reason
        state.stats.append(record)
        if not self.answering:
            self._save_turn()

    def _save_turn(self) -> None:
        a, b = self.sides["a"], self.sides["b"]
        if self.battle_id is None:
            self.battle_id = self.store.record_battle(
                BattleRecord(
                    model_a=self.pairing.model_a,
                    model_b=self.pairing.model_b,
                    settings=self.settings,
                    conversation_a=a.conversation,
                    conversation_b=b.conversation,
                    stats_a=a.stats,
                    stats_b=b.stats,
                    sha256_a=self.sha256.get(self.pairing.model_a),
                    sha256_b=self.sha256.get(self.pairing.model_b),
                    source="arena",
                )
            )
        else:
            self.store.record_turn(self.battle_id, a.conversation, b.conversation, a.stats, b.stats)

    # ------------------------------------------------------------------------------------- vote

    def cast_vote(self, vote: str, voter: str = HUMAN) -> Pairing:
        """Store the vote (one commit) and reveal the names; refused before both answers end."""
        if vote not in VOTES:
            raise ArenaError(f"vote must be one of {', '.join(VOTES)}, got '{vote}'")
        if self.revealed:
            raise VoteRefusedError("this battle already has its vote; a vote cannot change")
        if not self.can_vote or self.battle_id is None:
            raise VoteRefusedError("vote when both answers have ended")
        self.store.record_vote(self.battle_id, vote, voter)
        self.vote = vote
        return self.pairing
