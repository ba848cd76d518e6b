"""The table of the Models screen: one row per bundled or registered model, keyed by its name.

Every figure comes from models/: the header description (`list_models`) and the memory estimate at
the context size the user chose (`estimate_memory_bytes`), compared with the free memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from models.info import ModelInfo, format_bytes

COLUMNS = (
    ("name", "Name"),
    ("family", "Family"),
    ("arch", "Arch"),
    ("params", "Params"),
    ("quant", "Quant"),
    ("size", "File size"),
    ("ctx", "Context"),
    ("template", "Template"),
    ("memory", "Memory @ctx"),
    ("fits", "Fits"),
    ("source", "Source"),
)


@dataclass(frozen=True)
class MemoryFit:
    needed: int | None  # None: cannot estimate (no local file, or an unreadable header)
    free: int

    @property
    def fits(self) -> bool | None:
        return None if self.needed is None else self.needed <= self.free


def memory_fit(info: ModelInfo, n_ctx: int, free: int) -> MemoryFit:
    from models.memory import estimate_memory_bytes

    if info.path is None or not info.metadata:
        return MemoryFit(None, free)
    return MemoryFit(estimate_memory_bytes(info, n_ctx), free)


def model_cells(info: ModelInfo, fit: MemoryFit) -> list[Text]:
    name = Text(info.name, style="bold")
    if info.status:
        name.append(" *", style="yellow")
    if fit.fits is None:
        fits = Text("?", style="dim")
    else:
        fits = Text("yes", style="green") if fit.fits else Text("no", style="bold red")
    source = Text(info.source)
    if info.status:
        source.append(f" ({info.status})", style="dim")
    return [
        name,
        Text(info.family or "?"),
        Text(info.architecture or "?"),
        Text(info.parameters_label(), justify="right"),
        Text(info.quantization or "?"),
        Text(format_bytes(info.file_size or None), justify="right"),
        Text(str(info.context_length or "?"), justify="right"),
        Text("yes" if info.has_chat_template else "no"),
        Text(format_bytes(fit.needed) if fit.needed else "?", justify="right"),
        fits,
        source,
    ]


class ModelsTable(DataTable):
    """Rows keyed by model name, so the cursor can be put back on a model after a refresh."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, models: list[ModelInfo], n_ctx: int, free: int) -> None:
        selected = self.selected_name
        self.clear()
        for info in models:
            self.add_row(*model_cells(info, memory_fit(info, n_ctx, free)), key=info.name)
        if selected is not None:
            self.select_name(selected)

    @property
    def selected_name(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        return str(key.value) if key.value is not None else None

    def select_name(self, name: str) -> bool:
        try:
            index = self.get_row_index(name)
        except RowDoesNotExist:  # the model went away; leave the cursor where it is
            return False
        self.move_cursor(row=index)
        return True
