"""Messages the chat workers and widgets send each other (Textual messages as dataclasses).

Workers run in threads and talk to the UI only through these: they never touch widgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engines.base import Stats, TemplateInUse
from models.info import ModelInfo
from tui.chat_state import PaneTurn, Side


@dataclass
class AnswerText(Message):
    """A batch of streamed text for one turn (batched in the worker: a bounded message rate)."""

    turn_index: int
    generation: int  # which run of that turn (regenerate starts a new one)
    text: str
    tokens: int  # chunks in this batch


@dataclass
class AnswerDone(Message):
    """The engine finished one answer; `stats` are the engine's own figures."""

    turn_index: int
    generation: int
    stats: Stats


@dataclass
class ContextTrimmed(Message):
    """Oldest turns were left out so the conversation fits the model's context window."""

    turn_index: int
    generation: int
    dropped_turns: int
    prompt_tokens: int
    n_ctx: int


@dataclass
class LoadProgress(Message):
    """Progress of preparing a model file (e.g. assembling the bundled Qwen)."""

    load_id: int
    done: int
    total: int
    label: str


@dataclass
class ModelReady(Message):
    """A pane's engine finished loading."""

    load_id: int
    ref: str
    info: ModelInfo
    template: TemplateInUse
    n_ctx: int
    load_s: float


@dataclass
class TurnSettled(Message):
    """A pane's answer to a turn is final (stop, length, cancelled or error); bubbles to the screen."""

    pane: str
    turn: PaneTurn


@dataclass
class PaneModelChanged(Message):
    """A pane now runs another model; bubbles to the screen (remember the pair, save it)."""

    pane: Side
    ref: str


@dataclass
class PaneLoadFailed(Message):
    """A pane's model did not load (the pane shows why); bubbles to the screen."""

    pane: Side
    ref: str
    error: str
