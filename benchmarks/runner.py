"""Run suites on models, one item at a time into the results store, reporting progress as events.

Order: one model at a time, all of its suites, then the next model, each model with every core.
Why not two models at once: on a laptop both would fight over the same cores (measured here: two
SmolLM2 engines at 2 threads each on 2 cores ran at half speed or worse), memory would hold both, and
each model's latency and tokens/s would depend on what the other was doing. Sequential runs give
each model the whole machine, so its timings mean something, and the scorecard compares like with
like. Loading each model once and running all its suites also avoids reloading between suites.

Resuming: each finished item is committed with its cache key (model file sha256, suite version, item
id, prompt hash, method, settings); a rerun of the same command finds the unfinished run, reuses
every stored item and computes only the rest. Log-likelihood items are scored a few at a time in one
llama.cpp batch, so a kill loses at most that small batch.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks import events as ev
from benchmarks.builtin import BUILTIN_NAMES
from benchmarks.errors import SuiteDataError
from benchmarks.parsing import parse_choice, parse_label, parse_number
from benchmarks.prompts import (
    MAX_TOKENS,
    ChatPrompt,
    LoglikPrompt,
    chat_prompt,
    exemplars_for,
    loglik_prompt,
    prompt_hash,
)
from benchmarks.sampling import stratified_sample
from benchmarks.scoring import score_loglik, score_parsed, score_summary
from benchmarks.store import ResultRecord, ResultsStore
from benchmarks.suites import Item, Suite, load_suite
from engines.base import ContextOverflowError, Engine, LoadOptions
from models.errors import DuelError

METHODS = ("loglik", "generate")
LOGLIK_TASKS = ("classify", "mc")
#: Bumped when answer parsing or per-item scoring changes, so cached scores are recomputed.
SCORING_VERSION = "s1"
LOGLIK_CHUNK = 16  # items per llama.cpp scoring batch (and the most a kill can lose)

EventSink = Callable[[ev.Event], None]
StopCheck = Callable[[], bool]
EngineOpener = Callable[..., Engine]


@dataclass(frozen=True)
class BenchRequest:
    suites: tuple[str, ...]
    models: tuple[str, ...]
    limit: int | None = None
    seed: int = 0
    method: str = "loglik"
    shots: int = 0
    threads: int | None = None  # None: the engine's default (all cores for the one model running)
    n_ctx: int = 4096
    max_tokens: int | None = None  # overrides the per-task generation limit
    weights: str = "auto"  # extra CPU buffer types llama.cpp may use (engines/weights.py)

    def settings(self) -> dict[str, Any]:
        """What makes two runs the same run (threads and weight layout change speed, not answers)."""
        data = asdict(self)
        data.pop("threads")
        data.pop("weights")
        return data

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.settings(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    status: str
    computed: int
    cached: int
    stopped: bool


def expand_suites(names: Sequence[str]) -> tuple[str, ...]:
    """`all` stands for every built-in suite; duplicates are dropped, order kept."""
    out: list[str] = []
    for name in names:
        for expanded in BUILTIN_NAMES if name == "all" else (name,):
            if expanded not in out:
                out.append(expanded)
    return tuple(out)


def select_items(suite: Suite, limit: int | None, seed: int) -> list[Item]:
    stratify = suite.task in ("classify", "mc")
    items = stratified_sample(
        suite.items, limit, seed, (lambda i: i.target) if stratify else (lambda i: None)
    )
    if not items:
        raise SuiteDataError(f"suite '{suite.name}': no items left after --limit {limit}")
    return items


def validate_models(refs: Sequence[str]) -> None:
    """Fail on an unknown model before any suite runs (bundled models are assembled later, with progress)."""
    if not refs:
        raise DuelError("no models given (use -m MODEL, twice to compare two)")
    if len(set(refs)) != len(refs):
        raise DuelError("the same model is given twice")
    from models import bundled
    from models.resolve import resolve

    for ref in refs:
        if ref.startswith(("scripted:", "remote:")) or ref in bundled.BUNDLED:
            continue
        resolve(ref)


def _sha(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def model_identity(engine: Engine, store: ResultsStore) -> tuple[str, dict[str, Any]]:
    """(cache key part, identity shown on scorecards): file name, sha256, quantization, size..."""
    info = engine.describe()
    sha = info.sha256
    if info.path is not None and not sha:
        sha = store.file_sha256(info.path)
    key = sha or f"{info.source}:{info.name}"
    identity = {
        "name": info.name,
        "display_name": info.display_name,
        "file": info.path.name if info.path else None,
        "path": str(info.path) if info.path else None,
        "sha256": sha,
        "quantization": info.quantization,
        "architecture": info.architecture,
        "family": info.family,
        "parameters": info.parameters,
        "file_size": info.file_size or (info.path.stat().st_size if info.path and info.path.exists() else 0),
        "source": info.source,
        "template": engine.template.source,
    }
    return key, identity


def _peak_rss() -> int:
    import psutil

    # RSS, not tracemalloc: llama.cpp allocates outside Python's allocator.
    return int(psutil.Process().memory_info().rss)


class _Task:
    """One model x suite: prompts, cache lookups, scoring and storage for its items."""

    def __init__(
        self,
        runner: BenchRunner,
        engine: Engine,
        model_ref: str,
        model_key: str,
        suite: Suite,
        items: list[Item],
    ) -> None:
        self.r = runner
        self.engine = engine
        self.model_ref = model_ref
        self.model_key = model_key
        self.suite = suite
        self.items = items
        req = runner.request
        self.method = "loglik" if req.method == "loglik" and suite.task in LOGLIK_TASKS else "generate"
        if self.method == "loglik" and not engine.supports_loglik:
            runner.emit(
                ev.Notice(
                    f"{model_ref} cannot score log-likelihoods; scoring {suite.name} by generation instead"
                )
            )
            self.method = "generate"
        self.max_tokens = req.max_tokens or MAX_TOKENS[suite.task]
        self.settings = {
            "method": self.method,
            "shots": req.shots,
            "temperature": 0.0,
            "max_tokens": self.max_tokens if self.method == "generate" else None,
            "scoring": SCORING_VERSION,
        }
        self.metric = suite.manifest.metric
        self.scores: list[float] = []
        self.done = 0

    def prompt(self, item: Item) -> LoglikPrompt | ChatPrompt:
        exemplars = exemplars_for(self.suite, item, self.r.request.shots)
        if self.method == "loglik":
            return loglik_prompt(self.suite, item, exemplars)
        return chat_prompt(self.suite, item, exemplars, self.max_tokens)

    def cache_key(self, item: Item, prompt: LoglikPrompt | ChatPrompt) -> str:
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
        return sum(self.scores) / len(self.scores) if self.scores else None

    def _primary(self, score: dict[str, Any]) -> float:
        return float(score.get("rougeL", score.get("correct", 0.0)))

    def run(self) -> bool:
        """Score every item not cached yet; False when stopped early."""
        store, run_id = self.r.store, self.r.run_id
        prepared = [(item, self.prompt(item)) for item in self.items]
        keyed = [(item, prompt, self.cache_key(item, prompt)) for item, prompt in prepared]
        cached = store.cached(k for _, _, k in keyed)
        hits = [(item.id, key) for item, _, key in keyed if key in cached]
        store.link_cached(run_id, self.model_ref, self.suite.name, hits)
        for _, key in hits:
            self.scores.append(self._primary(cached[key]["score"]))
        self.done = len(hits)
        self.r.cached_count += len(hits)
        total = len(self.items)
        self.r.emit(
            ev.TaskStarted(
                self.model_ref, self.suite.name, total, len(hits), self.method, self.metric, self.running()
            )
        )
        pending = [(item, prompt, key) for item, prompt, key in keyed if key not in cached]
        stopped = False
        if self.method == "loglik":
            for start in range(0, len(pending), LOGLIK_CHUNK):
                if self.r.should_stop():
                    stopped = True
                    break
                self._loglik_chunk(pending[start : start + LOGLIK_CHUNK])
        else:
            for item, prompt, key in pending:
                if self.r.should_stop() or not self._generate_one(item, prompt, key):
                    stopped = True
                    break
        self.r.emit(
            ev.TaskFinished(self.model_ref, self.suite.name, self.done, total, self.metric, self.running())
        )
        return not stopped and self.done == total

    def _store(
        self,
        item: Item,
        key: str,
        prompt_h: str,
        output: str | None,
        score: dict[str, Any],
        failed: bool,
        error: str | None,
        latency: float,
        prompt_tokens: int | None,
        completion_tokens: int | None,
    ) -> None:
        record = ResultRecord(
            cache_key=key,
            model_key=self.model_key,
            suite=self.suite.name,
            suite_version=self.suite.content_version,
            item_id=item.id,
            method=self.method,
            prompt_hash=prompt_h,
            settings=self.settings,
            target=item.target,
            output=output,
            score=score,
            failed=failed,
            error=error,
            latency_s=latency,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
        self.r.store.add_result(self.r.run_id, self.model_ref, record)
        self.done += 1
        self.r.computed_count += 1
        self.scores.append(self._primary(score))
        self.r.sample_memory(self.model_ref)
        self.r.emit(
            ev.ItemDone(
                self.model_ref,
                self.suite.name,
                item.id,
                self.done,
                len(self.items),
                failed,
                latency,
                self.metric,
                self.running(),
            )
        )

    def _loglik_chunk(self, chunk: list[tuple[Item, LoglikPrompt | ChatPrompt, str]]) -> None:
        requests = []
        for _, prompt, _ in chunk:
            assert isinstance(prompt, LoglikPrompt)
            requests.append((prompt.context, prompt.options))
        start = time.perf_counter()
        try:
            all_scores = self.engine.score_many(requests)
        except ContextOverflowError as exc:
            # Score the items one by one so only the ones that do not fit fail.
            if len(chunk) > 1:
                for one in chunk:
                    self._loglik_chunk([one])
                return
            item, prompt, key = chunk[0]
            self._store(
                item,
                f"{key}:error:{self.r.run_id}",
                prompt_hash(prompt),
                None,
                {"correct": 0, "pred": None},
                True,
                str(exc),
                time.perf_counter() - start,
                None,
                None,
            )
            return
        # Items of one batch share its time; per-item latency is the batch time divided evenly.
        latency = (time.perf_counter() - start) / len(chunk)
        for (item, prompt, key), scores in zip(chunk, all_scores, strict=True):
            assert isinstance(prompt, LoglikPrompt)
            score = score_loglik(scores, prompt.answers, item.target)
            output = json.dumps(score["logprobs"])
            self._store(item, key, prompt_hash(prompt), output, score, False, None, latency, None, None)

    def _generate_one(self, item: Item, prompt: LoglikPrompt | ChatPrompt, key: str) -> bool:
        assert isinstance(prompt, ChatPrompt)
        start = time.perf_counter()
        pieces: list[str] = []
        stats = None
        try:
            for chunk in self.engine.stream_chat(prompt.messages, prompt.params, self.r.should_stop):
                pieces.append(chunk.text)
                if chunk.stats is not None:
                    stats = chunk.stats
        except ContextOverflowError as exc:
            score = (
                score_summary(item.target, "")
                if self.suite.task == "summarize"
                else score_parsed(None, item.target)
            )
            score.pop("unparseable", None)
            self._store(
                item,
                f"{key}:error:{self.r.run_id}",
                prompt_hash(prompt),
                None,
                score,
                True,
                str(exc),
                time.perf_counter() - start,
                None,
                None,
            )
            return True
        if stats is not None and stats.finish_reason == "cancelled":
            return False  # stopped mid-item: nothing stored, the next run does it again
        text = "".join(pieces)
        latency = stats.total_s if stats is not None else time.perf_counter() - start
        task = self.suite.task
        if task == "summarize":
            score = score_summary(item.target, text.strip())
            failed = not text.strip()
        else:
            if task == "classify":
                pred = parse_label(text, self.suite.labels)
            elif task == "mc":
                pred = parse_choice(text, item.choices)
            else:
                pred = parse_number(text)
            score = score_parsed(pred, item.target)
            failed = pred is None
        self._store(
            item,
            key,
            prompt_hash(prompt),
            text,
            score,
            failed,
            None,
            latency,
            stats.prompt_tokens if stats else None,
            stats.completion_tokens if stats else None,
        )
        return True


class BenchRunner:
    def __init__(
        self,
        request: BenchRequest,
        *,
        on_event: EventSink | None = None,
        should_stop: StopCheck | None = None,
        open_engine: EngineOpener | None = None,
        store: ResultsStore | None = None,
    ) -> None:
        if request.method not in METHODS:
            raise DuelError(f"unknown method '{request.method}' (methods: {', '.join(METHODS)})")
        if request.shots < 0:
            raise DuelError("--shots must be 0 or more")
        if request.limit is not None and request.limit < 1:
            raise DuelError("--limit must be at least 1")
        self.request = request
        self._on_event = on_event
        self._should_stop = should_stop
        if open_engine is None:
            from engines.factory import open_engine as factory_open

            open_engine = factory_open
        self._open_engine = open_engine
        self._own_store = store is None
        self.store = store or ResultsStore()
        self.run_id = 0
        self.computed_count = 0
        self.cached_count = 0
        self._peaks: dict[str, int] = {}

    def emit(self, event: ev.Event) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def should_stop(self) -> bool:
        return bool(self._should_stop and self._should_stop())

    def sample_memory(self, model_ref: str) -> None:
        self._peaks[model_ref] = max(self._peaks.get(model_ref, 0), _peak_rss())

    def _flush_memory(self, model_ref: str) -> None:
        if model_ref in self._peaks:
            self.store.update_peak_rss(self.run_id, model_ref, self._peaks[model_ref])

    def run(self) -> RunOutcome:
        req = self.request
        suites = [load_suite(name) for name in expand_suites(req.suites)]
        if not suites:
            raise DuelError("no suites given (see `duel suites`)")
        validate_models(req.models)
        selections = {s.name: select_items(s, req.limit, req.seed) for s in suites}
        if req.shots and not any(s.task in ("classify", "mc", "math") for s in suites):
            self.emit(ev.Notice("--shots applies to classify, multiple-choice and math suites only"))
        config = {**req.settings(), "suites": [s.name for s in suites], "threads": req.threads,
                  "weights": req.weights}
        run, resumed = self.store.start_or_resume(req.fingerprint(), config)
        self.run_id = run.id
        plan = tuple(ev.TaskPlan(m, s.name, len(selections[s.name])) for m in req.models for s in suites)
        self.emit(ev.RunStarted(run.id, resumed, plan))
        complete = True
        stopped = False
        try:
            for model_ref in req.models:
                if self.should_stop():
                    stopped = True
                    complete = False
                    break
                if not self._run_model(model_ref, suites, selections):
                    complete = False
                    stopped = self.should_stop()
                    if stopped:
                        break
        finally:
            status = "complete" if complete else "partial"
            self.store.finish_run(self.run_id, status)
            self.emit(ev.RunFinished(self.run_id, status, self.computed_count, self.cached_count, stopped))
            if self._own_store:
                self.store.close()
        return RunOutcome(self.run_id, status, self.computed_count, self.cached_count, stopped)

    def _run_model(self, model_ref: str, suites: list[Suite], selections: dict[str, list[Item]]) -> bool:
        req = self.request
        self.emit(ev.ModelLoading(model_ref))
        start = time.perf_counter()

        def progress(done: int, total: int, label: str) -> None:
            self.emit(ev.ModelProgress(model_ref, done, total, label))

        options = LoadOptions(n_ctx=req.n_ctx, n_threads=req.threads, weights=req.weights)
        engine = self._open_engine(model_ref, options, progress=progress)
        try:
            load_s = time.perf_counter() - start
            model_key, identity = model_identity(engine, self.store)
            self.store.record_model(self.run_id, model_ref, model_key, identity, load_s)
            self.sample_memory(model_ref)
            self.emit(ev.ModelLoaded(model_ref, identity, load_s))
            all_done = True
            for suite in suites:
                if self.should_stop():
                    return False
                task = _Task(self, engine, model_ref, model_key, suite, selections[suite.name])
                if not task.run():
                    all_done = False
                    if self.should_stop():
                        return False
            return all_done
        finally:
            self._flush_memory(model_ref)
            engine.close()


def run_bench(
    request: BenchRequest,
    *,
    on_event: EventSink | None = None,
    should_stop: StopCheck | None = None,
    open_engine: EngineOpener | None = None,
    store: ResultsStore | None = None,
) -> RunOutcome:
    """Run (or resume) a benchmark; see BenchRunner. Raises DuelError for bad suites, models or options."""
    return BenchRunner(
        request, on_event=on_event, should_stop=should_stop, open_engine=open_engine, store=store
    ).run()
