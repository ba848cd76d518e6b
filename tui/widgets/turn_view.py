"""One prompt and one pane's answer to it: the prompt, a notice, the Markdown answer, the stats line."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

from tui.chat_state import PaneTurn, format_stats

# What a blind pane (the arena) says instead of an error text, which may name the model or its file.
HIDDEN_REASON = "the reason is shown after the vote"


class TurnView(Vertical):
    def __init__(self, turn: PaneTurn, *, show_model: bool = False, hide_errors: bool = False) -> None:
        super().__init__(classes="turn")
        self.turn = turn
        self._show_model = show_model  # a reopened answer written by another model says so
        self._hide_errors = hide_errors  # a blind pane's error text may name the model: held back
        # A new turn's answer is all drawn through write(), so it starts empty even if text
        # arrived before the view was mounted; a reopened turn shows its saved answer.
        self._initial_text = turn.answer if turn.settled else ""
        self.ready = asyncio.Event()  # set once mounted: writes wait for it

    def compose(self) -> ComposeResult:
        yield Static(Text("› " + self.turn.prompt), classes="prompt")
        yield Static(classes="notice")
        yield Markdown(self._initial_text, classes="answer")
        yield Static(classes="stats")

    def on_mount(self) -> None:
        self.ready.set()
        self.refresh_footer()

    @property
    def markdown(self) -> Markdown:
        return self.query_one(".answer", Markdown)

    async def write(self, text: str) -> None:
        """Append streamed text. The screen already draws at a bounded rate (ChatScreen._draw_panes),
        so this appends at once rather than through a MarkdownStream, whose background task would
        spread one draw over several screen refreshes."""
        await self.markdown.append(text)

    async def finish(self) -> None:
        self.refresh_footer()

    async def restart(self) -> None:
        """Clear the answer for a new generation of the same turn (regenerate)."""
        await self.markdown.update("")
        self.refresh_footer()

    def reveal_errors(self) -> None:
        self._hide_errors = False
        self.refresh_footer()

    def refresh_footer(self) -> None:
        """Notice and stats line from the turn's current state (on_mount draws them otherwise)."""
        if not self.ready.is_set():
            return
        turn = self.turn
        notice = self.query_one(".notice", Static)
        lines = []
        if turn.notice:
            lines.append(Text(turn.notice, style="italic"))
        if turn.error:
            reason = HIDDEN_REASON if self._hide_errors else turn.error
            lines.append(Text(f"error: {reason}", style="bold"))
        notice.update(Text("\n").join(lines))
        notice.display = bool(lines)
        notice.set_class(bool(turn.error), "-error")

        stats = self.query_one(".stats", Static)
        if turn.stats is not None:
            line = format_stats(turn.stats)
            if self._show_model and turn.model:
                line += f" · {turn.model}"
            stats.update(Text(line))
        elif turn.finish_reason is None:
            stats.update(Text("answering…" if turn.first_text_at else "waiting for the model…"))
        else:
            stats.update(Text(turn.finish_reason))
        stats.set_class(turn.finish_reason in ("cancelled", "error"), "-interrupted")
