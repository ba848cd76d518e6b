"""What the chat screen knows, without Textual: pane settings, turns, history fitting, stats text.

Kept free of widgets so the rules (which turns a model sees, how a long conversation is cut to fit
the context window, how stats read) are plain functions that tests and the export share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engines.base import ContextOverflowError, GenerationParams, Message, Stats
from models.weights_choice import WeightsChoice

Side = Literal["left", "right"]
PANES: tuple[Side, Side] = ("left", "right")

# Finish reasons whose answer the model may see again in later turns; a cancelled or failed
# answer is shown but not fed back (the user usually resends the prompt they got back).
KEPT_FINISH_REASONS = ("stop", "length")


class PaneSettings(BaseModel):
    """Sampling and context settings of one pane (validated where the user types them)."""

    model_config = ConfigDict(frozen=True)

    system_prompt: str = ""
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(512, ge=1, le=32768)
    seed: int | None = Field(None, ge=0)
    n_ctx: int = Field(4096, ge=64, le=131072)
    gpu_layers: int = Field(0, ge=-1, le=10_000)  # layers offloaded to a GPU build; -1 = all
    weights: WeightsChoice = "auto"  # extra CPU buffer types llama.cpp may use (engines/weights.py)

    def generation_params(self) -> GenerationParams:
        return GenerationParams(
            max_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p, seed=self.seed
        )


@dataclass
class PaneTurn:
    """One prompt and the answer one pane gave to it."""

    index: int
    prompt: str
    model: str = ""
    answer: str = ""
    stats: Stats | None = None
    finish_reason: str | None = None  # None while the answer is being written
    error: str | None = None
    notice: str | None = None  # e.g. "2 oldest turns left out to fit the context"
    settled: bool = False
    # UI-side timing, used when the engine's own stats never arrive (cancel, error).
    started_at: float = 0.0
    first_text_at: float | None = None
    tokens_seen: int = 0
    conversation_id: int | None = None  # where the answer is saved (fixed when the turn starts)

    @property
    def kept_in_history(self) -> bool:
        return self.finish_reason in KEPT_FINISH_REASONS


def history_pairs(turns: Sequence[PaneTurn]) -> list[tuple[str, str]]:
    """(prompt, answer) pairs a pane's model sees as its past conversation."""
    return [(t.prompt, t.answer) for t in turns if t.kept_in_history]


def build_messages(system_prompt: str, pairs: Sequence[tuple[str, str]], prompt: str) -> list[Message]:
    messages: list[Message] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    for user, assistant in pairs:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": prompt})
    return messages


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[Message]
    dropped_turns: int
    prompt_tokens: int
    max_tokens: int  # the reply budget that still fits after the prompt


def answer_reserve(n_ctx: int, max_tokens: int) -> int:
    """Room kept for the reply when deciding what history fits.

    A quarter of the window at most, so a large max_tokens never pushes out the whole history.
    """
    return max(1, min(max_tokens, n_ctx // 4))


def fit_to_context(
    count_tokens: Callable[[Sequence[Message]], int],
    system_prompt: str,
    pairs: Sequence[tuple[str, str]],
    prompt: str,
    n_ctx: int,
    max_tokens: int,
) -> FittedPrompt:
    """Drop the oldest turns until the prompt plus room for a reply fits in `n_ctx`.

    Raises ContextOverflowError when even the system prompt and the new prompt alone do not fit.
    """
    reserve = answer_reserve(n_ctx, max_tokens)
    tokens = 0
    for dropped in range(len(pairs) + 1):
        messages = build_messages(system_prompt, pairs[dropped:], prompt)
        tokens = count_tokens(messages)
        if tokens + reserve <= n_ctx:
            return FittedPrompt(messages, dropped, tokens, max(1, min(max_tokens, n_ctx - tokens)))
    raise ContextOverflowError(
        f"context full: the prompt takes {tokens} tokens and the context holds {n_ctx} "
        f"(with {reserve} kept for the answer); shorten it or raise the context size (F2)"
    )


def format_seconds(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 100:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s"


def format_stats(stats: Stats) -> str:
    """The line under an answer: TTFT · tokens/s · tokens · elapsed · finish reason."""
    parts = [
        f"TTFT {format_seconds(stats.ttft_s)}",
        f"{stats.tokens_per_s:.1f} tok/s",
        f"{stats.completion_tokens} tokens",
        format_seconds(stats.total_s),
        stats.finish_reason,
    ]
    return " · ".join(parts)


def stats_to_json(stats: Stats | None) -> dict[str, Any] | None:
    return None if stats is None else stats.to_json()


def stats_from_json(data: dict[str, Any] | None) -> Stats | None:
    if not data:
        return None
    return Stats(
        prompt_tokens=int(data.get("prompt_tokens", 0)),
        completion_tokens=int(data.get("completion_tokens", 0)),
        ttft_s=float(data.get("ttft_s", 0.0)),
        total_s=float(data.get("total_s", 0.0)),
        finish_reason=str(data.get("finish_reason", "stop")),
    )
