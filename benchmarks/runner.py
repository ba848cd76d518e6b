"""Run suites on models into the results store, item by item as each finishes, reporting progress.

Order: one model at a time, all of its suites, then the next model, each model with every core.
Why not two models at once: on a laptop both would fight over the same cores (measured here: two
SmolLM2 engines at 2 threads each on 2 cores ran at half speed or worse), memory would hold both, and
each model's latency and tokens/s would depend on what the other was doing. Sequential runs give
each model the whole machine, so its timings mean something, and the scorecard compares like with
like. Loading each model once and running all its suites also avoids reloading between suites.

Resuming: each finished item is committed with its cache key (model file sha256, suite version, item
id, prompt hash, method, settings); a rerun of the same command finds the unfinished run, reuses
every stored item and computes only the rest. Log-likelihood items are scored a few at a time in one
llama.cpp batch, so a kill loses at most that small batch. Generated items run `parallel` at a time
(several sequences per llama.cpp decode, or requests in flight to a server: `Engine.generate_many`),
each stored the moment it finishes, so a kill loses only the ones in flight.

This module is the orchestration (models, suites, resume, the run's status); one model on one suite
is a `benchmarks.task.SuiteTask`.
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
from benchmarks.sampling import stratified_sample
from benchmarks.store import ResultsStore
from benchmarks.suites import Item, Suite, load_suite
from benchmarks.task import METHODS as METHOD_KINDS
from benchmarks.task import SuiteTask
from engines.base import Engine, LoadOptions
from engines.parallel import DEFAULT_PARALLEL
from models.errors import DuelError

METHODS = tuple(METHOD_KINDS)

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
    weights: str | None = None  # extra CPU buffer types llama.cpp may use; None: config.toml, else auto
    parallel: int = DEFAULT_PARALLEL  # generated items in flight at once (llama.cpp batch, remote requests)

    def settings(self) -> dict[str, Any]:
        """What makes two runs the same run (threads, weight layout and parallel change speed, not
        what is asked; a run resumed with another --parallel reuses every stored item)."""
        data = asdict(self)
        for speed_only in ("threads", "weights", "parallel"):
            data.pop(speed_only)
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
        if request.parallel < 1:
            raise DuelError("--parallel must be at least 1")
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
        self.parallel = request.parallel
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
                  "weights": req.weights, "parallel": req.parallel}
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
                task = SuiteTask(
                    self,
                    engine,
                    model_ref,
                    model_key,
                    suite,
                    selections[suite.name],
                    method=req.method,
                    shots=req.shots,
                    max_tokens=req.max_tokens,
                )
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
