"""The line on top of a pane: which model answers there, and what it is doing."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from models.info import ModelInfo


def describe_model(info: ModelInfo) -> Text:
    """name  architecture · parameters · quantization"""
    text = Text(info.name, style="bold")
    details = [info.architecture or "?", info.parameters_label(), info.quantization or "?"]
    text.append("  " + " · ".join(details), style="dim")
    return text


class PaneHeader(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static(id="model-line")
        yield Static(id="status-line")

    def show_model(self, info: ModelInfo | None, ref: str) -> None:
        line = describe_model(info) if info else Text(ref, style="bold")
        self.query_one("#model-line", Static).update(line)

    def show_alias(self, alias: str) -> None:
        """A blind pane's name ("Model A"): nothing about the model behind it."""
        self.query_one("#model-line", Static).update(Text(alias, style="bold"))

    def show_status(self, status: str, style: str = "") -> None:
        self.query_one("#status-line", Static).update(Text(status, style=style))
