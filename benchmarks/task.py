"""One model on one suite: prompts, cache lookups, scoring and storage of its items.

How an item is computed depends on the method, how a generated answer is scored on the task; both
are tables (`METHODS`, `ANSWER_SCORERS`) rather than branches, so a new task or method is one entry.
Every finished item goes through `SuiteTask.finish`, one at a time or many in flight: it stores the
item (one committed transaction), updates the running score and reports `ItemDone`, whatever order
items finish in. Call it from the thread the run runs in: the store's connection belongs to it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from benchmarks import events as ev
from benchmarks.parsing import parse_choice, parse_label, parse_number
from benchmarks.prompts import (
    MAX_TOKENS,
    ChatPrompt,
    LoglikPrompt,
    chat_prompt,
    exemplars_for,
    loglik_prompt,
    prompt_hash,
    sent_prompt,
)
from benchmarks.results import ItemResult, ItemScore, ResultRecord, SentPrompt
from benchmarks.scoring import score_loglik, score_parsed, score_summary, score_unanswered
from benchmarks.store import ResultsStore
from benchmarks.suites import Item, Suite
from engines.base import ContextOverflowError, Engine, GenerationRequest, Stats

#: Bumped when answer parsing or per-item scoring changes, so cached scores are recomputed.
SCORING_VERSION = "s1"
LOGLIK_CHUNK = 16  # items per llama.cpp scoring batch (and the most a kill can lose)

Prompt = LoglikPrompt | ChatPrompt


class RunContext(Protocol):
    """What a task needs of the run it belongs to (benchmarks.runner.BenchRunner)."""

    store: ResultsStore
    run_id: int
    computed_count: int
    cached_count: int
    parallel: int  # generated items in flight at once (engines that cannot batch run one at a time)

    def emit(self, event: ev.Event) -> None: ...
    def should_stop(self) -> bool: ...
    def sample_memory(self, model_ref: str) -> None: ...


@dataclass(frozen=True)
class Pending:
    """An item still to compute, with its prompt and cache key."""

    item: Item
    prompt: Prompt
    cache_key: str

    @property
    def prompt_hash(self) -> str:
        return prompt_hash(self.prompt)


class Scored(NamedTuple):
    score: ItemScore
    failed: bool  # no usable answer: unparseable, or an empty summary


# ----- scoring a generated answer, by task -------------------------------------------------------------
AnswerScorer = Callable[[Suite, Item, str], Scored]


def _parsed(pred: str | None, suite: Suite, item: Item) -> Scored:
    return Scored(score_parsed(pred, item.target, suite.manifest.metric), pred is None)


def _score_summary(suite: Suite, item: Item, text: str) -> Scored:
    summary = text.strip()
    return Scored(score_summary(item.target, summary, suite.manifest.metric), not summary)


ANSWER_SCORERS: dict[str, AnswerScorer] = {
    "classify": lambda suite, item, text: _parsed(parse_label(text, suite.labels), suite, item),
    "mc": lambda suite, item, text: _parsed(parse_choice(text, item.choices), suite, item),
    "math": lambda suite, item, text: _parsed(parse_number(text), suite, item),
    "summarize": _score_summary,
}


def score_answer(suite: Suite, item: Item, text: str) -> Scored:
    """A generated answer to `item`, parsed and scored as the suite's task says."""
    return ANSWER_SCORERS[suite.task](suite, item, text)


