"""Snapshots of the chat screen and its modals (pytest-textual-snapshot).

Timings are frozen (FrozenStatsEngine replaces the measured seconds), so the SVGs only change when
the screens do. Update after a deliberate change with `pytest tests/test_tui_snapshots.py
--snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

from textual.pilot import Pilot
from tui_support import (
    FrozenStatsEngine,
    MarkdownEngine,
    Opener,
    make_app,
    send,
    wait_ready,
    wait_settled,
    wait_until,
)

from engines.base import LoadOptions
from tui.screens.model_picker import ModelPickerScreen

SIZE = (140, 40)


class SnapshotOpener(Opener):
    """`scripted:md...` answers in Markdown; everything else is the scripted engine with frozen stats."""

    def __call__(self, ref: str, options: LoadOptions | None = None, progress=None):  # noqa: ANN001
        self.engine_class = MarkdownEngine if ref.startswith("scripted:md") else FrozenStatsEngine
        return super().__call__(ref, options, None)


async def freeze_cursors(pilot: Pilot) -> None:
    """Stop the text cursors blinking, or a snapshot catches them on or off at random."""
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            widget.cursor_blink = False
    await pilot.pause(0.1)


def snapshot_app():
    return make_app("scripted:md", "scripted:beta?tokens=30", opener=SnapshotOpener())


async def two_turns(pilot: Pilot) -> None:
    await wait_ready(pilot)
    await send(pilot, "What is a hash map?")
    await wait_settled(pilot)
    await send(pilot, "Show one in Python.")
    await wait_settled(pilot, turns=2)
    await freeze_cursors(pilot)


def test_chat_screen_mid_conversation(snap_compare) -> None:
    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=two_turns)


def test_chat_screen_narrow_stacks_panes(snap_compare) -> None:
    assert snap_compare(snapshot_app(), terminal_size=(80, 40), run_before=two_turns)


def test_settings_modal(snap_compare) -> None:
    async def open_settings(pilot: Pilot) -> None:
        await wait_ready(pilot)
        await pilot.press("f2")
        await freeze_cursors(pilot)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_settings)


def test_model_picker(snap_compare) -> None:
    async def open_picker(pilot: Pilot) -> None:
        await wait_ready(pilot)
        await pilot.press("ctrl+l")
        await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, ModelPickerScreen) and pilot.app.screen.models is not None,
        )
        await freeze_cursors(pilot)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_picker)


def test_help_screen(snap_compare) -> None:
    async def open_help(pilot: Pilot) -> None:
        await wait_ready(pilot)
        await pilot.press("f1")
        await freeze_cursors(pilot)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_help)
