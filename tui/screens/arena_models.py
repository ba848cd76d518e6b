"""The arena's models behind the scenes: their file hashes, and freeing them while the user is away.

Mixed into ArenaScreen. A vote stores both models' sha256, computed in a thread worker once a model
has loaded (seconds the first time for a big file, cached afterwards), so the vote keys wait for
both. The arena's two engines are its own, apart from the chat's: when the user goes to another
section they are freed (once answers in flight have ended), and coming back loads them again if
the battle is still going on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from models.errors import DuelError
from models.info import ModelInfo
from tui.chat_state import Side
from tui.messages import PaneLoadFailed, PaneModelChanged

if TYPE_CHECKING:
    from tui.screens.arena_screen import ArenaScreen

ARENA_MODE = "arena"  # the arena's section (tui/screens/sections.py)
SIDE_OF_PANE: dict[Side, str] = {"left": "a", "right": "b"}  # Model A sits on the left
ALIASES = {"a": "Model A", "b": "Model B"}


@dataclass
class HashFound(Message):
    """A model's file hash for battle `serial` (computed in a worker; None: no file or unreadable)."""

    serial: int
    ref: str
    sha256: str | None
    error: str | None = None


class ArenaModels:
    """The hash flow and the away/back handling of ArenaScreen (see the module docstring)."""

    def on_pane_model_changed(self: ArenaScreen, message: PaneModelChanged) -> None:
        message.stop()  # the arena's models are not the chat's pair: nothing is remembered
        pane = self.pane(message.pane)
        if self.battle is None or pane.info is None or message.ref not in self.battle.pairing.pair:
            return
        if message.ref in self.battle.sha256:
            return  # reloaded after a visit elsewhere: the hash is known
        self.run_worker(
            partial(self._hash_blocking, self.serial, message.ref, pane.info),
            thread=True,
            group="arena-hash",
            exit_on_error=False,
        )

    def _hash_blocking(self: ArenaScreen, serial: int, ref: str, info: ModelInfo) -> None:
        """Thread: the model file's sha256 (cached by path, size and mtime; seconds the first time)."""
        from benchmarks.arena.battle import info_sha256

        try:
            found = HashFound(serial, ref, info_sha256(info))
        except (OSError, DuelError) as exc:
            found = HashFound(serial, ref, None, str(exc))
        self.post_message(found)

    def on_hash_found(self: ArenaScreen, found: HashFound) -> None:
        battle = self.battle
        if battle is None or found.serial != self.serial:
            return
        if found.error:
            side = "a" if found.ref == battle.pairing.model_a else "b"
            self.notify(f"Could not hash {ALIASES[side]}'s file; the vote is stored without it.")
        try:
            battle.set_sha256(found.ref, found.sha256)
        except DuelError as exc:
            self.notify(f"Could not save the model hash: {exc}", severity="error", markup=False)
        self._show_state()
        if self.can_vote and not self.prompt_box.value and self.focused is self.prompt_box:
            self.vote_bar.focus_first()

    def on_pane_load_failed(self: ArenaScreen, message: PaneLoadFailed) -> None:
        message.stop()
        battle = self.battle
        if battle is not None and message.ref in battle.pairing.pair and message.ref not in battle.sha256:
            battle.set_sha256(message.ref, None)  # no file to hash: a vote need not wait for one
        self._show_state()

    def _mode_changed(self: ArenaScreen, mode: str) -> None:
        if mode != ARENA_MODE:
            self._away = True
            if not self.answering:
                self._release()
        else:
            self._away = False
            self.call_later(self._reload_if_released)

    def _release(self: ArenaScreen) -> None:
        """Free the arena's engines (in a thread: never on the event loop), to be loaded again on return."""
        if self._released:
            return
        self._released = True
        self.pair.close_in_background()

    async def _reload_if_released(self: ArenaScreen) -> None:
        if not self._released or self.battle is None:
            return
        self._released = False
        if self.battle.revealed:
            return  # the next battle loads its own pair
        for pane in self.panes:
            await pane.load_model(pane.ref)
