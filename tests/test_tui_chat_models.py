"""Pilot tests of the chat screen's models: picking, loading with progress, failures, closing at exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.widgets import OptionList, Static
from tui_support import WIDE, Opener, RecordingEngine, make_app, send, wait_ready, wait_settled, wait_until

from tui.screens.help_screen import HelpScreen
from tui.screens.model_picker import ModelPickerScreen


async def test_ctrl_l_picks_a_model_for_the_focused_pane() -> None:
    opener = Opener()
    pairs: list[tuple[str, str]] = []
    app = make_app(opener=opener, pairs=pairs)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        app.chat.pane("right").transcript.focus()
        await pilot.pause()
        assert app.chat.active_pane.pane == "right"
        await pilot.press("ctrl+l")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen) and picker.pane == "right"
        await wait_until(pilot, lambda: picker.models is not None, what="model list")
        options = picker.query_one("#models", OptionList)
        assert options.option_count == 3
        await pilot.press(*"smol")
        assert options.option_count == 1
        assert options.get_option_at_index(0).id == "smollm2-135m"
        # A typed reference loads too.
        picker.query_one("#search").value = "scripted:gamma?delay=0.001"
        await pilot.pause()
        await pilot.press("enter")
        right = app.chat.pane("right")
        await wait_until(pilot, lambda: right.info is not None and right.info.name == "gamma", what="gamma")
        assert app.chat.pane("left").info.name == "alpha"
        assert pairs[-1] == ("scripted:alpha?delay=0.005", "scripted:gamma?delay=0.001")
        assert "gamma" in str(right.query_one("#model-line", Static).render())
        await send(pilot, "hi")
        await wait_settled(pilot)
        assert opener.engine("gamma").calls == [[{"role": "user", "content": "hi"}]]


async def test_loading_shows_progress_and_keeps_the_screen_responsive() -> None:
    opener = Opener()
    opener.gate = threading.Event()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        left = app.chat.pane("left")
        await wait_until(
            pilot,
            lambda: "assembling 50%" in str(left.query_one("#status-line", Static).render()),
            what="progress in the header",
        )
        assert left.model_loading and not left.loading and left.query_one(".load-progress").display
        await pilot.press("f1")  # the UI answers keys while the model loads
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await send(pilot, "queued while loading")
        assert left.busy
        opener.gate.set()
        await wait_settled(pilot)
        assert left.turns[0].finish_reason == "stop"
        assert not left.query_one(".load-progress").display


async def test_load_failure_shows_in_its_pane_only() -> None:
    pairs: list[tuple[str | None, str | None]] = []
    app = make_app("scripted:good", "scripted:broken?fail=load", pairs=pairs)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        left, right = app.chat.panes
        assert "scripted load failure" in right.load_error
        assert "failed to load" in str(right.query_one("#status-line", Static).render())
        notes = " ".join(str(n.render()) for n in right.query(".pane-note"))
        assert "Could not load scripted:broken?fail=load" in notes
        await send(pilot, "hi")
        await wait_settled(pilot)
        assert left.turns[0].finish_reason == "stop"
        assert right.turns[0].finish_reason == "error"
        assert "no model loaded" in right.turns[0].error and "ctrl+l" in right.turns[0].error
    assert pairs and pairs[-1] == ("scripted:good", None)  # the reference that failed is not remembered


async def test_prompt_sent_during_a_failing_load_explains_the_failure() -> None:
    opener = Opener()
    opener.gate = threading.Event()
    app = make_app("scripted:good", "scripted:broken?fail=load", opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, "are you there?")  # both models are still loading
        opener.gate.set()
        await wait_settled(pilot)
        left, right = app.chat.panes
        assert left.turns[0].finish_reason == "stop"
        assert right.turns[0].finish_reason == "error"
        assert "failed to load" in right.turns[0].error and "scripted load failure" in right.turns[0].error


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `condition` (from plain threads, once the app is gone) until it holds or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def all_closed(opener: Opener) -> bool:
    return all(engine.closed for _, _, engine in opener.opened)


async def test_ctrl_q_quits_and_closes_the_engines() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert eventually(lambda: all_closed(opener)) and len(opener.opened) == 2


async def test_quitting_during_a_stuck_answer_neither_waits_for_it_nor_leaks_its_model() -> None:
    """An answer that cannot notice its cancellation yet (a long llama.cpp decode) holds its engine.
    Quitting must not wait for it on the event loop, and the model is freed once it lets go."""
    streaming, release = threading.Event(), threading.Event()

    class StuckEngine(RecordingEngine):
        def stream_chat(self, messages, params, should_stop=None):  # noqa: ANN001, ANN201
            streaming.set()
            release.wait(30)
            yield from super().stream_chat(messages, params, should_stop)

    opener = Opener(StuckEngine)
    app = make_app(opener=opener)
    watchdog = threading.Timer(10, release.set)  # frees a quit that waits for the answer
    try:
        async with app.run_test(size=WIDE) as pilot:
            await wait_ready(pilot)
            await send(pilot, "hello")
            await wait_until(pilot, streaming.is_set, what="an answer in progress")
            watchdog.start()
            await pilot.press("ctrl+q")
        assert not release.is_set(), "quitting waited for the stuck answer"
    finally:
        release.set()
        watchdog.cancel()
    assert eventually(lambda: all_closed(opener)), "a model was never freed"


async def test_quitting_while_the_other_pane_loads_does_not_wait_for_the_load() -> None:
    """The other pane's model switch holds the load lock (here: a slow download). Quitting used to
    wait for it on the event loop, with no way to stop waiting."""
    opener = Opener()
    app = make_app(opener=opener)
    gate = threading.Event()
    watchdog = threading.Timer(8, gate.set)  # frees a quit that waits for the load
    try:
        async with app.run_test(size=WIDE) as pilot:
            await wait_ready(pilot)
            opener.gate = gate
            right = app.chat.pane("right")
            await right.load_model("scripted:gamma")
            await wait_until(
                pilot,
                lambda: "assembling 50%" in str(right.query_one("#status-line", Static).render()),
                what="the right pane's load in progress",
            )
            watchdog.start()
            await pilot.press("ctrl+q")
        assert not gate.is_set(), "quitting waited for a model load"
    finally:
        gate.set()
        watchdog.cancel()
    assert eventually(lambda: all_closed(opener)), "a model was never freed"