# ----- computing items, by method ----------------------------------------------------------------------
def _sha(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def run_loglik(task: SuiteTask, pending: Sequence[Pending]) -> bool:
    """Score options by log-likelihood, a few items per llama.cpp batch; False when stopped."""
    for start in range(0, len(pending), LOGLIK_CHUNK):
        if task.ctx.should_stop():
            return False
        task.loglik_chunk(pending[start : start + LOGLIK_CHUNK])
    return True


def run_generate(task: SuiteTask, pending: Sequence[Pending]) -> bool:
    """Generate an answer per item, up to the run's `parallel` at once where the engine can (several
    sequences per llama.cpp decode, several requests in flight to a server); each item is stored the
    moment it finishes. False when stopped: the items not finished store nothing (the next run does
    them)."""
    return task.generate(pending)


@dataclass(frozen=True)
class Method:
    prompt: Callable[[Suite, Item, list[Item], int], Prompt]  # (suite, item, exemplars, max tokens)
    compute: Callable[[SuiteTask, Sequence[Pending]], bool]
    generates: bool  # its settings include the token limit


METHODS: dict[str, Method] = {
    "loglik": Method(lambda s, i, exemplars, _: loglik_prompt(s, i, exemplars), run_loglik, generates=False),
    "generate": Method(chat_prompt, run_generate, generates=True),
}
LOGLIK_TASKS = ("classify", "mc")  # tasks whose answer is one of a few options


def choose_method(requested: str, task: str) -> str:
    """Log-likelihood where the task has options to score, generation otherwise."""
    return "loglik" if requested == "loglik" and task in LOGLIK_TASKS else "generate"


class SuiteTask:
    """One model x suite: prompts, cache lookups, scoring and storage for its items."""

    def __init__(
        self,
        ctx: RunContext,
        engine: Engine,
        model_ref: str,
        model_key: str,
        suite: Suite,
        items: list[Item],
        *,
        method: str,
        shots: int,
        max_tokens: int | None,
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.model_ref = model_ref
        self.model_key = model_key
        self.suite = suite
        self.items = items
        self.shots = shots
        self.method = choose_method(method, suite.task)
        if self.method == "loglik" and not engine.supports_loglik:
            ctx.emit(
                ev.Notice(
                    f"{model_ref} cannot score log-likelihoods; scoring {suite.name} by generation instead"
                )
            )
            self.method = "generate"
        self.kind = METHODS[self.method]
        self.max_tokens = max_tokens or MAX_TOKENS[suite.task]
        self.settings: dict[str, Any] = {
            "method": self.method,
            "shots": shots,
            "temperature": 0.0,
            "max_tokens": self.max_tokens if self.kind.generates else None,
            "scoring": SCORING_VERSION,
        }
        self.metric = suite.manifest.metric
        self.values: list[float] = []  # each finished item's value on the primary metric
        self.done = 0

    def prompt(self, item: Item) -> Prompt:
        exemplars = exemplars_for(self.suite, item, self.shots)
        return self.kind.prompt(self.suite, item, exemplars, self.max_tokens)

    def cache_key(self, item: Item, prompt: Prompt) -> str:
        return _sha(
            [
                self.model_key,
                self.suite.name,
                self.suite.content_version,
                item.id,
                prompt_hash(prompt),
                self.method,
                self.settings,
            ]
        )

    def running(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    def run(self) -> bool:
        """Score every item not cached yet; False when stopped early."""
        store, run_id = self.ctx.store, self.ctx.run_id
        store.record_suite(self.suite.manifest, self.suite.content_version)
        keyed = []
        for item in self.items:
            prompt = self.prompt(item)
            keyed.append(Pending(item, prompt, self.cache_key(item, prompt)))
        cached = store.cached(p.cache_key for p in keyed)
        hits = [(p.item.id, p.cache_key) for p in keyed if p.cache_key in cached]
        reused: tuple[ItemResult, ...] = ()
        if hits:
            store.link_cached(run_id, self.model_ref, self.suite.name, hits)
            linked = store.run_results(run_id, model_ref=self.model_ref, suite=self.suite.name)
            hit_keys = {key for _, key in hits}
            # Not a failed item of an earlier session of this run: that one is computed again below.
            reused = tuple(r for r in linked if r.cache_key in hit_keys)
        self.values += [r.score.value for r in reused]
        self.done = len(hits)
        self.ctx.cached_count += len(hits)
        total = len(self.items)
        self.ctx.emit(
            ev.TaskStarted(
                self.model_ref,
                self.suite.name,
                total,
                len(hits),
                self.method,
                self.metric,
                self.running(),
                reused,
            )
        )
        pending = [p for p in keyed if p.cache_key not in cached]
        finished = self.kind.compute(self, pending)
        self.ctx.emit(
            ev.TaskFinished(self.model_ref, self.suite.name, self.done, total, self.metric, self.running())
        )
        return finished and self.done == total

    # ----- finishing items (one path for every method, in any order) -----------------------------------
    def finish(
        self,
        pending: Pending,
        output: str | None,
        scored: Scored,
        latency_s: float,
        stats: Stats | None = None,
        error: str | None = None,
    ) -> ItemResult:
        """Store one finished item (committed), count it in the running score and report it."""
        # A failed item is stored under its own key, so a later run tries it again.
        key = pending.cache_key if error is None else f"{pending.cache_key}:error:{self.ctx.run_id}"
        result = ItemResult(
            model_ref=self.model_ref,
            suite=self.suite.name,
            item_id=pending.item.id,
            method=self.method,
            target=pending.item.target,
            output=output,
            score=scored.score,
            failed=scored.failed or error is not None,
            error=error,
            latency_s=latency_s,
            prompt_tokens=stats.prompt_tokens if stats else None,
            completion_tokens=stats.completion_tokens if stats else None,
            cache_key=key,
            sent=self.sent(pending.prompt),
        )
        record = ResultRecord(
            result, self.model_key, self.suite.content_version, pending.prompt_hash, self.settings
        )
        self.ctx.store.add_result(self.ctx.run_id, record)
        self.done += 1
        self.ctx.computed_count += 1
        self.values.append(result.score.value)
        self.ctx.sample_memory(self.model_ref)
        self.ctx.emit(ev.ItemDone(result, self.done, len(self.items), self.running()))
        return result

    def sent(self, prompt: Prompt) -> SentPrompt:
        """What the model was given: the prompt, and for chat the text its template made of it (only
        where this engine renders the template itself: a server applies its own)."""
        if isinstance(prompt, LoglikPrompt) or self.engine.template.source == "server":
            return sent_prompt(prompt)
        return sent_prompt(prompt, self.engine.render_chat(prompt.messages))

    def finish_text(self, pending: Pending, text: str, latency_s: float, stats: Stats | None) -> ItemResult:
        """A generated answer, scored as the task says, then stored and reported."""
        return self.finish(pending, text, score_answer(self.suite, pending.item, text), latency_s, stats)

    def finish_unanswered(self, pending: Pending, error: str, latency_s: float) -> ItemResult:
        """An item the engine could not answer (its prompt did not fit): stored as failed."""
        score = score_unanswered(pending.item.target, self.metric)
        return self.finish(pending, None, Scored(score, True), latency_s, error=error)

    # ----- the methods' steps ---------------------------------------------------------------------------
    def loglik_chunk(self, chunk: Sequence[Pending]) -> None:
        requests = []
        for one in chunk:
            assert isinstance(one.prompt, LoglikPrompt)
            requests.append((one.prompt.context, one.prompt.options))
        start = time.perf_counter()
        try:
            all_scores = self.engine.score_many(requests)
        except ContextOverflowError as exc:
            # Score the items one by one so only the ones that do not fit fail.
            if len(chunk) > 1:
                for one in chunk:
                    self.loglik_chunk([one])
                return
            self.finish_unanswered(chunk[0], str(exc), time.perf_counter() - start)
            return
        # Items of one batch share its time; per-item latency is the batch time divided evenly.
        latency = (time.perf_counter() - start) / len(chunk)
        for one, scores in zip(chunk, all_scores, strict=True):
            assert isinstance(one.prompt, LoglikPrompt)
            score = score_loglik(scores, one.prompt.answers, one.item.target, self.metric)
            self.finish(one, json.dumps(score.logprobs), Scored(score, False), latency)

    def generate(self, pending: Sequence[Pending]) -> bool:
        """Generate every pending item through `Engine.generate_many`; False when stopped before all
        of them finished. Results arrive in the order they finish and are finished (stored, scored,
        reported) here, on the run's thread, one at a time."""
        if not pending:
            return True
        requests = []
        for one in pending:
            assert isinstance(one.prompt, ChatPrompt)
            requests.append(GenerationRequest(one.prompt.messages, one.prompt.params))
        finished = 0
        # An item's time is the run's time since the previous item finished: the items in flight
        # together share the run's time instead of each counting all of it, so total time, tok/s
        # and value/s describe what the run cost (as log-likelihood batches share theirs).
        last = time.perf_counter()
        results = self.engine.generate_many(
            requests,
            parallel=self.ctx.parallel,
            should_stop=self.ctx.should_stop,
            on_note=lambda text: self.ctx.emit(ev.Notice(text)),
        )
        for index, result in results:
            one = pending[index]
            if result.finish_reason == "cancelled":
                continue  # stopped mid-item: nothing stored, the next run generates it again
            finished += 1
            now = time.perf_counter()
            # One at a time: the item's own time, as the engine measured it.
            share = result.stats.total_s if self.ctx.parallel <= 1 else now - last
            last = now
            if result.error is not None:  # this item alone failed (did not fit, a remote request failed)
                self.finish_unanswered(one, str(result.error), share)
                continue
            self.finish_text(one, result.text, share, result.stats)
        return finished == len(pending)
