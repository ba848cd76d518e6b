"""Every key of a screen (the chat, the arena), and what it is for (built from the live bindings)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

ABOUT = (
    "The prompt goes to both panes; each pane keeps its own conversation with its own model and "
    "settings. Tab moves the focus between the prompt and the panes; ctrl+l picks the model of "
    "the pane that last had the focus (highlighted border; the left one at first). To compare one "
    "model with itself, pick it in both panes and give them different settings (F2): it is loaded "
    "twice, because one loaded model can only write one answer at a time and both panes write at "
    "once. Conversations are saved as they happen; ctrl+o lists them."
)


# The keys that open a screen's help (F1 everywhere; "?" too, shown once in the footer).
HELP_BINDINGS = [Binding("f1", "help", "Help"), Binding("question_mark", "help", "Help", show=False)]


def key_rows(screen: Screen, descriptions: Mapping[str, str]) -> list[tuple[str, str]]:
    """One row per action of `screen`'s and the app's bindings (keys doing the same thing share a row),
    described in the help's words where `descriptions` has them, else by the footer's label."""
    by_action: dict[str, list[Binding]] = {}
    app_bindings = [b for b in screen.app.BINDINGS if isinstance(b, Binding) and b.description]
    for binding in [*screen.BINDINGS, *app_bindings]:
        assert isinstance(binding, Binding)
        by_action.setdefault(binding.action, []).append(binding)
    rows = []
    for action, bindings in by_action.items():
        keys = " / ".join(screen.app.get_key_display(b) for b in bindings)
        rows.append((keys, descriptions.get(action, bindings[0].description)))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss(None)", "Close"),
    ]

    def __init__(self, rows: list[tuple[str, str]], *, about: str = ABOUT) -> None:
        super().__init__()
        self.rows = rows
        self.about = about

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, description in self.rows:
            table.add_row(keys, description)
        with Vertical(id="dialog", classes="help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(table, id="help-keys")
                yield Static(Text(self.about), id="help-about")
            yield Static("Escape closes", classes="hint")
