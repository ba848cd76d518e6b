"""`duel` with no subcommand: open the chat app on the last pair of models (or the default pair)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


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


def run_app(args: argparse.Namespace) -> int:
    from tui.app import DuelApp
    from tui.pair import ModelPair

    left, right = choose_pair(args)
    DuelApp(ModelPair(left, right, remember=remember_pair), driver_class=shielded_driver_class()).run()
    return 0
