"""The app's sections (chat, benchmark, runs & scorecards, models, arena, leaderboard) as Textual modes.

Each section is a mode with its own screen stack, so a running benchmark keeps running (and a
scorecard stays open) while the user looks at the chat or the models. The chat stays in the default
mode, where the app pushes it at start. The same keys work everywhere (shown in the footer), and the
command palette has an entry per section.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual.app import App

CHAT = "_default"  # Textual's default mode: where the chat screen lives


def _blank_base() -> Screen:
    # What Textual puts at the bottom of the default mode anyway; named here so "_default" is a
    # mode the app can switch back to.
    return Screen(id="_default")


def _bench() -> Screen:
    from tui.screens.bench_screen import BenchScreen

    return BenchScreen()


def _runs() -> Screen:
    from tui.screens.runs_screen import RunsScreen

    return RunsScreen()


def _models() -> Screen:
    from tui.screens.models_screen import ModelsScreen

    return ModelsScreen()


def _arena() -> Screen:
    from tui.screens.arena_screen import ArenaScreen

    return ArenaScreen()


def _leaderboard() -> Screen:
    from tui.screens.leaderboard_screen import LeaderboardScreen

    return LeaderboardScreen()


SECTION_MODES: dict[str, Any] = {
    CHAT: _blank_base,
    "bench": _bench,
    "runs": _runs,
    "models": _models,
    "arena": _arena,
    "leaderboard": _leaderboard,
}

# section -> (key, footer label, palette title, palette help)
SECTIONS = {
    "chat": ("f6", "Chat", "Go to: chat", "The two models side by side (F6)"),
    "bench": ("f3", "Bench", "Go to: benchmark", "Run scored suites on two models (F3)"),
    "runs": ("f4", "Runs", "Go to: runs and scorecards", "Past benchmark runs, scorecards, resume (F4)"),
    "models": ("f5", "Models", "Go to: models", "Registered and bundled models: add, remove, details (F5)"),
    "arena": ("f7", "Arena", "Go to: arena", "Blind battles: two hidden models of a pool, you vote (F7)"),
    "leaderboard": (
        "f8",
        "Leaderboard",
        "Go to: leaderboard",
        "Ratings from the arena votes, with 95% intervals and win rates (F8)",
    ),
}

SECTION_BINDINGS = [
    Binding(key, f"go('{section}')", label, priority=True) for section, (key, label, _, _) in SECTIONS.items()
]


def mode_of(section: str) -> str:
    return CHAT if section == "chat" else section


class SectionNavigation:
    """Mixed into the App: the `go` action, hiding the key of the section on screen, palette entries."""

    def action_go(self: App, section: str) -> None:  # type: ignore[misc]
        if isinstance(self.screen, ModalScreen):
            return  # finish or close the dialog first (a key must not strand a half-done dialog)
        self.switch_mode(mode_of(section))

    def check_action(self: App, action: str, parameters: tuple[object, ...]) -> bool | None:  # type: ignore[misc]
        if action == "go" and parameters and mode_of(str(parameters[0])) == self.current_mode:
            return False  # hide "Chat" on the chat screen, "Bench" on the benchmark screen...
        return super().check_action(action, parameters)  # type: ignore[misc]

    def section_commands(self: App) -> Iterable[SystemCommand]:  # type: ignore[misc]
        for section, (_, _, title, help_text) in SECTIONS.items():
            if mode_of(section) != self.current_mode:
                yield SystemCommand(title, help_text, lambda s=section: self.action_go(s))

    def section_base(self: App, section: str) -> Screen | None:  # type: ignore[misc]
        """The base screen of a section if it was opened already (None before its first visit)."""
        stack = self._screen_stacks.get(mode_of(section)) or []
        return stack[0] if stack else None

    def show_section(self: App, section: str) -> Screen:  # type: ignore[misc]
        """Switch to a section and return its base screen (created on first use), e.g. to start a run."""
        self.switch_mode(mode_of(section))
        return self.screen_stack[0]


def go_to_chat(app: App) -> None:
    app.switch_mode(CHAT)
