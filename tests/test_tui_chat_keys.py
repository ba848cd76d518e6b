"""Pilot tests of the chat screen's keys: help, footer, command palette."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from tui_support import WIDE, make_app, send, wait_ready, wait_settled, wait_until

from tui.screens.help_screen import HelpScreen


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
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"New conversation")
        results = palette.query_one(CommandList)

        def offered() -> bool:  # the palette searches in the background: wait for its first hit
            index = results.highlighted
            return index is not None and "New conversation" in str(results.get_option_at_index(index).prompt)

        await wait_until(pilot, offered, what="the palette to offer New conversation")
        await pilot.press("enter")
        await wait_until(pilot, lambda: all(not p.turns for p in app.chat.panes), what="cleared by palette")
