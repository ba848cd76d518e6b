"""Pilot tests of the chat screen's conversations: new, export, regenerate, reopen, history."""

from __future__ import annotations

import json

from textual.widgets import Markdown
from tui_support import (
    WIDE,
    Opener,
    RecordingEngine,
    make_app,
    send,
    stats_text,
    wait_ready,
    wait_settled,
    wait_until,
)

from models import paths
from tui.chat_state import PaneSettings
from tui.conversation_store import ConversationStore
from tui.screens.history_screen import HistoryScreen
from tui.screens.settings_screen import SettingsResult
from tui.widgets.turn_view import TurnView


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


async def test_prompt_is_saved_before_either_model_starts(duel_home) -> None:
    """A crash inside llama.cpp during the answer must not lose the prompt: it is committed first."""
    import sqlite3

    seen: list[tuple[str, int]] = []  # (model, prompts committed to disk when its answer started)

    class CheckingEngine(RecordingEngine):
        def stream_chat(self, messages, params, should_stop=None):  # noqa: ANN001
            with sqlite3.connect(paths.conversations_db_file()) as other:  # what a crash would leave
                count = other.execute(
                    "SELECT COUNT(*) FROM messages WHERE role = 'user' AND content = ?",
                    (messages[-1]["content"],),
                ).fetchone()[0]
            seen.append((self.describe().name, count))
            yield from super().stream_chat(messages, params, should_stop)

    app = make_app(opener=Opener(CheckingEngine))
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "do not lose me")
        await wait_settled(pilot)
        await pilot.press("ctrl+r")  # a regenerated answer starts from the saved prompt too
        await wait_until(pilot, lambda: len(seen) == 4, what="four answers started")
        await wait_settled(pilot)
    assert sorted(seen) == [("alpha", 2), ("alpha", 2), ("beta", 2), ("beta", 2)]


async def test_weights_chosen_for_the_machine_outlive_a_reopened_conversation(duel_home) -> None:
    first = make_app()  # the last conversation was held with the default, auto
    async with first.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await send(pilot, "hello")
        await wait_settled(pilot)
    opener = Opener()
    plain = PaneSettings(weights="plain")  # as `duel --weights plain` starts the app
    second = make_app(opener=opener, settings=(plain, plain), weights="plain")
    async with second.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        assert [p.turns[0].prompt for p in second.chat.panes] == ["hello", "hello"]
        assert [p.settings.weights for p in second.chat.panes] == ["plain", "plain"]
        assert {options.weights for _, options, _ in opener.opened} == {"plain"}
