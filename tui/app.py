"""The duel Textual app: the chat screen plus what it needs from outside, passed in.

The app holds the services every screen shares: the pair of models being compared (which ones, their
settings, their engines and how to open one: tui/pair.py), the model list, the conversation store,
and what the arena starts with (its pool and settings, where its votes go, the random draws).
Screens ask the app for them instead of reaching into each other; the `duel` command passes the real
ones, and tests pass a pair whose engine opener hands out scripted engines.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen
from textual.widget import AwaitMount

from models.info import ModelInfo
from tui.chat_state import Side
from tui.conversation_store import ConversationStore
from tui.pair import PairService
from tui.screens.chat_screen import ChatScreen
from tui.screens.sections import CHAT, SECTION_BINDINGS, SECTION_MODES, SectionNavigation, mode_of

if TYPE_CHECKING:
    from tui.screens.arena_setup import ArenaSetup


def _default_list_models() -> list[ModelInfo]:
    from models.resolve import list_models

    return list_models()


def _describe_weights(choice: str) -> str:
    """What `choice` means on this machine, in one line (llama.cpp's report of the CPU decides)."""
    from engines.weights import choose
    from models.errors import DuelError

    try:
        return choose(choice).summary()
    except (DuelError, ImportError, OSError) as exc:  # shown in the settings; the load reports it too
        return f"{choice}: cannot be decided here ({exc})"


class DuelApp(SectionNavigation, App[None]):
    TITLE = "duel"
    CSS_PATH = [
        "styles/chat.tcss",
        "styles/modals.tcss",
        "styles/bench.tcss",
        "styles/scorecard.tcss",
        "styles/models.tcss",
        "styles/arena.tcss",
        "styles/leaderboard.tcss",
    ]
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True), *SECTION_BINDINGS]
    MODES = SECTION_MODES  # chat (default mode), bench, runs, models, arena...: tui/screens/sections.py

    def __init__(
        self,
        pair: PairService,
        *,
        list_models: Callable[[], list[ModelInfo]] | None = None,
        store: ConversationStore | None = None,
        reopen_last: bool = True,
        driver_class: type[Driver] | None = None,
        weights: str = "auto",
        describe_weights: Callable[[str], str] | None = None,
        start_section: str = "chat",
        arena: ArenaSetup | None = None,
        arena_store_path: Path | None = None,
        arena_seed: int | None = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.pair = pair
        self.list_models = list_models or _default_list_models
        self._store = store
        self.reopen_last = reopen_last
        self.weights = weights  # --weights / config.toml: benchmark runs load with it
        self.describe_weights = describe_weights or _describe_weights
        self.start_section = start_section
        if arena is None:
            from tui.chat_state import PaneSettings
            from tui.screens.arena_setup import ArenaSetup

            arena = ArenaSetup(settings=PaneSettings(weights=weights))  # arena models load as the chat's
        self.arena_setup = arena  # the pool (empty: the arena asks) and settings it starts with
        self.arena_store_path = arena_store_path  # None: arena.sqlite3 in the data dir
        self.arena_rng = random.Random(arena_seed)  # which pair battles, on which sides

    @property
    def store(self) -> ConversationStore:
        if self._store is None:  # opened on first use, not at import or construction
            self._store = ConversationStore()
        return self._store

    @property
    def chat(self) -> ChatScreen:
        screen = self.get_screen("chat") if self.is_screen_installed("chat") else None
        assert isinstance(screen, ChatScreen)
        return screen

    def on_mount(self) -> None:
        self.install_screen(ChatScreen(reopen_last=self.reopen_last), name="chat")
        if self.start_section == "chat":
            self.push_screen("chat")
        else:  # `duel arena`: the chat loads its models when it is first opened, not before
            self.switch_mode(mode_of(self.start_section))

    def switch_mode(self, mode: str) -> AwaitMount:
        await_mount = super().switch_mode(mode)
        if mode == CHAT and not self.chat.is_mounted:
            self.push_screen("chat")  # the first visit of a session that began in another section
        return await_mount

    async def use_model(self, side: Side, ref: str) -> None:
        """Load `ref` in the chat pane of `side` (from any screen: the pane shows the progress)."""
        if self.chat.is_mounted:
            await self.chat.pane(side).load_model(ref)
        else:
            self.pair.choose(side, ref)  # the chat loads it when it is first opened

    def on_unmount(self) -> None:
        # The panes stopped their threads as they unmounted; the engines are freed in a thread, once
        # those threads let go of them, so quitting never waits on the event loop for a model.
        self.pair.close_in_background()
        if self._store is not None:
            self._store.close()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from self.section_commands()
        screen_commands = getattr(screen, "palette_commands", None)  # the arena's, the leaderboard's
        if screen_commands is not None:
            for title, help_text, callback in screen_commands():
                yield SystemCommand(title, help_text, callback)
        if not isinstance(screen, ChatScreen):
            return
        commands = [
            (
                "Send prompt",
                "Send what is in the prompt box to both panes (enter)",
                lambda: screen.send(screen.prompt_box.value),
            ),
            ("Cancel answers", "Stop both answers and put the prompt back (escape)", screen.action_cancel),
            ("New conversation", "Clear both panes and start over (ctrl+n)", screen.action_new_conversation),
            (
                "Pick model: left pane",
                "Choose the model of the left pane",
                lambda: screen.action_pick_model("left"),
            ),
            (
                "Pick model: right pane",
                "Choose the model of the right pane",
                lambda: screen.action_pick_model("right"),
            ),
            (
                "Same model in both panes",
                "Load the left pane's model in the right pane too",
                screen.action_same_model,
            ),
            (
                "Settings",
                "System prompt, temperature, top p, max tokens, seed, context size, GPU layers, weights (F2)",
                screen.action_settings,
            ),
            (
                "Export conversation",
                "Write Markdown and JSON files of this conversation (ctrl+e)",
                screen.action_export,
            ),
            (
                "Regenerate last answer",
                "Write the last answer again in both panes (ctrl+r)",
                screen.action_regenerate,
            ),
            ("Conversation history", "Reopen a past conversation (ctrl+o)", screen.action_history),
            ("Keys", "Every key of the chat screen (F1)", screen.action_help),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
