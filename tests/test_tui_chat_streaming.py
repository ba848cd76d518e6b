"""Pilot tests of the chat screen: streaming into both panes, batching, cancelling, errors, layout."""

from __future__ import annotations

import time

from textual.widgets import Markdown
from tui_support import (
    WIDE,
    Opener,
    RecordingEngine,
    make_app,
    notice_text,
    send,
    stats_text,
    wait_ready,
    wait_settled,
    wait_until,
)

from tui.chat_state import PaneSettings
from tui.screens.settings_screen import SettingsResult
from tui.widgets.chat_pane import DRAW_EVERY_S, TEXT_BATCH_S, ChatPane
from tui.widgets.turn_view import TurnView


async def test_send_streams_into_both_panes_at_once() -> None:
    opener = Opener()
    app = make_app("scripted:alpha?delay=0.06&tokens=30", "scripted:beta?delay=0.08&tokens=30", opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "Explain a hash map.")
        left, right = app.chat.panes
        # Both panes show partial text while neither has finished: they stream concurrently.
        await wait_until(
            pilot,
            lambda: all(p.turns[0].answer and not p.turns[0].settled for p in (left, right)),
            what="both panes streaming",
        )
        assert app.chat.prompt_box.value == ""
        await wait_settled(pilot)
        for pane, name in ((left, "alpha"), (right, "beta")):
            engine = opener.engine(name)
            assert engine.calls == [[{"role": "user", "content": "Explain a hash map."}]]
            expected = "".join(engine.reply_for(engine.calls[0], engine.params[0]))
            turn = pane.turns[0]
            assert turn.answer == expected and turn.finish_reason == "stop"
            assert pane.query(TurnView)[0].query_one(".answer", Markdown).source == expected
            line = stats_text(pane)
            assert "TTFT" in line and "tok/s" in line and "30 tokens" in line and line.endswith("stop")
        assert left.turns[0].answer != right.turns[0].answer
    # The engines ran at the same time (neither waited for the other to finish).
    alpha, beta = opener.engine("alpha").token_times, opener.engine("beta").token_times
    assert alpha[0] < beta[-1] and beta[0] < alpha[-1]


class ThreadsEngine(RecordingEngine):
    """Records every thread count it is given, with how many text chunks it had produced by then."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.thread_calls: list[tuple[int, int]] = []

    def set_threads(self, n_threads: int) -> None:
        self.thread_calls.append((n_threads, len(self.token_times)))
        super().set_threads(n_threads)


async def test_a_pane_that_finishes_hands_its_threads_to_the_pane_still_answering() -> None:
    """As `duel chat` does: the pair gives the slower model the finished one's core, mid-answer."""
    opener = Opener(ThreadsEngine)
    app = make_app("scripted:quick?delay=0.01&tokens=4", "scripted:slow?delay=0.03&tokens=40", opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        slow = opener.engine("slow")
        assert slow.thread_calls == [(1, 0)], "its share at load (the pair's threads are 1 and 1)"
        await send(pilot, "Explain a hash map.")
        await wait_settled(pilot)
        shares = [n for n, _ in slow.thread_calls[1:]]
        assert 1 in shares, f"both panes answering share the two threads: {slow.thread_calls}"
        handed = [made for n, made in slow.thread_calls[1 + shares.index(1) :] if n == 2]
        assert handed and handed[0] < 40, f"no thread handed over mid-answer: {slow.thread_calls}"
        assert slow.threads == 2

        # Alone (the other pane idle), a pane answers with both threads from its start.
        await app.chat.panes[1].regenerate_last()
        await wait_settled(pilot)
        assert slow.thread_calls[-1][0] == 2


async def test_text_reaches_the_screen_in_batches(monkeypatch) -> None:
    deliveries: list[int] = []
    draws: list[tuple[int, str]] = []
    original_text, original_write = ChatPane.on_answer_text, TurnView.write

    async def counting_text(self, message):  # noqa: ANN001
        deliveries.append(message.tokens)
        await original_text(self, message)

    async def counting_write(self, text):  # noqa: ANN001
        draws.append((id(self), text))
        await original_write(self, text)

    monkeypatch.setattr(ChatPane, "on_answer_text", counting_text)
    monkeypatch.setattr(TurnView, "write", counting_write)
    app = make_app("scripted:fast?delay=0.002&tokens=300", "scripted:other?delay=0.002&tokens=300")
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        started = time.monotonic()
        await send(pilot, "go")
        await wait_settled(pilot)
        elapsed = time.monotonic() - started
        answers = [p.turns[0].answer for p in app.chat.panes]
    assert sum(deliveries) == 600  # every token arrived...
    # ...in far fewer messages than tokens: at most one per TEXT_BATCH_S per pane (plus first and last)...
    assert len(deliveries) <= 2 * (elapsed / TEXT_BATCH_S + 2) and len(deliveries) < 100
    # ...and the Markdown is redrawn at most once per DRAW_EVERY_S per pane, plus the first text.
    assert len(draws) <= 2 * (elapsed / DRAW_EVERY_S + 2)
    drawn = {view: "".join(text for v, text in draws if v == view) for view, _ in draws}
    assert sorted(drawn.values()) == sorted(answers)  # nothing lost or repeated on the way


async def test_each_pane_keeps_its_own_history() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "first")
        await wait_settled(pilot)
        await send(pilot, "second")
        await wait_settled(pilot, turns=2)
        for pane, name in zip(app.chat.panes, ("alpha", "beta"), strict=True):
            second_call = opener.engine(name).calls[1]
            assert second_call == [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": pane.turns[0].answer},
                {"role": "user", "content": "second"},
            ]
        assert opener.engine("alpha").calls[1][1] != opener.engine("beta").calls[1][1]


