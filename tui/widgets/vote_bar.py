"""The arena's vote buttons (A is better, B is better, tie, both bad) and, after the vote, the reveal.

The buttons are disabled until both answers of the last turn have ended; the keys 1-4 do the same as
the buttons (the screen binds them). Once the vote is in, the buttons give way to one line that
names both models.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

# vote -> (key, button label); the order of the buttons, left to right.
VOTE_KEYS = {
    "a": ("1", "A is better"),
    "b": ("2", "B is better"),
    "tie": ("3", "Tie"),
    "bothbad": ("4", "Both bad"),
}


class VoteBar(Horizontal):
    @dataclass
    class Voted(Message):
        vote: str

    def compose(self) -> ComposeResult:
        for vote, (key, label) in VOTE_KEYS.items():
            yield Button(f"{key}  {label}", id=f"vote-{vote}", classes="vote-button", compact=True)
        yield Static(id="vote-hint")

    @property
    def buttons(self) -> list[Button]:
        return list(self.query(".vote-button").results(Button))

    def show_waiting(self, hint: str) -> None:
        """Votes not possible yet (answers still coming, files still being checked, nothing asked)."""
        self._show_buttons(enabled=False)
        self.query_one("#vote-hint", Static).update(Text(hint, style="italic"))

    def show_open(self) -> None:
        self._show_buttons(enabled=True)
        self.query_one("#vote-hint", Static).update(
            Text("Which answer is better? 1-4 or click · or type a follow-up", style="bold")
        )

    def show_result(self, text: Text) -> None:
        for button in self.buttons:
            button.display = False
        self.query_one("#vote-hint", Static).update(text)

    def _show_buttons(self, *, enabled: bool) -> None:
        for button in self.buttons:
            button.display = True
            button.disabled = not enabled

    def focus_first(self) -> None:
        self.buttons[0].focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id and event.button.id.startswith("vote-"):
            self.post_message(self.Voted(event.button.id.removeprefix("vote-")))
