"""Every key of the chat screen, and what the panes do (built from the live bindings)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

ABOUT = (
    "The prompt goes to both panes; each pane keeps its own conversation with its own model and "
    "settings. Tab moves the focus between the prompt and the panes; ctrl+l picks the model of "
    "the pane that last had the focus (highlighted border; the left one at first). To compare one "
    "model with itself, pick it in both panes and give them different settings (F2): it is loaded "
    "twice, because one loaded model can only write one answer at a time and both panes write at "
    "once. Conversations are saved as they happen; ctrl+o lists them."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss(None)", "Close"),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

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
                yield Static(Text(ABOUT), id="help-about")
            yield Static("Escape closes", classes="hint")
