"""The one prompt box under both panes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


def _input_bindings_without(taken: set[str]) -> list[Binding]:
    """Input's own bindings minus keys the chat screen uses (ctrl+e exports; End still moves)."""
    kept = []
    for binding in Input.BINDINGS:
        assert isinstance(binding, Binding)
        keys = [k for k in binding.key.split(",") if k not in taken]
        if keys and binding.key != "enter":
            kept.append(replace(binding, key=",".join(keys)))
    return kept


class PromptInput(Input, inherit_bindings=False):
    """Enter sends to both panes; "?" in an empty box opens the help (a question still types)."""

    BINDINGS = [Binding("enter", "submit", "Send", show=True), *_input_bindings_without({"ctrl+e"})]

    @dataclass
    class HelpRequested(Message):
        """The user typed "?" into an empty prompt box."""

    async def _on_key(self, event: events.Key) -> None:
        if event.character == "?" and not self.value:
            event.stop()
            event.prevent_default()
            self.post_message(self.HelpRequested())
            return
        await super()._on_key(event)
