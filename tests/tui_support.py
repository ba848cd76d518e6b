"""Helpers for the TUI tests: a recording scripted engine, an engine opener that keeps what it
opened, and a way to wait for the app without sleeping a fixed time."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from engines.base import Chunk, GenerationParams, LoadOptions, Message, ShouldStop
from engines.scripted import ScriptedEngine
from models.info import ModelInfo
from tui.app import DuelApp
from tui.chat_state import PaneSettings
from tui.pair import ModelPair
from tui.widgets.chat_pane import ChatPane
from tui.widgets.turn_view import TurnView

WIDE = (140, 40)


class RecordingEngine(ScriptedEngine):
    """The scripted engine, also keeping the params of every request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params: list[GenerationParams] = []
        self.token_times: list[float] = []  # time.monotonic() of every text chunk it produced

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams, should_stop: ShouldStop | None = None
    ) -> Iterator[Chunk]:
        self.params.append(params)
        for chunk in super().stream_chat(messages, params, should_stop):
            if chunk.text:
                self.token_times.append(time.monotonic())
            yield chunk


class FrozenStatsEngine(RecordingEngine):
    """Replaces the measured timings with fixed ones, so snapshots do not change between runs."""

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams, should_stop: ShouldStop | None = None
    ) -> Iterator[Chunk]:
        for chunk in super().stream_chat(messages, params, should_stop):
            if chunk.stats is not None:
                chunk = replace(
                    chunk,
                    stats=replace(
                        chunk.stats,
                        ttft_s=0.125,
                        total_s=0.125 + 0.02 * max(chunk.stats.completion_tokens - 1, 0),
                    ),
                )
            yield chunk


MARKDOWN_REPLY = """A **hash map** stores key/value pairs:

- keys are *hashed* to pick a bucket
- lookups take `O(1)` on average

```python
ages = {"ada": 36}
```
"""


class MarkdownEngine(FrozenStatsEngine):
    """Answers with fixed Markdown (heading-free), streamed word by word, to show rendering."""

    def reply_for(self, messages: Sequence[Message], params: GenerationParams) -> list[str]:
        pieces = MARKDOWN_REPLY.split(" ")
        tokens = [(" " if i else "") + piece for i, piece in enumerate(pieces)]
        return tokens[: self.reply_tokens] if self.reply_tokens < len(tokens) else tokens


class Opener:
    """Stands in for engines.factory.open_engine: scripted refs only, remembering every engine."""

    def __init__(self, engine_class: type[RecordingEngine] = RecordingEngine) -> None:
        self.engine_class = engine_class
        self.opened: list[tuple[str, LoadOptions | None, RecordingEngine]] = []
        self.gate: threading.Event | None = None  # when set, loads wait for it (progress tests)
        self.lock = threading.Lock()

    def __call__(self, ref: str, options: LoadOptions | None = None, progress: Callable | None = None):
        if progress is not None:
            progress(50, 100, "assembling")
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        if progress is not None:
            progress(100, 100, "assembling")
        engine = self.engine_class.from_reference(ref)
        with self.lock:
            self.opened.append((ref, options, engine))
        return engine

    def engine(self, name: str) -> RecordingEngine:
        """The most recently opened engine whose scripted name is `name`."""
        for _, _, engine in reversed(self.opened):
            if engine.describe().name == name:
                return engine
        raise AssertionError(f"no engine named {name} was opened: {[r for r, _, _ in self.opened]}")


def model_list() -> list[ModelInfo]:
    return [
        ModelInfo(
            "qwen2.5-coder-0.5b",
            None,
            "qwen2",
            "Qwen2.5",
            parameters=494_032_768,
            quantization="Q4_K_M",
            source="bundled",
        ),
        ModelInfo(
            "smollm2-135m",
            None,
            "llama",
            "SmolLM2",
            parameters=134_515_008,
            quantization="Q4_1",
            source="bundled",
        ),
        ModelInfo(
            "mistral-tiny",
            None,
            "llama",
            "Mistral",
            parameters=7_241_732_096,
            quantization="Q4_K_M",
            source="registry",
        ),
    ]


AVX2_SYSTEM_INFO = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | REPACK = 1 | "


def weights_on_an_avx2_cpu(choice: str) -> str:
    """The settings screen's weights note as on an AVX2-only CPU, so screens read the same everywhere."""
    from engines.weights import REPACK, CpuReport, decide

    return decide(choice, CpuReport(AVX2_SYSTEM_INFO, (REPACK,))).summary()


def make_app(
    left: str = "scripted:alpha?delay=0.005",
    right: str = "scripted:beta?delay=0.01",
    *,
    opener: Opener | None = None,
    settings: tuple[PaneSettings, PaneSettings] | None = None,
    pairs: list[tuple[str, str]] | None = None,
    **kwargs: Any,
) -> DuelApp:
    pair = ModelPair(
        left,
        right,
        settings=settings,
        open_engine=opener or Opener(),
        threads=(1, 1),
        remember=(lambda a, b: pairs.append((a, b))) if pairs is not None else None,
    )
    return DuelApp(pair, list_models=model_list, **{"describe_weights": weights_on_an_avx2_cpu, **kwargs})


async def wait_until(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until `condition()` holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def wait_ready(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, DuelApp)
    await wait_until(
        pilot,
        lambda: (
            app.is_screen_installed("chat")
            and all(p.info is not None or p.load_error for p in app.chat.panes)
        ),
        what="both models loaded",
    )


async def wait_settled(pilot: Pilot, turns: int = 1, timeout: float = 10.0) -> None:
    app = pilot.app
    assert isinstance(app, DuelApp)
    await wait_until(
        pilot,
        lambda: all(len(p.turns) >= turns and all(t.settled for t in p.turns) for p in app.chat.panes),
        timeout,
        what=f"{turns} settled turns in both panes",
    )


async def send(pilot: Pilot, text: str) -> None:
    app = pilot.app
    assert isinstance(app, DuelApp)
    app.chat.prompt_box.focus()
    app.chat.prompt_box.value = text
    await pilot.press("enter")


def stats_text(pane: ChatPane, index: int = -1) -> str:
    """The stats line under an answer, as shown."""
    view = pane.query(TurnView)[index]
    return str(view.query_one(".stats", Static).render())


def notice_text(pane: ChatPane, index: int = -1) -> str:
    """The notice under an answer (context trimmed, error), as shown."""
    view = pane.query(TurnView)[index]
    return str(view.query_one(".notice", Static).render())


def screen_text(app: App) -> str:
    """Everything on the screen as plain text (the modal on top and what shows around it, toasts
    included), rendered the way `App.export_screenshot` renders it."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, record=True, legacy_windows=False
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
