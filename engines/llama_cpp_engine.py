"""The in-process llama.cpp engine (llama-cpp-python).

We drive llama-cpp-python at the token level instead of through `create_chat_completion`:
- the chat template is rendered by us in a sandbox (engines/templates.py), so the template in use is
  always known and shown, never llama-cpp-python's silent "llama-2" fallback;
- we own the stop logic (end-of-generation tokens, stop strings, max tokens, cancellation), the
  timings (perf_counter around the real token stream) and the incremental UTF-8 decoding.
Every heavy call goes through ctypes, which releases the GIL, so two engines in two threads really
run at the same time.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engines.base import (
    Chunk,
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationParams,
    GenerationRequest,
    GenerationResult,
    LoadOptions,
    Message,
    NoteSink,
    OptionScore,
    ShouldStop,
    Stats,
    TemplateInUse,
    failed_result,
    generate_one_by_one,
)
from engines.loading import LOAD_LOCK
from engines.templates import ChatTemplate, template_for_model
from engines.threads import split_threads
from engines.weights import (
    Placement,
    choose,
    configured_choice,
    cpu_report,
    placed,
    unexpected_buffers,
    weight_buffers,
)
from models.info import ModelInfo

if TYPE_CHECKING:
    from engines.llama_batch import BatchPlan

# llama.cpp's own sampling defaults for the knobs GenerationParams does not expose.
_TOP_K = 40
_MIN_P = 0.05
_CTX_PAD = 256


# ggml_log_level in the llama.cpp that llama-cpp-python 0.3.36 vendors (ggml.h): NONE 0, DEBUG 1,
# INFO 2, WARN 3, ERROR 4, CONT 5. (llama-cpp-python's _logger.py still has the older numbering,
# which is why its handler prints warnings to stderr even with verbose=False.)
_LOG_ERROR, _LOG_CONT = 4, 5
# While a thread loads a model: .errors (list[str]) gets its error lines, .lines (list[str]) all of it.
_log_state = threading.local()
_log_callback: Any = None  # kept referenced: llama.cpp holds a pointer to it


def _capture_llama_log() -> None:
    """Route llama.cpp's log to us: nothing reaches the terminal (it would scribble over the TUI),
    the error lines written while a thread loads a model become part of its EngineError, and the
    whole load log is kept for that load (which weight buffers llama.cpp used: see `load_llama`).

    llama-cpp-python's own handler prints error-level lines to stderr even with verbose=False.
    """
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:
        lines = getattr(_log_state, "lines", None)
        if lines is not None:
            lines.append(text.decode("utf-8", "replace"))
        errors = getattr(_log_state, "errors", None)
        if errors is None:
            return
        if level == _LOG_ERROR or (level == _LOG_CONT and getattr(_log_state, "in_error", False)):
            errors.append(text.decode("utf-8", "replace"))
        if level != _LOG_CONT:
            _log_state.in_error = level == _LOG_ERROR

    _log_callback = callback
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))


@dataclass(frozen=True)
class LoadedWeights:
    """How a load placed the weights: the placement asked for and what llama.cpp's log says it did."""

    placement: Placement
    buffers: dict[str, float]  # weight buffer type -> MiB ("CPU_Mapped", "CPU_REPACK", "AMX", ...)
    log: tuple[str, ...] = ()  # llama.cpp's whole load log, never printed

    def describe(self) -> str:
        sizes = ", ".join(f"{name} {mib:.{0 if mib >= 10 else 2}f} MiB"
                          for name, mib in sorted(self.buffers.items()))
        return f"{self.placement.mode} ({sizes or 'no buffers reported'})"


