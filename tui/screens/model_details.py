"""Everything duel knows about one model: the description, every GGUF metadata key, the chat template.

All of it comes from the header that `list_models` already read (nothing is loaded or assembled).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static, TabbedContent, TabPane, TextArea

from models.info import ModelInfo, format_bytes
from tui.widgets.models_table import memory_fit

VALUE_LIMIT = 100


def short_value(value: Any, limit: int = VALUE_LIMIT) -> str:
    """One line for the metadata table; long texts (templates, token lists) say how long they are."""
    text = str(value)
    if len(text) <= limit and "\n" not in text:
        return text
    first = text.splitlines()[0] if text.strip() else ""
    return f"{first[:limit]}… ({len(text)} chars)"


def overview_rows(info: ModelInfo, n_ctx: int, free: int) -> list[tuple[str, str]]:
    from models.memory import estimate_memory

    fit = memory_fit(info, n_ctx, free)
    if fit.needed is not None:
        parts = estimate_memory(info, n_ctx)
        memory = (
            f"{format_bytes(parts.total)} at {n_ctx} tokens (weights {format_bytes(parts.weights)}, "
            f"KV cache {format_bytes(parts.kv_cache)}, compute {format_bytes(parts.compute)})"
        )
        fits = f"{'yes' if fit.fits else 'no'} ({format_bytes(free)} free)"
    else:
        memory, fits = "cannot estimate", "?"
    params = f"{info.parameters_label()} ({info.parameters:,})" if info.parameters else "?"
    template = "no (a generic format is used)"
    if info.chat_template:
        template = f"yes ({len(info.chat_template)} chars)"
    size = f"{format_bytes(info.file_size)} ({info.file_size:,} bytes)" if info.file_size else "?"
    return [
        ("name", info.name),
        ("header name", info.display_name or "?"),
        ("family", info.family or "?"),
        ("architecture", info.architecture or "?"),
        ("parameters", params),
        ("quantization", info.quantization or "?"),
        ("context length", str(info.context_length or "?")),
        ("file size", size),
        ("chat template", template),
        ("estimated memory", memory),
        ("fits in free memory", fits),
        ("licence", info.license or "not stated"),
        ("source", f"{info.source} ({info.status})" if info.status else info.source),
        ("path", str(info.path) if info.path else "-"),
        ("sha256", info.sha256 or "not computed yet"),
    ]


class ModelDetailsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self, info: ModelInfo, n_ctx: int, free_bytes: int) -> None:
        super().__init__()
        self.info = info
        self.n_ctx = n_ctx
        self.free_bytes = free_bytes

    def compose(self) -> ComposeResult:
        info = self.info
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column(overflow="fold")
        self.overview = dict(overview_rows(info, self.n_ctx, self.free_bytes))
        for label, value in self.overview.items():
            fields.add_row(label, Text(value))
        with Vertical(id="details-dialog"):
            yield Label(f"{info.name}", classes="dialog-title")
            with TabbedContent(id="details-tabs"):
                with TabPane("Overview", id="details-overview"):
                    yield VerticalScroll(Static(fields, id="details-fields"))
                with TabPane(f"Metadata ({len(info.metadata)} keys)", id="details-metadata"):
                    yield DataTable(id="details-metadata-table", cursor_type="row", zebra_stripes=True)
                with TabPane("Chat template", id="details-template"):
                    if info.chat_template:
                        yield TextArea(
                            info.chat_template,
                            read_only=True,
                            id="details-template-text",
                            soft_wrap=True,
                            show_line_numbers=True,
                        )
                    else:
                        yield Static("This model's GGUF header has no chat template.", classes="hint")
            yield Static("←/→ tabs · Escape closes", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#details-metadata-table", DataTable)
        table.add_column("key", key="key")
        table.add_column("value", key="value")
        for key, value in self.info.metadata.items():
            table.add_row(key, short_value(value), key=key)
