"""The one small interface every inference back-end implements.

The TUI and the benchmark runner talk only to `Engine`. An engine serves one caller at a time;
callers that run two engines at once give each a share of the CPU threads (see `threads.py`).
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from models.errors import DuelError
from models.info import ModelInfo

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
ShouldStop = Callable[[], bool]
NoteSink = Callable[[str], None]  # receives one-line notes a caller should show (e.g. as ev.Notice)

FINISH_REASONS = ("stop", "length", "cancelled", "error")


class ContextOverflowError(DuelError):
    """The prompt does not fit in the context window."""


class EngineError(DuelError):
    """The back-end failed in a way the user should be told about (server down, load failure...)."""


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stats:
    """Timing and token counts for one generation, as the caller saw them."""

    prompt_tokens: int
    completion_tokens: int
    ttft_s: float  # request start -> first generated token
    total_s: float  # request start -> last token
    finish_reason: str  # one of FINISH_REASONS

    @property
    def generation_s(self) -> float:
        return max(self.total_s - self.ttft_s, 0.0)

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first token (prompt processing excluded)."""
        if self.completion_tokens <= 1 or self.generation_s <= 0:
            return 0.0
        return (self.completion_tokens - 1) / self.generation_s

    @property
    def prompt_tokens_per_s(self) -> float:
        """Prompt processing speed (time to first token includes it)."""
        return self.prompt_tokens / self.ttft_s if self.ttft_s > 0 else 0.0

    def to_json(self) -> dict[str, float | int | str]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_s": round(self.ttft_s, 4),
            "total_s": round(self.total_s, 4),
            "tokens_per_s": round(self.tokens_per_s, 2),
            "prompt_tokens_per_s": round(self.prompt_tokens_per_s, 2),
            "finish_reason": self.finish_reason,
        }


@dataclass(frozen=True)
class Chunk:
    """A piece of streamed text; the last chunk of a stream carries `stats` (and maybe no text)."""

    text: str = ""
    stats: Stats | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """One reply of a batch: the conversation so far and the sampling settings of this reply alone."""

    messages: tuple[Message, ...]
    params: GenerationParams


@dataclass(frozen=True)
class GenerationResult:
    """A finished reply of `generate_many`.

    `stats.finish_reason` is "stop", "length", "cancelled" (stopped before it finished: the text is
    partial or empty and should not be stored) or "error" (this request alone failed: `error` says
    why, e.g. a ContextOverflowError, or a remote request that failed after its retries).
    """

    text: str
    stats: Stats
    error: EngineError | None = None

    @property
    def finish_reason(self) -> str:
        return self.stats.finish_reason


@dataclass(frozen=True)
class OptionScore:
    """Log-likelihood of one option continuing a context."""

    logprob: float  # sum of the option tokens' log-probabilities
    n_tokens: int
    n_chars: int
    is_greedy: bool = False  # every option token was the argmax

    @property
    def logprob_per_char(self) -> float:
        return self.logprob / max(self.n_chars, 1)


@dataclass(frozen=True)
class TemplateInUse:
    """Which chat template an engine actually renders with (shown to users, never silent)."""

    source: str  # "gguf" (the model's own), "builtin:<name>", "server", "none"
    text: str | None = None


