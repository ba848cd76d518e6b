"""`duel` (and `duel arena`) with no subcommand: the app on the last pair of models (or the default one)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.screens.arena_setup import ArenaSetup


def choose_pair(args: argparse.Namespace) -> tuple[str, str]:
    """Left and right refs: flags, then DUEL_LEFT/DUEL_RIGHT, then the last pair, then the defaults."""
    from models.config import load_config
    from models.resolve import DEFAULT_PAIR

    chat = load_config().chat
    left = getattr(args, "left", None) or os.environ.get("DUEL_LEFT") or chat.left or DEFAULT_PAIR[0]
    right = getattr(args, "right", None) or os.environ.get("DUEL_RIGHT") or chat.right or DEFAULT_PAIR[1]
    return left, right


def remember_pair(left: str | None, right: str | None) -> None:
    """Save the pair in the config file so the next `duel` opens on it (None: keep that side)."""
    from models.config import edit_config, load_config

    chat = load_config().chat
    wanted = (left or chat.left, right or chat.right)
    if (chat.left, chat.right) == wanted:
        return  # nothing new: do not rewrite the file
    with edit_config() as config:
        config.chat.left, config.chat.right = wanted


def shielded_driver_class() -> type | None:
    """A Textual driver that writes to its own copy of the terminal's file descriptor.

    llama-cpp-python points fds 1 and 2 at /dev/null while it loads a model (os.dup2, for the
    whole process). Textual writes to fd 2, so the frames drawn meanwhile were lost and the screen
    stayed stale; writing through a private dup of the terminal keeps every frame.
    """
    if sys.platform == "win32":
        return None
    from textual.drivers.linux_driver import LinuxDriver

    class ShieldedLinuxDriver(LinuxDriver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            terminal = sys.__stderr__
            if terminal is not None and terminal.isatty():
                self._file = os.fdopen(os.dup(terminal.fileno()), "w", encoding="utf-8", errors="replace")

    return ShieldedLinuxDriver


def run_app(args: argparse.Namespace, *, start_section: str = "chat", arena: ArenaSetup | None = None) -> int:
    """The app on the chat pair; `duel arena` opens it on the arena (`arena`: its pool and settings)."""
    from tui.app import DuelApp
    from tui.chat_state import PaneSettings
    from tui.commands.options import weights_choice
    from tui.pair import ModelPair

    left, right = choose_pair(args)
    weights = weights_choice(args)
    both = PaneSettings(weights=weights)  # --weights, else config.toml: how both panes load
    DuelApp(
        ModelPair(left, right, settings=(both, both), remember=remember_pair),
        driver_class=shielded_driver_class(),
        weights=weights,
        start_section=start_section,
        arena=arena,
    ).run()
    return 0
