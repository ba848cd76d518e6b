"""The duel Textual app: the chat screen plus what it needs from outside, passed in.

Everything the app reaches for (how to open an engine, list models, where conversations live, how
to remember the last pair, the thread split) is a constructor argument, so tests drive the real
screens with the scripted engine and the `duel` command passes the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen

from engines.base import Engine
from models.info import ModelInfo
from tui.chat_state import PaneSettings
from tui.conversation_store import ConversationStore
from tui.screens.chat_screen import ChatScreen
from tui.screens.sections import SECTION_BINDINGS, SECTION_MODES, SectionNavigation

EngineOpener = Callable[..., Engine]


def _default_open_engine(ref: str, options=None, progress=None) -> Engine:  # noqa: ANN001
    from engines.factory import open_engine

    return open_engine(ref, options, progress=progress)


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


def _default_threads() -> tuple[int, int]:
    from engines.threads import split_threads

    left, right = split_threads(2)
    return left, right


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
        left_ref: str,
        right_ref: str,
        *,
        open_engine: EngineOpener | None = None,
        list_models: Callable[[], list[ModelInfo]] | None = None,
        store: ConversationStore | None = None,
        settings: tuple[PaneSettings, PaneSettings] | None = None,
        remember_pair: Callable[[str | None, str | None], None] | None = None,
        threads: tuple[int, int] | None = None,
        reopen_last: bool = True,
        driver_class: type[Driver] | None = None,
        weights: str = "auto",
        describe_weights: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.left_ref = left_ref
        self.right_ref = right_ref
        self.open_engine: EngineOpener = open_engine or _default_open_engine
        self.list_models = list_models or _default_list_models
        self._store = store
        self.initial_settings = settings or (PaneSettings(), PaneSettings())
        self._remember_pair = remember_pair
        self.threads = threads if threads is not None else _default_threads()
        self.reopen_last = reopen_last
        self.weights = weights  # --weights / config.toml: benchmark runs load with it
        self.describe_weights = describe_weights or _describe_weights

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
        self.install_screen(
            ChatScreen(
                self.left_ref,
                self.right_ref,
                self.initial_settings,
                reopen_last=self.reopen_last,
            ),
            name="chat",
        )
        self.push_screen("chat")

    def remember_pair(self, left_ref: str | None, right_ref: str | None) -> None:
        if self._remember_pair is not None:
            self._remember_pair(left_ref, right_ref)

    def on_unmount(self) -> None:
        # Each pane frees its own model when it unmounts (see ChatPane.on_unmount).
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
