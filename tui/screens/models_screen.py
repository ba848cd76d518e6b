"""The Models screen: every bundled and registered model, whether it fits, and what to do with it.

The list is read in a thread worker (reading GGUF headers touches the disk). Adding a model checks
its header through `models.registry.add`; removing only forgets the name (the file stays on disk).
"Use left/right" hands the model to the chat screen through the pane's own `load_model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static
from textual.worker import Worker, WorkerState

from models.errors import DuelError
from models.info import ModelInfo, format_bytes
from tui.chat_state import Side
from tui.screens.confirm import ConfirmScreen
from tui.screens.model_details import ModelDetailsScreen
from tui.screens.model_picker import model_ref
from tui.widgets.models_path_suggester import PathSuggester
from tui.widgets.models_table import ModelsTable

if TYPE_CHECKING:
    from tui.app import DuelApp

DEFAULT_CTX = 4096  # shown until the chat's context size is read at mount
MIN_CTX, MAX_CTX = 128, 1 << 20


def name_from_path(path: Path) -> str:
    """A registry name for a file: its stem, with what names may not hold replaced by '-'."""
    stem = path.name[: -len(".gguf")] if path.name.lower().endswith(".gguf") else path.stem
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", stem).strip("-._+")
    return (name or "model")[:64]


class ModelsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Chat", show=False),
        Binding("a", "add", "Add"),
        Binding("d", "download", "Download"),
        Binding("enter", "details", "Details", show=False),
        Binding("i", "details", "Details"),
        Binding("delete,x", "remove", "Remove"),
        Binding("l", "use('left')", "Use left"),
        Binding("r", "use('right')", "Use right"),
    ]

    @dataclass
    class ModelsListed(Message):
        models: list[ModelInfo]
        free_bytes: int

    def __init__(self) -> None:
        super().__init__()
        self.models: list[ModelInfo] | None = None
        self.free_bytes = 0
        self.n_ctx = DEFAULT_CTX
        self.last_error = ""
        self._select_after_refresh: str | None = None

    @property
    def duel(self) -> DuelApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="models-body"):
            with Horizontal(id="models-top"):
                yield Label("Models", classes="section-title")
                yield Label("Context size for the estimate:", classes="field-label")
                yield Input(str(self.n_ctx), type="integer", id="models-ctx", max_length=8, compact=True)
                yield Static("", id="models-free")
            yield ModelsTable(id="models-table")
            yield Static("Reading the model list…", id="models-hint", classes="hint")
            with Horizontal(id="models-add"):
                yield Input(
                    placeholder="Path of a .gguf file to add (→ completes)",
                    suggester=PathSuggester(),
                    id="models-path",
                )
                yield Input(placeholder="Name (default: file name)", id="models-name")
                yield Button("Add", id="models-add-button", variant="primary")
            yield Static("", id="models-error")
        yield Footer()

    def on_mount(self) -> None:
        self.n_ctx = self._chat_context_size()
        self.query_one("#models-ctx", Input).value = str(self.n_ctx)
        self.query_one(ModelsTable).focus()
        self.refresh_models()

    def on_screen_resume(self) -> None:
        if self.models is not None:  # coming back: files may have changed, memory certainly has
            self.refresh_models()

    def _chat_context_size(self) -> int:
        """The left pane's context size, so the estimate answers "will it fit in my chat?"."""
        return self.duel.pair.settings("left").n_ctx

    # ----- listing --------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        self._list_blocking()

    @work(thread=True, exclusive=True, group="models-list", exit_on_error=False)
    def _list_blocking(self) -> None:
        from models.memory import free_memory_bytes

        self.post_message(self.ModelsListed(self.duel.list_models(), free_memory_bytes()))

    def on_models_screen_models_listed(self, message: ModelsListed) -> None:
        self.models = message.models
        self.free_bytes = message.free_bytes
        self._show()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "models-list" and event.state == WorkerState.ERROR:
            self._error(f"Could not list models: {event.worker.error}")

    def _show(self) -> None:
        models = self.models or []
        table = self.query_one(ModelsTable)
        table.show(models, self.n_ctx, self.free_bytes)
        if self._select_after_refresh and table.select_name(self._select_after_refresh):
            self._select_after_refresh = None
        self.query_one("#models-free", Static).update(f"free memory: {format_bytes(self.free_bytes)}")
        self.query_one("#models-hint", Static).update(
            Text(
                f"{len(models)} models · memory estimated at {self.n_ctx} tokens of context · "
                "* = prepared on first use · Enter details · l / r use in the left / right chat pane"
            )
        )

    @on(Input.Changed, "#models-ctx")
    def _ctx_changed(self, event: Input.Changed) -> None:
        try:
            value = int(event.value)
        except ValueError:
            return
        if MIN_CTX <= value <= MAX_CTX and value != self.n_ctx:
            self.n_ctx = value
            if self.models is not None:
                self._show()

    # ----- selection ----------------------------------------------------------------------------
    @property
    def selected(self) -> ModelInfo | None:
        name = self.query_one(ModelsTable).selected_name
        return next((m for m in self.models or [] if m.name == name), None)

    def _need_selection(self) -> ModelInfo | None:
        info = self.selected
        if info is None:
            self.notify("No model selected.", severity="warning")
        return info

    @on(DataTable.RowSelected, "#models-table")
    def _row_selected(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        info = self._need_selection()
        if info is not None:
            self.app.push_screen(ModelDetailsScreen(info, self.n_ctx, self.free_bytes))

    async def action_use(self, side: Side) -> None:
        info = self._need_selection()
        if info is None:
            return
        if info.status and info.status.startswith("not installed"):
            self.notify(f"{info.name}: {info.status}", severity="error")
            return
        await self.duel.use_model(side, model_ref(info))  # the chat pane loads it in its own worker
        self.notify(f"The {side} chat pane now loads {info.name}.")

    def action_back(self) -> None:
        from tui.screens.sections import go_to_chat

        go_to_chat(self.app)

    # ----- add / download / remove -------------------------------------------------------------
    def action_download(self) -> None:
        from tui.screens.models_download import ModelsDownloadScreen

        self.app.push_screen(ModelsDownloadScreen(), self._downloaded)

    def _downloaded(self, name: str | None) -> None:
        if name:
            self._select_after_refresh = name
            self.refresh_models()

    def action_add(self) -> None:
        self.query_one("#models-path", Input).focus()

    @on(Input.Submitted, "#models-path")
    @on(Input.Submitted, "#models-name")
    @on(Button.Pressed, "#models-add-button")
    def _add_requested(self) -> None:
        path, name = self.query_one("#models-path", Input), self.query_one("#models-name", Input)
        self.add_model(path.value, name.value)

    def add_model(self, path_text: str, name_text: str = "") -> bool:
        from models import registry

        path_text = path_text.strip()
        if not path_text:
            self._error("Type the path of a .gguf file to add.")
            return False
        path = Path(path_text).expanduser()
        name = name_text.strip() or name_from_path(path)
        try:
            info = registry.add(path, name)
        except DuelError as exc:
            self._error(str(exc))
            return False
        self._error("")
        self.query_one("#models-path", Input).value = ""
        self.query_one("#models-name", Input).value = ""
        self.notify(f"Registered {info.name} ({info.architecture}, {info.parameters_label()}).")
        self._select_after_refresh = info.name
        self.refresh_models()
        self.query_one(ModelsTable).focus()
        return True

    def action_remove(self) -> None:
        info = self._need_selection()
        if info is None:
            return
        if info.source != "registry":
            self.notify(
                f"{info.name} is {info.source}, not registered: there is nothing to remove.",
                severity="warning",
            )
            return
        where = f"The file {info.path} stays on disk." if info.path else ""
        self.app.push_screen(
            ConfirmScreen(f"Remove {info.name} from the registry?", where, yes_label="Remove"),
            lambda yes: self._remove_confirmed(info.name) if yes else None,
        )

    def _remove_confirmed(self, name: str) -> None:
        from models import registry

        try:
            entry = registry.remove(name)
        except DuelError as exc:
            self._error(str(exc))
            return
        self.notify(f"Removed {name} from the registry; {entry.path} was left in place.")
        self.refresh_models()

    def _error(self, text: str) -> None:
        self.last_error = text
        self.query_one("#models-error", Static).update(Text(text))
        if text:
            self.notify(text, severity="error", timeout=8)
