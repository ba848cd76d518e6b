"""Helpers for the arena and leaderboard tests: an app that opens on the arena, waits, seeded votes."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from tui_support import Opener, make_app, wait_until

from benchmarks.arena.store import ArenaStore, BattleRecord
from tui.app import DuelApp
from tui.chat_state import PaneSettings
from tui.screens.arena_screen import ArenaScreen
from tui.screens.arena_setup import ArenaSetup

# Names that appear nowhere else on screen (the scripted engine's words are English ones).
ZEPH = "scripted:zephyrine?delay=0.005"
QUOK = "scripted:quokka?delay=0.01"
WOMB = "scripted:wombatio?delay=0.005"
NAMES = ("zephyrine", "quokka", "wombatio", "scripted")


def arena_app(
    *pool: str,
    opener: Opener | None = None,
    seed: int = 0,
    settings: PaneSettings | None = None,
    **kwargs: Any,
) -> DuelApp:
    setup = ArenaSetup(tuple(pool), settings or PaneSettings(max_tokens=64))
    return make_app(opener=opener, start_section="arena", arena=setup, arena_seed=seed, **kwargs)


def arena(pilot: Pilot) -> ArenaScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ArenaScreen), screen
    return screen


async def wait_arena_ready(pilot: Pilot) -> ArenaScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ArenaScreen), what="the arena screen")
    screen = arena(pilot)
    await wait_until(
        pilot,
        lambda: screen.battle is not None and all(p.info is not None or p.load_error for p in screen.panes),
        what="both arena models loaded",
    )
    return screen


async def ask(pilot: Pilot, text: str) -> None:
    screen = arena(pilot)
    screen.prompt_box.focus()
    screen.prompt_box.value = text
    await pilot.press("enter")


async def wait_vote_open(pilot: Pilot, timeout: float = 10.0) -> ArenaScreen:
    screen = arena(pilot)
    await wait_until(pilot, lambda: screen.can_vote, timeout, what="the vote to open")
    await pilot.pause(0.05)
    return screen


def voted_battles(app: DuelApp) -> list[BattleRecord]:
    with ArenaStore(app.arena_store_path) as store:
        return store.battles("all")


def all_battles(app: DuelApp) -> list[BattleRecord]:
    with ArenaStore(app.arena_store_path) as store:
        return store.battles("all", status=None)


async def answered(pilot: Pilot, prompt: str = "Hi") -> ArenaScreen:
    """Wait for both models, ask `prompt`, wait until the vote opens."""
    await wait_arena_ready(pilot)
    await ask(pilot, prompt)
    return await wait_vote_open(pilot)


async def vote(pilot: Pilot, key: str) -> None:
    """Press a vote key with the focus off the prompt box (1-4 type there), wait for the reveal."""
    screen = arena(pilot)
    screen.set_focus(None)
    await pilot.press(key)
    await wait_until(pilot, lambda: screen.battle is not None and screen.battle.revealed, what="the reveal")