@dataclass(frozen=True)
class LoadOptions:
    n_ctx: int = 4096
    n_threads: int | None = None  # None: the engine's fair share of the machine
    n_gpu_layers: int = 0
    seed: int = 0
    force: bool = False  # load even if the memory estimate says it will not fit
    # Which extra CPU buffer types llama.cpp may use (engines/weights.py); None: config.toml's
    # [engine] weights, else "auto". Every local load honours the user's setting that way.
    weights: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Engine(abc.ABC):
    """A loaded model that can chat and score options."""

    #: True when `score_options` is available; callers fall back to generation otherwise.
    supports_loglik: bool = False

    @abc.abstractmethod
    def describe(self) -> ModelInfo: ...

    @property
    @abc.abstractmethod
    def template(self) -> TemplateInUse: ...

    @property
    @abc.abstractmethod
    def n_ctx(self) -> int: ...

    @abc.abstractmethod
    def stream_chat(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        should_stop: ShouldStop | None = None,
    ) -> Iterator[Chunk]:
        """Yield text chunks, then a final chunk with `Stats`.

        The engine polls `should_stop` between tokens and ends with finish_reason "cancelled";
        a caller may also just stop iterating (closing the generator frees the context).
        Raises ContextOverflowError before generating if the prompt does not fit.
        """

    @abc.abstractmethod
    def count_chat_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the rendered prompt of `messages` takes (generation prompt included)."""

    @abc.abstractmethod
    def render_chat(self, messages: Sequence[Message]) -> str:
        """The prompt text the model's chat template makes of `messages`, ready for the reply."""

    def generate_many(
        self,
        requests: Sequence[GenerationRequest],
        parallel: int = 1,
        should_stop: ShouldStop | None = None,
        on_note: NoteSink | None = None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        """Generate a reply for every request; yield `(index, result)` as each one finishes.

        Engines that can run `parallel` requests at once (several sequences in one llama.cpp
        context, several HTTP requests in flight) do, so results may come out of order; every index
        is yielded exactly once unless the caller stops iterating. A reply equals what `stream_chat`
        gives for the same request (batched greedy decoding may differ in rounding: see the engine).
        `should_stop` is polled between steps; once it is true, the requests not finished come back
        with finish reason "cancelled". A failure of one request (its prompt does not fit, a remote
        request that failed after its retries) comes back as that request's result with finish
        reason "error"; a failure of the engine itself raises. `on_note` receives one-line notes a
        user should see (e.g. "ran 4 sequences at once instead of 8: not enough free memory").

        This default runs the requests one after another through `stream_chat`.
        """
        yield from generate_one_by_one(self, requests, should_stop)

    def score_options(self, context: str, options: Sequence[str]) -> list[OptionScore]:
        """Log-likelihood of each option after `context` (raw text, no template applied)."""
        raise EngineError(f"{self.describe().name} cannot score log-likelihoods")

    def score_many(self, requests: Sequence[tuple[str, Sequence[str]]]) -> list[list[OptionScore]]:
        """Score several (context, options) requests; engines may batch and reorder internally."""
        return [self.score_options(context, options) for context, options in requests]

    def set_threads(self, n_threads: int) -> None:  # noqa: B027 - optional for remote engines
        """Change the CPU threads this engine may use (no-op for engines without local compute)."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Free the model. The engine is unusable afterwards."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CANCELLED_BEFORE_START = Stats(0, 0, 0.0, 0.0, "cancelled")


def failed_result(error: EngineError, elapsed_s: float, prompt_tokens: int = 0) -> GenerationResult:
    return GenerationResult("", Stats(prompt_tokens, 0, elapsed_s, elapsed_s, "error"), error)


def collect_reply(
    engine: Engine, request: GenerationRequest, should_stop: ShouldStop | None = None
) -> GenerationResult:
    """Run one request through `stream_chat` and gather its text; a prompt that does not fit is the
    request's own failure (finish reason "error"), any other failure raises."""
    start = time.perf_counter()
    pieces: list[str] = []
    stats: Stats | None = None
    try:
        for chunk in engine.stream_chat(request.messages, request.params, should_stop):
            pieces.append(chunk.text)
            if chunk.stats is not None:
                stats = chunk.stats
    except ContextOverflowError as exc:
        return failed_result(exc, time.perf_counter() - start)
    if stats is None:  # an engine that broke the contract: say so rather than invent numbers
        raise EngineError(f"{engine.describe().name} ended a reply without its statistics")
    return GenerationResult("".join(pieces), stats)


def generate_one_by_one(
    engine: Engine, requests: Sequence[GenerationRequest], should_stop: ShouldStop | None = None
) -> Iterator[tuple[int, GenerationResult]]:
    """`generate_many` for engines that run one request at a time (in order)."""
    for index, request in enumerate(requests):
        if should_stop is not None and should_stop():
            result = GenerationResult("", CANCELLED_BEFORE_START)
        else:
            result = collect_reply(engine, request, should_stop)
        yield index, result