async def test_escape_cancels_both_and_gives_the_prompt_back() -> None:
    opener = Opener()
    app = make_app(
        "scripted:slow?delay=0.05&tokens=400", "scripted:slower?delay=0.08&tokens=400", opener=opener
    )
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "a long answer please")
        await wait_until(pilot, lambda: all(p.turns[0].answer for p in app.chat.panes), what="text")
        await pilot.press("escape")
        for pane in app.chat.panes:
            assert pane.turns[0].finish_reason == "cancelled"
            assert "cancelled" in stats_text(pane)
            assert not pane.busy
        assert app.chat.prompt_box.value == "a long answer please"
        lengths = [len(p.turns[0].answer) for p in app.chat.panes]
        await pilot.pause(0.4)
        assert [len(p.turns[0].answer) for p in app.chat.panes] == lengths  # nothing more arrives
        assert all(len(p.turns[0].answer.split()) < 400 for p in app.chat.panes)
        # The engines noticed (their worker threads end) and the next prompt works, without the
        # cancelled answer in its history.
        short = PaneSettings(max_tokens=3)
        await app.chat.apply_settings(SettingsResult(short, short, True))
        await send(pilot, "short one")
        await wait_settled(pilot, turns=2, timeout=60)
        assert opener.engine("slow").calls[-1] == [{"role": "user", "content": "short one"}]


async def test_send_while_answering_is_refused_with_a_message() -> None:
    app = make_app("scripted:slow?delay=0.05&tokens=100", "scripted:b?delay=0.05&tokens=100")
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "one")
        await send(pilot, "two")
        assert [len(p.turns) for p in app.chat.panes] == [1, 1]
        assert app.chat.prompt_box.value == "two"  # kept for later
        assert any("Still answering" in str(n.message) for n in app._notifications)
        await pilot.press("escape")


async def test_error_in_one_pane_while_the_other_completes() -> None:
    app = make_app("scripted:good?delay=0.01", "scripted:bad?delay=0.01&fail=stream")
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "hello")
        await wait_settled(pilot)
        left, right = app.chat.panes
        assert left.turns[0].finish_reason == "stop" and len(left.turns[0].answer.split()) == 24
        assert right.turns[0].finish_reason == "error"
        assert "scripted failure mid-stream" in notice_text(right)
        assert right.turns[0].answer  # the text written before the failure stays
        assert "error" in stats_text(right)
        # The failing pane can be used again (the next prompt goes to both).
        await send(pilot, "again")
        await wait_settled(pilot, turns=2)
        assert left.turns[1].finish_reason == "stop"


async def test_context_overflow_drops_oldest_turns_with_a_notice() -> None:
    opener = Opener()
    app = make_app("scripted:tiny?ctx=60&tokens=12", "scripted:roomy?tokens=12", opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        for i in range(4):
            await send(pilot, f"question number {i}")
            await wait_settled(pilot, turns=i + 1)
        tiny, roomy = app.chat.panes
        assert all(t.finish_reason in ("stop", "length") for t in tiny.turns)
        assert "oldest turn" in notice_text(tiny) and "60-token context" in notice_text(tiny)
        last_call = opener.engine("tiny").calls[-1]
        assert len(last_call) < 7 and last_call[-1]["content"] == "question number 3"
        assert not roomy.turns[-1].notice and len(opener.engine("roomy").calls[-1]) == 7
        # A prompt that cannot fit even alone is refused in that pane, with the reason.
        await send(pilot, " ".join(["word"] * 80))
        await wait_settled(pilot, turns=5)
        assert tiny.turns[-1].finish_reason == "error" and "context full" in tiny.turns[-1].error
        assert roomy.turns[-1].finish_reason == "stop"


async def test_narrow_terminal_stacks_the_panes() -> None:
    app = make_app()
    async with app.run_test(size=(80, 40)) as pilot:
        await wait_ready(pilot)
        left, right = app.chat.panes
        assert app.chat.has_class("-narrow")
        assert left.region.x == right.region.x and left.region.y < right.region.y
        assert left.region.width == right.region.width >= 70
    wide = make_app()
    async with wide.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        left, right = wide.chat.panes
        assert left.region.y == right.region.y and left.region.x < right.region.x


async def test_transcript_follows_new_text_only_once_it_overflows() -> None:
    app = make_app("scripted:long?delay=0.002&tokens=400", "scripted:short?tokens=5")
    async with app.run_test(size=(80, 40)) as pilot:
        await wait_ready(pilot)
        await send(pilot, "go")
        await wait_settled(pilot)
        await pilot.pause(0.2)
        long_pane, short_pane = (p.transcript for p in app.chat.panes)
        # The long answer overflowed: the pane shows its end.
        assert long_pane.max_scroll_y > 0 and long_pane.scroll_y == long_pane.max_scroll_y
        # The short one did not: it starts at the top, not pinned to the bottom of the pane.
        assert not short_pane.is_anchored and short_pane.scroll_y == 0
        first_turn = app.chat.pane("right").query(TurnView)[0]
        assert first_turn.region.y == short_pane.region.y
