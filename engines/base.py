"""The one small interface every inference back-end implements.

The TUI and the benchmark runner talk only to `Engine`. An engine serves one caller at a time;
callers that run two engines at once give each a share of the CPU threads (see `threads.py`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from models.errors import DuelError
from models.info import ModelInfo

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
ShouldStop = Callable[[], bool]

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