def load_llama(path: str | os.PathLike[str], weights: str | Placement | None = None, **llama_kwargs: Any
               ) -> tuple[Any, LoadedWeights]:
    """A `llama_cpp.Llama` for `path`, its weights placed as `weights` says; every load goes here.

    `weights` is a choice ("auto", "all", "no-amx", "plain": see engines/weights.py), a decided
    Placement, or None for the user's configured choice (config.toml, else "auto"). The load log is
    read (never printed) to check the placement held; if llama.cpp still used a buffer type the
    placement rules out, the model is loaded again with extra buffer types off, and the returned
    placement says so. Raises EngineError with llama.cpp's own error lines.
    """
    from llama_cpp import Llama

    if weights is None:
        weights = configured_choice()[0]
    placement = weights if isinstance(weights, Placement) else choose(weights)
    llama_kwargs.setdefault("verbose", False)
    _capture_llama_log()
    _log_state.errors = []
    try:
        with LOAD_LOCK:  # one load at a time in the process: see engines/loading.py
            llm, loaded = _load_placed(Llama, str(path), placement, llama_kwargs)
            wrong = unexpected_buffers(loaded.placement, loaded.buffers, cpu_report().extra_bufts or ())
            if wrong:  # the placement did not hold: never run a model that way
                llm.close()
                reason = (f"{placement.reason}; but llama.cpp still used {', '.join(wrong)}, so extra "
                          "buffer types are off")
                llm, loaded = _load_placed(Llama, str(path), Placement(placement.choice, "plain", reason),
                                           llama_kwargs)
        return llm, loaded
    except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
        reason = " ".join("".join(_log_state.errors).split()) or str(exc)
        raise EngineError(f"llama.cpp could not load {path}: {reason}") from exc
    finally:
        _log_state.errors = None


def _load_placed(llama_class: Any, path: str, placement: Placement, kwargs: dict[str, Any]
                 ) -> tuple[Any, LoadedWeights]:
    _log_state.lines = []
    try:
        with placed(placement) as effective:
            llm = llama_class(model_path=path, **kwargs)
        log = tuple("".join(_log_state.lines).splitlines())
    finally:
        _log_state.lines = None
    return llm, LoadedWeights(effective, weight_buffers(log), log)


def _describe_file(path: Path) -> ModelInfo:
    from models.describe import describe  # reads the GGUF header without loading weights

    return describe(path)


