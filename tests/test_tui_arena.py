"""Pilot tests of the arena (F7): hidden names, the vote keys and when they work, the reveal, a vote
that cannot change, new battles, leaving and coming back, and `duel arena` opening it."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from arena_support import (
    NAMES,
    QUOK,
    WOMB,
    ZEPH,
    all_battles,
    answered,
    arena,
    arena_app,
    ask,
    vote,
    voted_battles,
    wait_arena_ready,
    wait_vote_open,
)
from tui_support import FrozenStatsEngine, Opener, RecordingEngine, screen_text, wait_until

from models.info import ModelInfo
from tui.screens.arena_screen import ArenaScreen
from tui.screens.arena_setup import ArenaSetupScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help_screen import HelpScreen

SIZE = (140, 40)


def assert_no_names(text: str, when: str) -> None:
    found = [name for name in NAMES if name in text.lower()]
    assert not found, f"{when}: the screen shows {found}:\n{text}"


def scripted_name(ref: str) -> str:
    return ref.split(":", 1)[1].split("?", 1)[0]


def vote_keys_state(screen: ArenaScreen) -> bool | None:
    return screen.check_action("vote", ("a",))


async def test_names_are_hidden_everywhere_until_the_vote_then_revealed() -> None:
    app = arena_app(ZEPH, QUOK)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_arena_ready(pilot)
        assert_no_names(screen_text(app), "after loading")
        await ask(pilot, "Name a prime number.")
        await wait_until(pilot, lambda: any(p.turns and p.turns[0].answer for p in screen.panes))
        assert_no_names(screen_text(app), "while streaming")
        await wait_vote_open(pilot)
        text = screen_text(app)
        assert_no_names(text, "once both answers ended")
        assert "Model A" in text and "Model B" in text
        assert "TTFT" in text  # the stats line is there, without a name
        palette = [command.title + command.help for command in app.get_system_commands(screen)]
        assert_no_names(" ".join(palette), "in the command palette")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert_no_names(screen_text(app), "in the help")
        await pilot.press("escape")
        ask_order = (screen.battle.pairing.model_a, screen.battle.pairing.model_b)
        await vote(pilot, "1")
        await pilot.pause(0.05)
        text = screen_text(app)
        assert ask_order[0] in text and ask_order[1] in text
        left_header = str(screen.pane("left").query_one("#model-line").render())
        assert left_header.startswith(scripted_name(ask_order[0]))  # the left pane is Model A
    (battle,) = voted_battles(app)
    assert (battle.model_a, battle.model_b, battle.vote, battle.voter) == (*ask_order, "a", "human")
    assert battle.conversation_a[0] == {"role": "user", "content": "Name a prime number."}
    assert battle.stats_a[0]["completion_tokens"] > 0 and battle.stats_b[0]["tokens_per_s"] > 0
    assert battle.settings["max_tokens"] == 64


async def test_an_error_that_names_the_model_is_held_back_until_the_vote() -> None:
    app = arena_app("scripted:zephyrine?fail=stream&delay=0.005", QUOK)
    async with app.run_test(size=SIZE) as pilot:
        await answered(pilot, "Hello?")  # a failed answer has ended too
        text = screen_text(app)
        assert "the reason is shown after the vote" in text
        assert_no_names(text, "after a failed answer")
        await vote(pilot, "3")
        await pilot.pause(0.05)
        assert "zephyrine: scripted failure mid-stream" in screen_text(app)
    (battle,) = voted_battles(app)
    failed = "a" if battle.model_a.startswith("scripted:zephyrine") else "b"
    assert getattr(battle, f"stats_{failed}")[0]["finish_reason"] == "error"


async def test_a_model_that_fails_to_load_is_not_named_and_a_new_battle_says_why() -> None:
    app = arena_app("scripted:zephyrine?fail=load", QUOK)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_arena_ready(pilot)
        await pilot.pause(0.05)
        text = screen_text(app)
        assert "could not be loaded; the reason is shown after the vote" in text
        assert_no_names(text, "after a failed load")
        await pilot.press("ctrl+n")  # nothing asked yet: no question, a new battle at once
        await wait_until(pilot, lambda: screen.serial == 2)
        await pilot.pause(0.05)
        notes = [note.message for note in app._notifications]
        assert any("zephyrine?fail=load failed to load: zephyrine: scripted load failure" in n for n in notes)


async def test_vote_keys_wait_for_both_answers_and_a_stopped_answer_has_ended() -> None:
    app = arena_app("scripted:zephyrine?delay=0.001&tokens=8", "scripted:quokka?delay=0.2&tokens=200")
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_arena_ready(pilot)
        assert vote_keys_state(screen) is None  # shown, disabled: nothing asked yet
        await ask(pilot, "Tell me a story.")
        fast = next(p for p in screen.panes if "zephyrine" in p.ref)
        slow = next(p for p in screen.panes if "quokka" in p.ref)
        await wait_until(pilot, lambda: fast.turns and fast.turns[0].settled, what="the fast answer")
        await wait_until(pilot, lambda: bool(slow.turns[0].answer), what="the slow answer to start")
        assert screen.answering and not screen.can_vote
        assert vote_keys_state(screen) is None
        assert all(b.disabled for b in screen.vote_bar.buttons)
        screen.set_focus(None)
        for key in "1234":
            await pilot.press(key)
        assert not screen.battle.revealed
        assert voted_battles(app) == []
        await pilot.press("escape")  # stop the slow one: a stopped answer has ended
        await wait_vote_open(pilot)
        assert slow.turns[0].finish_reason == "cancelled"
        assert vote_keys_state(screen) is True
        assert not any(b.disabled for b in screen.vote_bar.buttons)
        await vote(pilot, "2")
    (battle,) = voted_battles(app)
    assert battle.vote == "b"
    stopped = "a" if battle.model_a.startswith("scripted:quokka") else "b"
    assert getattr(battle, f"stats_{stopped}")[0]["finish_reason"] == "cancelled"


async def test_after_the_reveal_nothing_changes_the_vote() -> None:
    app = arena_app(ZEPH, QUOK)
    async with app.run_test(size=SIZE) as pilot:
        screen = await answered(pilot, "Hi")
        screen.vote_bar.focus_first()
        await pilot.press("enter")  # the focused button: A is better
        await wait_until(pilot, lambda: screen.battle.revealed)
        assert vote_keys_state(screen) is False  # no vote keys any more, not even disabled ones
        for key in ("2", "3", "4", "1"):
            await pilot.press(key)
        screen.action_vote("tie")  # the palette's way in, too
        await pilot.click("#vote-b")  # a hidden button
        assert screen.prompt_box.disabled
        await screen.send("Another question")  # the battle is over: no new turn
        assert screen.battle.turns == 1
    battles = voted_battles(app)
    assert [b.vote for b in battles] == ["a"]
    assert len(all_battles(app)) == 1


async def test_a_new_battle_draws_a_new_pair_and_hides_the_names_again() -> None:
    app = arena_app(ZEPH, QUOK, WOMB, seed=3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_arena_ready(pilot)
        pairs = []
        for round_ in range(3):
            pairs.append(screen.battle.pairing.pair)
            await ask(pilot, f"Question {round_}")
            await wait_vote_open(pilot)
            await vote(pilot, "4")
            await pilot.press("ctrl+n")
            await wait_arena_ready(pilot)
            await wait_until(pilot, lambda r=round_: screen.serial == r + 2)
            assert screen.battle.pairing.pair != pairs[-1]
            assert not any(p.turns for p in screen.panes)  # the transcripts start over
            assert_no_names(screen_text(app), f"battle {round_ + 2}")
            assert not screen.prompt_box.disabled
    assert [b.vote for b in voted_battles(app)] == ["bothbad"] * 3


async def test_leaving_a_battle_without_a_vote_asks_first_and_keeps_it_unvoted() -> None:
    app = arena_app(ZEPH, QUOK)
    async with app.run_test(size=SIZE) as pilot:
        screen = await answered(pilot, "Hi")
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: the battle goes on
        assert screen.serial == 1 and screen.battle.can_vote
        await pilot.press("ctrl+n")
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.serial == 2)
    (battle,) = all_battles(app)
    assert battle.status == "open" and battle.vote is None
    assert voted_battles(app) == []


async def test_typing_while_a_vote_button_has_the_focus_asks_a_follow_up() -> None:
    app = arena_app(ZEPH, QUOK)
    async with app.run_test(size=SIZE) as pilot:
        screen = await answered(pilot, "Hi")
        assert app.focused is screen.vote_bar.buttons[0]  # the vote has the focus once it is open
        await pilot.press("w", "h", "y", "?")
        assert screen.prompt_box.value == "why?" and app.focused is screen.prompt_box
        await pilot.press("enter")
        await wait_vote_open(pilot)
        assert screen.battle.turns == 2
        await vote(pilot, "1")
    (battle,) = voted_battles(app)
    assert [m["content"] for m in battle.conversation_b if m["role"] == "user"] == ["Hi", "why?"]
    assert len(battle.stats_a) == 2


class FileEngine(RecordingEngine):
    """A scripted engine that says its model is a file (so the arena hashes it)."""

    files: dict[str, Path] = {}

    def describe(self) -> ModelInfo:
        info = super().describe()
        return replace(info, path=self.files[info.name])


async def test_the_vote_stores_both_files_sha256(tmp_path: Path) -> None:
    contents = {"zephyrine": b"zephyrine weights", "quokka": b"quokka weights" * 1000}
    for name, data in contents.items():
        (tmp_path / f"{name}.gguf").write_bytes(data)
    FileEngine.files = {name: tmp_path / f"{name}.gguf" for name in contents}
    app = arena_app(ZEPH, QUOK, opener=Opener(FileEngine))
    async with app.run_test(size=SIZE) as pilot:
        await answered(pilot, "Hi")
        await vote(pilot, "1")
    (battle,) = voted_battles(app)
    for ref, sha in ((battle.model_a, battle.sha256_a), (battle.model_b, battle.sha256_b)):
        name = scripted_name(ref)
        assert sha == hashlib.sha256(contents[name]).hexdigest()


async def test_leaving_the_arena_frees_its_models_and_coming_back_loads_them_again() -> None:
    opener = Opener()
    app = arena_app(ZEPH, QUOK, opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_arena_ready(pilot)
        assert sorted(ref for ref, _, _ in opener.opened) == sorted([QUOK, ZEPH])
        assert not app.chat.is_mounted  # `duel arena` does not load the chat's models
        await ask(pilot, "Hi")
        await wait_vote_open(pilot)
        first = [engine for _, _, engine in opener.opened]
        await pilot.press("f6")  # the chat: its own pair loads now
        await wait_until(pilot, lambda: all(e.closed for e in first), what="the arena's engines freed")
        await wait_until(pilot, lambda: app.chat.is_mounted and all(p.info for p in app.chat.panes))
        await pilot.press("f7")
        await wait_until(pilot, lambda: arena(pilot).pair.slot("left").engine is not None)
        await wait_until(pilot, lambda: arena(pilot).pair.slot("right").engine is not None)
        assert screen.battle.can_vote and screen.battle.turns == 1  # the battle goes on
        assert_no_names(screen_text(app), "back in the arena")
        await vote(pilot, "2")
    refs = [ref for ref, _, _ in opener.opened]
    assert refs.count(ZEPH) == 2 and refs.count(QUOK) == 2  # the arena's pair, loaded twice
    assert "scripted:alpha?delay=0.005" in refs  # and the chat's, once visited


async def test_the_setup_dialog_picks_the_pool_and_remembers_it() -> None:
    from models.config import load_config

    app = arena_app()  # no pool: the arena asks
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ArenaSetupScreen))
        dialog = app.screen
        await wait_until(pilot, lambda: dialog.models is not None)
        assert dialog.chosen_pool() == ("qwen2.5-coder-0.5b", "smollm2-135m")  # the default pair
        dialog.query_one("#arena-pool").deselect_all()
        dialog.query_one("#arena-pool").select("mistral-tiny")
        await pilot.press("ctrl+s")
        assert "two or more" in str(dialog.query_one("#arena-errors").render())
        dialog.query_one("#arena-add").focus()
        for ref in (ZEPH, QUOK):
            dialog.query_one("#arena-add").value = ref
            await pilot.press("enter")
        dialog.query_one("#arena-pool").deselect("mistral-tiny")
        dialog.query_one("#arena-max_tokens").value = "32"
        await pilot.press("ctrl+s")
        screen = await wait_arena_ready(pilot)
        assert screen.setup.pool == (ZEPH, QUOK) and screen.setup.settings.max_tokens == 32
    assert load_config().arena.pool == [ZEPH, QUOK]


async def test_the_setup_refuses_an_unknown_model() -> None:
    app = arena_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ArenaSetupScreen))
        dialog = app.screen
        dialog.query_one("#arena-add").value = "no-such-model"
        dialog.query_one("#arena-add").focus()
        await pilot.press("enter", "ctrl+s")
        assert "unknown model 'no-such-model'" in str(dialog.query_one("#arena-errors").render())
        assert isinstance(app.screen, ArenaSetupScreen)


async def test_the_arena_keys_are_in_the_footer_and_the_help() -> None:
    app = arena_app(ZEPH, QUOK)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await wait_arena_ready(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "New battle" in footer and "Leaderboard" in footer
        assert "A is better" not in footer  # the prompt box has the focus: 1-4 type there
        await ask(pilot, "Hi")
        await wait_vote_open(pilot)
        assert app.focused is screen.vote_bar.buttons[0]
        footer = screen_text(app).splitlines()[-1]
        for label in ("1 A is better", "2 B is better", "3 Tie", "4 Both bad"):
            assert label in footer, footer
        await pilot.press("f1")
        help_text = screen_text(app)
        assert "A is better" in help_text
        assert "Stop both answers" in help_text and "F8" in help_text


def test_duel_arena_opens_the_tui_on_the_arena_with_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui import cli
    from tui.app import DuelApp

    started: list[DuelApp] = []
    monkeypatch.setattr(DuelApp, "run", lambda self: started.append(self))
    code = cli.main(["arena", "--pool", f"{ZEPH},{QUOK}", "--max-tokens", "48", "--temperature", "0"])
    assert code == 0
    (app,) = started
    assert app.start_section == "arena"
    assert app.arena_setup.pool == (ZEPH, QUOK)
    assert (app.arena_setup.settings.max_tokens, app.arena_setup.settings.temperature) == (48, 0.0)
    assert cli.main(["arena"]) == 0 and started[-1].arena_setup.pool == ()  # the dialog asks


def test_duel_arena_refuses_a_bad_pool_before_opening(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui import cli
    from tui.app import DuelApp

    monkeypatch.setattr(DuelApp, "run", lambda self: pytest.fail("the app must not start"))
    assert cli.main(["arena", "--pool", "qwen2.5-coder-0.5b"]) == 2
    assert "two or more" in capsys.readouterr().err
    assert cli.main(["arena", "--pool", "qwen2.5-coder-0.5b,no-such-model"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err
    assert cli.main(["arena", "--pool", "smollm2-135m,./missing.gguf"]) == 2
    assert "no model file at ./missing.gguf" in capsys.readouterr().err


# ----- snapshot ---------------------------------------------------------------------------------


def test_snapshot_arena_mid_battle_names_hidden(snap_compare) -> None:  # noqa: ANN001
    async def battle(pilot) -> None:  # noqa: ANN001
        await wait_arena_ready(pilot)
        await ask(pilot, "What is a hash map?")
        await wait_vote_open(pilot)
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause(0.2)

    app = arena_app(
        "scripted:zephyrine", "scripted:quokka?tokens=30", opener=Opener(FrozenStatsEngine), seed=1
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=battle)


def test_one_key_and_one_button_for_every_vote() -> None:
    from benchmarks.arena.store import VOTES
    from tui.widgets.vote_bar import VOTE_KEYS

    assert tuple(VOTE_KEYS) == VOTES
    assert [key for key, _ in VOTE_KEYS.values()] == ["1", "2", "3", "4"]
