"""Pilot tests of the chat screen: every key and flow of issue 3, driven by the scripted engine."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from textual.widgets import Markdown, OptionList, Static
from tui_support import Opener, RecordingEngine, make_app, send, wait_ready, wait_settled, wait_until

from engines.base import GenerationParams
from models import paths
from tui.chat_state import PaneSettings
from tui.conversation_store import ConversationStore
from tui.screens.help_screen import HelpScreen
from tui.screens.history_screen import HistoryScreen
from tui.screens.model_picker import ModelPickerScreen
from tui.screens.settings_screen import SettingsResult, SettingsScreen
from tui.widgets.chat_pane import DRAW_EVERY_S, TEXT_BATCH_S, ChatPane
from tui.widgets.turn_view import TurnView

WIDE = (140, 40)


def stats_text(pane: ChatPane, index: int = -1) -> str:
    view = pane.query(TurnView)[index]
    return str(view.query_one(".stats", Static).render())


def notice_text(pane: ChatPane, index: int = -1) -> str:
    view = pane.query(TurnView)[index]
    return str(view.query_one(".notice", Static).render())


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


async def test_ctrl_n_starts_a_new_conversation() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "first")
        await wait_settled(pilot)
        first_id = app.chat.conversation_id
        await pilot.press("ctrl+n")
        assert all(p.turns == [] and not p.query(TurnView) for p in app.chat.panes)
        assert app.chat.conversation_id is None
        await send(pilot, "fresh start")
        await wait_settled(pilot)
        assert opener.engine("alpha").calls[-1] == [{"role": "user", "content": "fresh start"}]
        assert app.chat.conversation_id not in (None, first_id)
        assert len(app.store.list_conversations()) == 2


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


async def test_settings_change_applies_to_the_next_request() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        modal = app.screen
        assert isinstance(modal, SettingsScreen)
        modal.query_one("#left-temperature").value = "0"
        modal.query_one("#right-temperature").value = "0.8"
        modal.query_one("#left-max_tokens").value = "5"
        modal.query_one("#right-seed").value = "42"
        modal.query_one("#left-system").text = "Be brief."
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, SettingsScreen)
        await send(pilot, "hello")
        await wait_settled(pilot)
        alpha, beta = opener.engine("alpha"), opener.engine("beta")
        assert alpha.params[-1] == GenerationParams(max_tokens=5, temperature=0.0, top_p=0.95, seed=None)
        assert beta.params[-1].temperature == 0.8 and beta.params[-1].seed == 42
        # The system prompt is shared by default: both conversations start with it.
        for engine in (alpha, beta):
            assert engine.calls[-1][0] == {"role": "system", "content": "Be brief."}
        left = app.chat.pane("left")
        assert left.turns[0].finish_reason == "length" and len(left.turns[0].answer.split()) == 5


async def test_per_pane_system_prompt_and_context_size_reload() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        modal = app.screen
        modal.query_one("#shared-system").value = False
        await pilot.pause()
        modal.query_one("#left-system").text = "You are terse."
        modal.query_one("#right-system").text = "You are verbose."
        modal.query_one("#right-n_ctx").value = "2048"
        await pilot.pause()
        opened_before = len(opener.opened)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: len(opener.opened) == opened_before + 1 and app.chat.pane("right").info,
            what="right pane reloaded",
        )
        ref, options, _ = opener.opened[-1]
        assert ref.startswith("scripted:beta") and options.n_ctx == 2048
        await send(pilot, "x")
        await wait_settled(pilot)
        assert opener.engine("alpha").calls[-1][0]["content"] == "You are terse."
        assert opener.engine("beta").calls[-1][0]["content"] == "You are verbose."


async def test_invalid_setting_is_explained_and_keeps_the_modal_open() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        modal = app.screen
        modal.query_one("#left-temperature").value = "7"
        await pilot.press("ctrl+s")
        assert app.screen is modal
        assert "left pane: temperature" in str(modal.query_one("#settings-errors", Static).render())
        await pilot.press("escape")
        assert app.chat.pane("left").settings.temperature == 0.7


async def test_same_model_two_settings_loads_it_twice() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await app.chat.action_same_model()
        await wait_until(
            pilot, lambda: app.chat.pane("right").info and app.chat.pane("right").info.name == "alpha"
        )
        await app.chat.apply_settings(
            SettingsResult(PaneSettings(temperature=0.0), PaneSettings(temperature=0.8), True)
        )
        await send(pilot, "same model?")
        await wait_settled(pilot)
        alphas = [e for r, _, e in opener.opened if e.describe().name == "alpha"]
        assert len(alphas) == 2 and alphas[0] is not alphas[1]  # one engine per pane
        temps = sorted(e.params[-1].temperature for e in alphas)
        assert temps == [0.0, 0.8]
        left, right = app.chat.panes
        assert left.turns[0].answer != right.turns[0].answer


async def test_ctrl_e_exports_markdown_and_json() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "What is a hash map?")
        await wait_settled(pilot)
        await pilot.press("ctrl+e")
        md_path, json_path = app.chat.last_export
        assert md_path.parent == paths.exports_dir() and md_path.exists() and json_path.exists()
        doc = json.loads(json_path.read_text())
        left, right = app.chat.panes
        assert doc["panes"]["left"]["model"]["name"] == "alpha"
        assert doc["panes"]["right"]["settings"]["temperature"] == 0.7
        turn = doc["turns"][0]
        assert turn["prompt"] == "What is a hash map?"
        assert turn["answers"]["left"]["text"] == left.turns[0].answer
        assert turn["answers"]["right"]["text"] == right.turns[0].answer
        assert turn["answers"]["right"]["stats"]["completion_tokens"] == 24
        assert turn["answers"]["left"]["finish_reason"] == "stop"
        md = md_path.read_text()
        assert "> What is a hash map?" in md and left.turns[0].answer in md and right.turns[0].answer in md
        assert "### Left — alpha" in md and "### Right — beta" in md and "TTFT" in md
        assert any(str(md_path.parent) in str(n.message) for n in app._notifications)


async def test_ctrl_r_regenerates_the_last_answer_in_both_panes() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "first")
        await wait_settled(pilot)
        await send(pilot, "second")
        await wait_settled(pilot, turns=2)
        # A new temperature makes the regenerated answer differ (the scripted reply depends on it).
        await app.chat.apply_settings(
            SettingsResult(PaneSettings(temperature=0.1), PaneSettings(temperature=0.2), True)
        )
        old = [p.turns[1].answer for p in app.chat.panes]
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: (
                all(p.turns[1].settled for p in app.chat.panes)
                and all(len(opener.engine(n).calls) == 3 for n in ("alpha", "beta"))
            ),
        )
        for pane, name, before in zip(app.chat.panes, ("alpha", "beta"), old, strict=True):
            calls = opener.engine(name).calls
            assert calls[2] == calls[1]  # same history and prompt
            assert len(pane.turns) == 2 and pane.turns[1].answer != before
        saved = app.store.load(app.chat.conversation_id)
        assert [t.answer for t in saved.turns["left"]] == [t.answer for t in app.chat.pane("left").turns]


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


async def test_last_conversation_reopens_after_restart(duel_home) -> None:
    first = make_app()
    async with first.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "remember me")
        await wait_settled(pilot)
        answers = [p.turns[0].answer for p in first.chat.panes]
        conversation = first.chat.conversation_id
    opener = Opener()
    second = make_app(opener=opener)
    async with second.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        assert second.chat.conversation_id == conversation
        assert [p.turns[0].answer for p in second.chat.panes] == answers
        view = second.chat.pane("left").query(TurnView)[0]
        assert view.query_one(".answer", Markdown).source == answers[0]
        assert "24 tokens" in stats_text(second.chat.pane("left"))
        await send(pilot, "and continue")
        await wait_settled(pilot, turns=2)
        assert opener.engine("alpha").calls[-1][:2] == [
            {"role": "user", "content": "remember me"},
            {"role": "assistant", "content": answers[0]},
        ]
    saved = ConversationStore().load(conversation)
    assert [t.prompt for t in saved.turns["right"]] == ["remember me", "and continue"]


async def test_history_screen_lists_and_opens_past_conversations() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "old topic")
        await wait_settled(pilot)
        old_id = app.chat.conversation_id
        await pilot.press("ctrl+n")
        await send(pilot, "new topic")
        await wait_settled(pilot)
        await pilot.press("ctrl+o")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        titles = [c.title for c in history.conversations]
        assert titles == ["new topic", "old topic"]
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.chat.conversation_id == old_id)
        assert [t.prompt for t in app.chat.pane("left").turns] == ["old topic"]


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


async def test_help_lists_every_binding() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f1")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = " ".join(k for k, _ in help_screen.rows)
        for binding in [*app.chat.BINDINGS, *app.BINDINGS]:
            assert app.get_key_display(binding) in keys
        assert "enter" in keys and "ctrl+p" in keys
        await pilot.press("escape")
        assert app.screen is app.chat
        # "?" in an empty prompt box opens the help; in a question it is just typed.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("w", "h", "y", "question_mark")
        assert app.chat.prompt_box.value == "why?" and app.screen is app.chat


async def test_footer_shows_the_main_keys() -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_ready(pilot)
        shown = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"Send", "Cancel", "New", "Model", "Settings", "Export", "Regenerate", "Help", "Quit"} <= shown


async def test_command_palette_runs_chat_actions() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.chat)]
        for title in (
            "New conversation",
            "Pick model: left pane",
            "Pick model: right pane",
            "Settings",
            "Export conversation",
            "Regenerate last answer",
            "Conversation history",
            "Keys",
            "Cancel answers",
            "Same model in both panes",
        ):
            assert title in titles
        await send(pilot, "hello")
        await wait_settled(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"New conversation")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: all(not p.turns for p in app.chat.panes), what="cleared by palette")


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


async def test_gpu_layers_setting_reloads_the_pane_with_offload() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        app.screen.query_one("#left-gpu_layers").value = "-1"
        await pilot.pause()
        opened_before = len(opener.opened)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: len(opener.opened) == opened_before + 1 and app.chat.pane("left").info,
            what="left pane reloaded",
        )
        ref, options, _ = opener.opened[-1]
        assert ref.startswith("scripted:alpha") and options.n_gpu_layers == -1
        assert app.chat.pane("right").settings.gpu_layers == 0