class LlamaCppEngine(Engine):
    """One GGUF model loaded in this process; serves one caller at a time."""

    supports_loglik = True

    def __init__(self, model: ModelInfo | str | os.PathLike[str], options: LoadOptions | None = None) -> None:
        self._info = model if isinstance(model, ModelInfo) else _describe_file(Path(model))
        if self._info.path is None:
            raise EngineError(f"{self._info.name} has no local file to load")
        self._path = Path(self._info.path)
        self._options = options or LoadOptions()
        origin = self._path.name
        if self._info.chat_template:  # fail on a broken template before spending time on weights
            ChatTemplate(self._info.chat_template, "gguf", origin=origin)
        self._threads = self._options.n_threads or split_threads(1)[0]
        self._llm = self._load()
        # llama-cpp-python sizes its token buffer by the requested n_ctx, llama.cpp its context by
        # the padded one; the smaller is what we can really use.
        self._n_ctx = min(self._llm.n_ctx(), len(self._llm.input_ids))
        self._busy = threading.Lock()  # held by the one request being served
        # Guards _closed and _close_pending together with taking or giving back _busy, so a close()
        # that finds the engine busy and a request that ends at that moment agree on who frees the model.
        self._state = threading.Lock()
        self._closed = False
        self._close_pending = False
        self._seeds = random.Random(self._options.seed)  # seeds for requests that name none
        from engines.llama_batch import LAYOUT

        self.batch_layout = LAYOUT  # KV layout of batched generation (perf/gen_batch.py compares both)

        model_ = self._llm._model
        bos_id, eos_id = model_.token_bos(), model_.token_eos()
        self._bos_id = bos_id
        self._add_bos = bool(model_.add_bos_token()) and bos_id >= 0
        self._chat = template_for_model(
            self._llm.metadata.get("tokenizer.chat_template"),
            bos_token=model_.token_get_text(bos_id) if bos_id >= 0 else "",
            eos_token=model_.token_get_text(eos_id) if eos_id >= 0 else "",
            origin=origin,
        )
        self._stop_ids = self._end_of_turn_ids(eos_id, model_.token_eot())
        self._pieces: dict[int, bytes] = {}  # token -> bytes; detokenizing one token costs a ctypes call
        import llama_cpp

        self._is_eog = llama_cpp.llama_vocab_is_eog
        self._vocab = model_.vocab
        # SentencePiece vocabularies spell a word start as a leading space; drop it at the reply start.
        self._strip_first_space = model_.vocab_type() == llama_cpp.LLAMA_VOCAB_TYPE_SPM

    # --- loading -------------------------------------------------------------------------------

    def _load(self) -> Any:
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EngineError(f"llama-cpp-python is not importable: {exc}") from exc
        llm, self.weights = self._new_llama(self._options)
        return llm

    def _new_llama(self, opts: LoadOptions) -> tuple[Any, LoadedWeights]:
        return load_llama(
            self._path,
            opts.weights,
            n_ctx=_padded_context(opts.n_ctx),
            n_threads=self._threads,
            n_threads_batch=self._threads,
            n_gpu_layers=opts.n_gpu_layers,
            seed=opts.seed,
            logits_all=False,
        )

    def _end_of_turn_ids(self, eos_id: int, eot_id: int) -> frozenset[int]:
        ids = {i for i in (eos_id, eot_id) if i >= 0}
        for marker in self._chat.end_of_turn_markers:
            tokens = self._llm.tokenize(marker.encode(), add_bos=False, special=True)
            if len(tokens) == 1:
                ids.add(tokens[0])
        return frozenset(ids)

    # --- description -------------------------------------------------------------------------

    def describe(self) -> ModelInfo:
        return self._info

    @property
    def template(self) -> TemplateInUse:
        return self._chat.in_use

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def threads(self) -> int:
        return self._threads

    # --- prompts ---------------------------------------------------------------------------------

    def render_chat(self, messages: Sequence[Message]) -> str:
        return self._chat.render(messages, add_generation_prompt=True)

    def _tokenize_prompt(self, prompt: str) -> list[int]:
        # special=True turns the template's control markers into their tokens. The BOS is added only
        # when the vocabulary asks for one and the template did not already write it.
        tokens = self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if self._add_bos and (not tokens or tokens[0] != self._bos_id):
            tokens.insert(0, self._bos_id)
        return tokens

    def count_chat_tokens(self, messages: Sequence[Message]) -> int:
        self._check_open()
        return len(self._tokenize_prompt(self.render_chat(messages)))

    # --- generation ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError(f"{self._info.name}: the engine was closed")

    def _acquire(self) -> None:
        with self._state:
            self._check_open()
            if not self._busy.acquire(blocking=False):
                raise EngineError(
                    f"{self._info.name} is busy with another request (one engine serves one caller at a time)"
                )

    def _release(self) -> None:
        with self._state:
            free, self._close_pending = self._close_pending, False
            if not free:
                self._busy.release()
                return
        try:  # close() came while we were busy and left the freeing to us: free before letting go
            self._free()
        finally:
            self._busy.release()

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._llm.detokenize([token])
            self._pieces[token] = piece
        return piece

    def stream_chat(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        should_stop: ShouldStop | None = None,
    ) -> Iterator[Chunk]:
        start = time.perf_counter()
        self._acquire()
        try:
            yield from self._stream_locked(messages, params, should_stop, start)
        finally:
            self._release()

    def _stream_locked(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        should_stop: ShouldStop | None,
        start: float,
    ) -> Iterator[Chunk]:
        prompt = self._tokenize_prompt(self.render_chat(messages))
        self._check_fits(len(prompt))
        greedy = params.temperature <= 0
        self._llm.set_seed(self._seed_for(params))
        tokens = self._llm.generate(
            prompt,
            temp=0.0 if greedy else params.temperature,
            top_p=params.top_p,
            top_k=_TOP_K,
            min_p=_MIN_P,
            repeat_penalty=1.0,
        )
        progress = self._progress(params, len(prompt), start)
        try:
            while progress.finish is None:
                if should_stop is not None and should_stop():
                    progress.finish = "cancelled"
                    break
                text = progress.take(next(tokens), time.perf_counter())
                if text:
                    yield Chunk(text=text)
        finally:
            tokens.close()  # leaves llama's state consistent; the next call reuses the prompt prefix
        rest = progress.flush()
        if rest:
            yield Chunk(text=rest)
        yield Chunk(stats=progress.stats(time.perf_counter()))

    def _fits(self, n_prompt: int) -> bool:
        """A prompt of `n_prompt` tokens leaves room for at least one reply token."""
        return n_prompt + 1 <= self.n_ctx

    def _check_fits(self, n_prompt: int) -> None:
        if not self._fits(n_prompt):
            raise ContextOverflowError(
                f"{self._info.name}: the prompt is {n_prompt} tokens and the context window is "
                f"{self.n_ctx}, which leaves no room for a reply (shorten the conversation or raise --ctx)"
            )

    def _budget(self, params: GenerationParams, n_prompt: int) -> int:
        """Tokens a reply may take: its limit, or what the context has left after the prompt."""
        return min(params.max_tokens, self.n_ctx - n_prompt)

    def _seed_for(self, params: GenerationParams) -> int:
        return params.seed if params.seed is not None else self._seeds.randrange(2**31)

    def _progress(self, params: GenerationParams, n_prompt: int, start: float) -> ReplyProgress:
        """The stop logic of one reply (shared by the single stream and the batched path)."""
        stop_ids, is_eog, vocab = self._stop_ids, self._is_eog, self._vocab
        return ReplyProgress(
            ReplyText(tuple(params.stop) + self._chat.stop_strings, self._strip_first_space),
            budget=self._budget(params, n_prompt),
            prompt_tokens=n_prompt,
            is_end=lambda token: token in stop_ids or is_eog(vocab, token),
            piece=self._piece,
            start=start,
        )

    # --- many replies at once ------------------------------------------------------------------

    def generate_many(
        self,
        requests: Sequence[GenerationRequest],
        parallel: int = 1,
        should_stop: ShouldStop | None = None,
        on_note: NoteSink | None = None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        """Up to `parallel` replies decoded together in one context (engines/llama_batch.py).

        With `parallel` 1, a single request, or no memory for two sequences, the requests run one
        after another through `stream_chat`. Greedy batched replies equal the one-at-a-time ones token
        for token on f32 weights; quantized weights may round differently (see llama_batch.py).
        """
        from engines.llama_batch import plan_batch

        self._check_open()
        if parallel > 1 and len(requests) > 1:
            prompts = [self._tokenize_prompt(self.render_chat(r.messages)) for r in requests]
            fitting = [i for i, p in enumerate(prompts) if self._fits(len(p))]
            plan = plan_batch(
                [prompts[i] for i in fitting],
                [self._budget(requests[i].params, len(prompts[i])) for i in fitting],
                parallel,
                self._batch_bytes,
                name=self._info.name,
                layout=self.batch_layout,
            )
            if plan.note and on_note is not None:
                on_note(plan.note)
            if plan.slots > 1:
                yield from self._generate_batched(requests, prompts, plan, should_stop)
                return
        yield from generate_one_by_one(self, requests, should_stop)

    def _generate_batched(
        self,
        requests: Sequence[GenerationRequest],
        prompts: list[list[int]],
        plan: BatchPlan,
        should_stop: ShouldStop | None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        from engines.llama_batch import BatchJob, run_batch

        start = time.perf_counter()
        self._acquire()
        try:
            jobs = []
            for index, (request, prompt) in enumerate(zip(requests, prompts, strict=True)):
                try:
                    self._check_fits(len(prompt))
                except ContextOverflowError as exc:
                    yield index, failed_result(exc, time.perf_counter() - start)
                    continue
                params = request.params
                sampler = _sampler_chain(params, self._seed_for(params))
                jobs.append(BatchJob(index, prompt, sampler, self._progress(params, len(prompt), start)))
            yield from run_batch(self._llm, plan, jobs, should_stop)
        finally:
            self._release()

    def _batch_bytes(self, n_ctx: int, n_ubatch: int) -> int:
        """Memory a batch context of `n_ctx` cells takes beyond the loaded weights (KV + compute)."""
        from models.memory import estimate_memory

        estimate = estimate_memory(self._info, n_ctx, n_ubatch)
        return estimate.kv_cache + estimate.compute

    # --- scoring -------------------------------------------------------------------------------

    def score_options(self, context: str, options: Sequence[str]) -> list[OptionScore]:
        return self.score_many([(context, options)])[0]

    def score_many(self, requests: Sequence[tuple[str, Sequence[str]]]) -> list[list[OptionScore]]:
        from engines.llama_loglik import score_requests  # owned by the benchmarks work

        self._acquire()
        try:
            return score_requests(self._llm, requests)
        finally:
            self._release()

    # --- resources -----------------------------------------------------------------------------

    def set_threads(self, n_threads: int) -> None:
        """Takes effect at the next decode; safe while a stream runs (llama.cpp reads it per batch)."""
        import llama_cpp

        self._check_open()
        n = max(int(n_threads), 1)
        llama_cpp.llama_set_n_threads(self._llm.ctx, n, n)
        self._llm.n_threads = self._llm.n_threads_batch = n
        self._threads = n

    def close(self) -> None:
        """Free the model now, or when the request in progress ends (freeing under it would crash)."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            if not self._busy.acquire(blocking=False):
                self._close_pending = True  # the request's _release frees it
                return
        try:
            self._free()
        finally:
            self._busy.release()

    def _free(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()


def _sampler_chain(params: GenerationParams, seed: int) -> Any:
    """A llama.cpp sampler chain that picks tokens as `Llama.generate` does in `_stream_locked`.

    llama-cpp-python 0.3.36 builds (`Llama._init_sampler`): penalties (a no-op at repeat_penalty 1.0,
    so left out here), then greedy at temperature 0, else top_k, typical (1.0: a no-op), top_p,
    min_p, temperature and a seeded dist. Each batched sequence gets its own chain, hence its own
    random state: a seeded reply samples the same tokens whether it runs alone or in a batch.
    """
    from llama_cpp import _internals

    chain = _internals.LlamaSampler()
    if params.temperature <= 0:
        chain.add_greedy()
    else:
        chain.add_top_k(_TOP_K)
        chain.add_typical(1.0, 1)
        chain.add_top_p(params.top_p, 1)
        chain.add_min_p(_MIN_P, 1)
        chain.add_temp(params.temperature)
        chain.add_dist(seed)
    return chain


def _padded_context(n_ctx: int) -> int:
    """llama.cpp rounds the context up to a multiple of 256 (0 means the model's trained length)."""
    return n_ctx if n_ctx <= 0 else -(-n_ctx // _CTX_PAD) * _CTX_PAD


class ReplyProgress:
    """Where one reply stands, token by token: its text, its budget, why it finished, its timings.

    `take` is fed each sampled token. Generation ends at an end-of-generation token (not counted,
    not shown), at a stop string (ReplyText cuts it), or when `budget` tokens were produced; then
    `finish` is set. The single stream and the batched generator both use it, so they stop alike.
    """

    def __init__(
        self,
        reply: ReplyText,
        *,
        budget: int,
        prompt_tokens: int,
        is_end: Callable[[int], bool],
        piece: Callable[[int], bytes],
        start: float,
    ) -> None:
        self.reply = reply
        self.budget = budget
        self.prompt_tokens = prompt_tokens
        self._is_end = is_end
        self._piece = piece
        self.start = start  # the clock of ttft/total; a batch resets it when the reply gets a slot
        self.produced = 0
        self.ttft = self.last = 0.0
        self.finish: str | None = None if budget > 0 else "length"

    def take(self, token: int, now: float) -> str:
        """The text this token adds (maybe empty); sets `finish` when the reply is over."""
        if not self.ttft:
            self.ttft = now - self.start
        if self._is_end(token):
            self.finish = "stop"
            return ""
        self.produced += 1
        self.last = now - self.start
        text = self.reply.feed(self._piece(token))
        if self.reply.stopped:
            self.finish = "stop"
        elif self.produced >= self.budget:
            self.finish = "length"
        return text

    def flush(self) -> str:
        return self.reply.flush()

    def stats(self, now: float) -> Stats:
        ttft = self.ttft or (now - self.start)
        return Stats(self.prompt_tokens, self.produced, ttft, max(self.last, ttft), self.finish or "length")


class ReplyText:
    """Turns the bytes of generated tokens into text that is safe to show.

    A multi-byte UTF-8 character may be split across tokens (emoji, CJK): the incremental decoder
    holds the partial bytes until the character is whole. Text that may be the beginning of a stop
    string is held back too, and once a stop string appears, it and everything after it are dropped.
    """

    def __init__(self, stops: Sequence[str] = (), strip_leading_space: bool = False) -> None:
        self._stops = tuple(s for s in stops if s)
        self._hold_max = max((len(s) for s in self._stops), default=0)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # decoded text held back because it may start a stop string
        self._strip_space = strip_leading_space
        self.stopped = False

    def feed(self, piece: bytes) -> str:
        """The text that can be shown after this token (maybe empty)."""
        if self.stopped:
            return ""
        text = self._decoder.decode(piece)
        if self._strip_space and text:
            # SentencePiece marks a word start with a space; the reply's first word needs none.
            text, self._strip_space = text.removeprefix(" "), False
        if not self._stops:
            return text
        pending = self._pending + text
        cut = min((i for i in (pending.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return pending[:cut]
        keep = self._held_suffix(pending)
        self._pending = pending[len(pending) - keep :] if keep else ""
        return pending[: len(pending) - keep]

    def flush(self) -> str:
        """What is still held when the generation ends (not after a stop string)."""
        if self.stopped:
            return ""
        rest, self._pending = self._pending + self._decoder.decode(b"", final=True), ""
        return rest

    def _held_suffix(self, text: str) -> int:
        """Length of the longest end of `text` that could still grow into a stop string."""
        for n in range(min(len(text), self._hold_max - 1), 0, -1):
            tail = text[-n:]
            if any(s.startswith(tail) for s in self._stops):
                return n
        return 0
