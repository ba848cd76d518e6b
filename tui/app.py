"""The duel Textual app: the chat screen plus what it needs from outside, passed in.

The app holds the services every screen shares: the pair of models being compared (which ones, their
settings, their engines and how to open one: tui/pair.py), the model list and the conversation store.
Screens ask the app for them instead of reaching into each other; the `duel` command passes the real
ones, and tests pass a pair whose engine opener hands out scripted engines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen

from models.info import ModelInfo
from tui.chat_state import Side
from tui.conversation_store import ConversationStore
from tui.pair import PairService
from tui.screens.chat_screen import ChatScreen
from tui.screens.sections import SECTION_BINDINGS, SECTION_MODES, SectionNavigation


def _default_list_models() -> list[ModelInfo]:
    from models.resolve import list_models

    return list_models()


class DuelApp(SectionNavigation, App[None]):
    TITLE = "duel"
    CSS_PATH = [
        "styles/chat.tcss",
        "styles/modals.tcss",
        "styles/bench.tcss",
        "styles/scorecard.tcss",
        "styles/models.tcss",
    ]
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True), *SECTION_BINDINGS]
    MODES = SECTION_MODES  # chat (default mode), bench, runs, models: see tui/screens/sections.py

    def __init__(
        self,
        pair: PairService,
        *,
        list_models: Callable[[], list[ModelInfo]] | None = None,
        store: ConversationStore | None = None,
        reopen_last: bool = True,
        driver_class: type[Driver] | None = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.pair = pair
        self.list_models = list_models or _default_list_models
        self._store = store
        self.reopen_last = reopen_last

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
        self.push_screen("chat")

    async def use_model(self, side: Side, ref: str) -> None:
        """Load `ref` in the chat pane of `side` (from any screen: the pane shows the progress)."""
        await self.chat.pane(side).load_model(ref)

    def on_unmount(self) -> None:
        # The panes stopped their threads as they unmounted; the engines are freed in a thread, once
        # those threads let go of them, so quitting never waits on the event loop for a model.
        self.pair.close_in_background()
        if self._store is not None:
            self._store.close()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from self.section_commands()
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
                "System prompt, temperature, top p, max tokens, seed, context size (F2)",
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
