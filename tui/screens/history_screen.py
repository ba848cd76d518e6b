"""Past conversations, most recent first; Enter reopens one in both panes."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.conversation_store import ConversationSummary


def summary_label(summary: ConversationSummary) -> Text:
    when = datetime.fromtimestamp(summary.updated_at).strftime("%Y-%m-%d %H:%M")
    label = Text(summary.title or "(untitled)", style="bold")
    plural = "s" if summary.turns != 1 else ""
    label.append(
        f"\n  {when} · {summary.left_ref} vs {summary.right_ref} · {summary.turns} turn{plural}", style="dim"
    )
    return label


class HistoryScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, conversations: list[ConversationSummary], current_id: int | None) -> None:
        super().__init__()
        self.conversations = conversations
        self.current_id = current_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="history"):
            yield Label("Conversations", classes="dialog-title")
            options = []
            for summary in self.conversations:
                label = summary_label(summary)
                if summary.id == self.current_id:
                    label.append("  (open)", style="italic")
                options.append(Option(label, id=str(summary.id)))
            yield OptionList(*options, id="conversations")
            hint = "Enter open · Escape close" if options else "No saved conversations yet."
            yield Static(hint, classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))
