"""`duel arena judge`: battles on a prompt set, voted by a judge model, over several seeds.

Plan: for each seed, each round plays every prompt once, with a pair drawn from the pool at random
and random sides (the seed drives the draws). Both contestants answer with the same sampling seed,
derived from (seed, round, prompt), so a seed fixes every answer. Then each contestant is loaded
once, alone, with every core (the reasons are those of benchmarks/runner.py: two models at once on
a laptop only slow each other down), and answers all its prompts; then the judge is loaded and
judges every battle in both orders (judge.py). Each judged battle is stored as it is done, in one
commit, with the voter `judge:REF`, so judge votes never mix with human votes.

What the seeds vary: the pairs, the sides and the contestants' sampled answers. The judge samples
with the seed too, but at its default temperature 0 it is deterministic. The summary fits ratings
on each seed's votes separately and reports their mean and standard deviation across seeds (the
MT-Bench way of showing how much the ranking depends on chance).
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.arena.battle import Pairing, draw_pairing, engine_sha256, parse_pool
from benchmarks.arena.judge import Judgement, judge_messages, parse_verdict
from benchmarks.arena.prompts import ArenaPrompt
from benchmarks.arena.ratings import Vote, fit_ratings
from benchmarks.arena.store import JUDGE_PREFIX, ArenaError, ArenaStore, BattleRecord, check_voter
from engines.base import ContextOverflowError, Engine, GenerationParams, LoadOptions, Message

EngineOpener = Callable[..., Engine]


@dataclass(frozen=True)
class JudgeRequest:
    judge: str
    pool: tuple[str, ...]
    prompts: tuple[ArenaPrompt, ...]
    rounds: int = 1
    seeds: tuple[int, ...] = (0, 1, 2)
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.95
    judge_max_tokens: int = 256
    judge_temperature: float = 0.0
    n_ctx: int = 4096
    threads: int | None = None

    @property
    def voter(self) -> str:
        return check_voter(JUDGE_PREFIX + self.judge)

    def validate(self) -> None:
        parse_pool(self.pool)
        if not self.prompts:
            raise ArenaError("no prompts to judge")
        if self.rounds < 1:
            raise ArenaError("--rounds must be at least 1")
        if not self.seeds:
            raise ArenaError("--seeds must be at least 1")
        if self.max_tokens < 1 or self.judge_max_tokens < 1:
            raise ArenaError("token limits must be at least 1")


@dataclass(frozen=True)
class PlannedBattle:
    seed: int
    round: int
    prompt: ArenaPrompt
    pairing: Pairing
    sample_seed: int  # both contestants sample with it


def sample_seed(seed: int, round_: int, prompt_id: str) -> int:
    digest = hashlib.sha256(f"{seed}\x1f{round_}\x1f{prompt_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def plan_battles(request: JudgeRequest) -> list[PlannedBattle]:
    pool = parse_pool(request.pool)
    plan = []
    for seed in request.seeds:
        rng = random.Random(seed)
        for round_ in range(request.rounds):
            for prompt in request.prompts:
                pairing = draw_pairing(pool, rng)  # uniform: no "new pair" rule here
                plan.append(
                    PlannedBattle(seed, round_, prompt, pairing, sample_seed(seed, round_, prompt.id))
                )
    return plan


# ------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Loading:
    ref: str
    role: str  # "contestant" or "judge"


@dataclass(frozen=True)
class Answered:
    ref: str
    done: int
    total: int


@dataclass(frozen=True)
class Judged:
    done: int
    total: int
    outcome: str | None


@dataclass(frozen=True)
class Notice:
    text: str


JudgeEvent = Loading | Answered | Judged | Notice


# ------------------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class SeedRatings:
    seed: int
    votes: int
    ratings: dict[str, float]


@dataclass
class JudgeSummary:
    session: str
    voter: str
    planned: int
    battles: int = 0
    votes: int = 0
    no_verdict: int = 0
    disagreements: int = 0  # both orders readable, not the same model: counted as a tie
    first_picks: int = 0  # single-order verdicts that chose the answer shown first
    decisive_verdicts: int = 0  # single-order verdicts that chose either answer
    per_seed: list[SeedRatings] = field(default_factory=list)
    stopped: bool = False

    def table(self) -> list[tuple[str, float, float | None, int]]:
        """(model, mean rating across seeds, standard deviation or None with one seed, seeds), best first."""
        models = sorted({m for s in self.per_seed for m in s.ratings})
        rows = []
        for model in models:
            values = [s.ratings[model] for s in self.per_seed if model in s.ratings]
            sd = statistics.stdev(values) if len(values) > 1 else None
            rows.append((model, statistics.fmean(values), sd, len(values)))
        return sorted(rows, key=lambda r: -r[1])


# ------------------------------------------------------------------------------------------- runner


@dataclass
class _Answer:
    text: str
    stats: dict[str, Any]


class JudgeRun:
    def __init__(
        self,
        request: JudgeRequest,
        *,
        store: ArenaStore | None = None,
        open_engine: EngineOpener | None = None,
        on_event: Callable[[JudgeEvent], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        request.validate()
        self.request = request
        if open_engine is None:
            from engines.factory import open_engine as factory_open

            open_engine = factory_open
        self._open = open_engine
        self._own_store = store is None
        self.store = store or ArenaStore()
        self._on_event = on_event
        self._should_stop = should_stop or (lambda: False)
        self.session = f"judge-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.answers: dict[tuple[str, str, int], _Answer] = {}
        self.sha256: dict[str, str | None] = {}

    def emit(self, event: JudgeEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _options(self) -> LoadOptions:
        return LoadOptions(n_ctx=self.request.n_ctx, n_threads=self.request.threads)

    def run(self) -> JudgeSummary:
        req = self.request
        plan = plan_battles(req)
        summary = JudgeSummary(self.session, req.voter, len(plan))
        if req.judge in req.pool:
            self.emit(
                Notice(f"the judge {req.judge} is also in the pool: judges tend to prefer their own answers")
            )
        try:
            if self._answer_all(plan) and not self._should_stop():
                self._judge_all(plan, summary)
            summary.stopped = self._should_stop()
            summary.per_seed = self._seed_ratings()
        finally:
            if self._own_store:
                self.store.close()
        return summary

    def _answer_all(self, plan: Sequence[PlannedBattle]) -> bool:
        req = self.request
        for ref in parse_pool(req.pool):
            wanted = sorted(
                {
                    (b.prompt.id, b.sample_seed): b.prompt
                    for b in plan
                    if ref in (b.pairing.model_a, b.pairing.model_b)
                }.items()
            )
            if not wanted:
                continue
            self.emit(Loading(ref, "contestant"))
            with self._open(ref, self._options()) as engine:
                self.sha256[ref] = engine_sha256(engine)
                for done, ((prompt_id, seed), prompt) in enumerate(wanted, start=1):
                    if self._should_stop():
                        return False
                    params = GenerationParams(
                        max_tokens=req.max_tokens, temperature=req.temperature, top_p=req.top_p, seed=seed
                    )
                    text, stats = _generate(engine, [{"role": "user", "content": prompt.text}], params)
                    self.answers[(ref, prompt_id, seed)] = _Answer(text, stats)
                    self.emit(Answered(ref, done, len(wanted)))
        return True

    def _judge_all(self, plan: Sequence[PlannedBattle], summary: JudgeSummary) -> None:
        req = self.request
        self.emit(Loading(req.judge, "judge"))
        with self._open(req.judge, self._options()) as judge:
            judge_sha = engine_sha256(judge)
            for done, battle in enumerate(plan, start=1):
                if self._should_stop():
                    return
                params = GenerationParams(
                    max_tokens=req.judge_max_tokens,
                    temperature=req.judge_temperature,
                    top_p=1.0,
                    seed=battle.seed,
                )
                a = self.answers[(battle.pairing.model_a, battle.prompt.id, battle.sample_seed)]
                b = self.answers[(battle.pairing.model_b, battle.prompt.id, battle.sample_seed)]
                raw_first = _judge_text(judge, judge_messages(battle.prompt.text, a.text, b.text), params)
                raw_second = _judge_text(judge, judge_messages(battle.prompt.text, b.text, a.text), params)
                judgement = Judgement(
                    parse_verdict(raw_first), parse_verdict(raw_second), raw_first, raw_second
                )
                self._record(battle, a, b, judgement, judge_sha)
                _count(summary, judgement)
                self.emit(Judged(done, len(plan), judgement.outcome))

    def _record(
        self, battle: PlannedBattle, a: _Answer, b: _Answer, judgement: Judgement, judge_sha: str | None
    ) -> None:
        req = self.request
        question = {"role": "user", "content": battle.prompt.text}
        outcome = judgement.outcome
        detail = {
            **judgement.to_json(),
            "judge": req.judge,
            "judge_sha256": judge_sha,
            "seed": battle.seed,
            "round": battle.round,
            "prompt_id": battle.prompt.id,
            "category": battle.prompt.category,
        }
        settings = {
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "seed": battle.sample_seed,
            "n_ctx": req.n_ctx,
            "judge_max_tokens": req.judge_max_tokens,
            "judge_temperature": req.judge_temperature,
        }
        self.store.record_battle(
            BattleRecord(
                model_a=battle.pairing.model_a,
                model_b=battle.pairing.model_b,
                settings=settings,
                conversation_a=[question, {"role": "assistant", "content": a.text}],
                conversation_b=[question, {"role": "assistant", "content": b.text}],
                stats_a=[a.stats],
                stats_b=[b.stats],
                sha256_a=self.sha256.get(battle.pairing.model_a),
                sha256_b=self.sha256.get(battle.pairing.model_b),
                source="judge",
                session=self.session,
                status="voted" if outcome else "no_verdict",
                vote=outcome,
                voter=req.voter,
                tstamp=time.time(),
                detail=detail,
            )
        )

    def _seed_ratings(self) -> list[SeedRatings]:
        battles = [b for b in self.store.battles(self.request.voter) if b.session == self.session]
        out = []
        for seed in self.request.seeds:
            votes = [
                Vote(b.model_a, b.model_b, b.vote)
                for b in battles
                if b.vote is not None and (b.detail or {}).get("seed") == seed
            ]
            if len({v.model_a for v in votes} | {v.model_b for v in votes}) >= 2:
                out.append(SeedRatings(seed, len(votes), fit_ratings(votes)))
        return out


def _count(summary: JudgeSummary, judgement: Judgement) -> None:
    summary.battles += 1
    if judgement.outcome is None:
        summary.no_verdict += 1
    else:
        summary.votes += 1
        summary.disagreements += not judgement.consistent
    for verdict in (judgement.first, judgement.second):
        if verdict in ("A", "B"):
            summary.decisive_verdicts += 1
            summary.first_picks += verdict == "A"


def _generate(
    engine: Engine, messages: list[Message], params: GenerationParams
) -> tuple[str, dict[str, Any]]:
    parts: list[str] = []
    stats: dict[str, Any] = {"finish_reason": "error"}
    for chunk in engine.stream_chat(messages, params):
        parts.append(chunk.text)
        if chunk.stats is not None:
            stats = chunk.stats.to_json()
    return "".join(parts), stats


def _judge_text(judge: Engine, messages: list[Message], params: GenerationParams) -> str:
    """The judge's reply; a pair of answers too long for its context gets no verdict (kept as text)."""
    try:
        return _generate(judge, messages, params)[0]
    except ContextOverflowError as exc:
        return f"(no verdict: {exc})"
