"""The llama.cpp engine's lifetime across threads: one load lock for every caller, and a close that
lands while a stream is ending still frees the model. Runs on a tiny generated GGUF (no bundled model).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tiny_models import write_tiny_model

from engines.base import GenerationParams, LoadOptions
from engines.llama_cpp_engine import LlamaCppEngine
from engines.loading import one_load_at_a_time

HELLO = [{"role": "user", "content": "hello"}]
OPTIONS = LoadOptions(n_ctx=256, n_threads=1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model("qwen2", tmp_path_factory.mktemp("tiny") / "tiny-qwen2.gguf")


class RefusingLock:
    """A lock that runs `on_refused` (once) the moment a non-blocking acquire finds it taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.on_refused: Callable[[], None] | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        acquired = self._lock.acquire(blocking, timeout)
        if not acquired and self.on_refused is not None:
            hook, self.on_refused = self.on_refused, None
            hook()
        return acquired

    def release(self) -> None:
        self._lock.release()


def test_close_racing_the_end_of_a_stream_still_frees_the_model(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() finds the engine busy; the stream ends right then, before close() has asked for the
    model to be freed at the end of the stream. The model must be freed anyway (it used to leak)."""
    import llama_cpp

    freed: list[int] = []  # ids, not the objects: a Llama must not outlive the patch
    real_close = llama_cpp.Llama.close

    def close(llm: llama_cpp.Llama) -> None:
        freed.append(id(llm))
        real_close(llm)

    monkeypatch.setattr(llama_cpp.Llama, "close", close)

    engine = LlamaCppEngine(tiny, OPTIONS)
    llm = id(engine._llm)
    busy = RefusingLock()
    engine._busy = busy  # type: ignore[assignment]
    stream = engine.stream_chat(HELLO, GenerationParams(max_tokens=4, temperature=0.0))
    next(stream)  # the stream now holds the engine

    ender = threading.Thread(target=stream.close)  # the generation thread finishing its stream

    def end_the_stream_now() -> None:
        ender.start()
        ender.join(timeout=0.5)  # a correct engine makes this wait for close() instead

    busy.on_refused = end_the_stream_now
    engine.close()
    ender.join(timeout=10)
    assert not ender.is_alive()
    assert llm in freed, "the model was never freed"


def test_an_engine_load_waits_for_a_switch_holding_the_load_lock(tiny: Path) -> None:
    """The TUI's pane switch and the engine's own load use one lock, not two that overlap."""
    loaded = threading.Event()

    def load() -> None:
        LlamaCppEngine(tiny, OPTIONS).close()
        loaded.set()

    loader = threading.Thread(target=load)
    with one_load_at_a_time():
        loader.start()
        assert not loaded.wait(1.0), "a model loaded while a pane switch held the load lock"
    loader.join(timeout=30)
    assert loaded.is_set()


def test_waiting_for_the_load_lock_can_be_cancelled() -> None:
    from engines.loading import CancelledWhileWaiting

    stop = threading.Event()
    outcome: list[str] = []

    def wait_for_turn() -> None:
        try:
            with one_load_at_a_time(stop.is_set):
                outcome.append("got it")
        except CancelledWhileWaiting:
            outcome.append("cancelled")

    with one_load_at_a_time():
        waiter = threading.Thread(target=wait_for_turn)
        waiter.start()
        stop.set()
        waiter.join(timeout=5)
    assert outcome == ["cancelled"]
