"""Choose the model of one pane: a searchable list of bundled and registered models, or any reference.

The list is read in a thread worker (reading GGUF headers touches the disk); typing filters it, and
whatever is typed can also be loaded as a reference (a path to a .gguf file, `scripted:...`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from models.info import ModelInfo

TYPED_PREFIX = "typed:"


def model_ref(info: ModelInfo) -> str:
    """The reference that loads `info` again: its name when duel knows it by name, else its path."""
    if info.source in ("bundled", "registry") or info.path is None:
        return info.name
    return str(info.path)


def matches(info: ModelInfo, query: str) -> bool:
    haystack = " ".join(
        [info.name, info.family, info.architecture, info.quantization, info.display_name, info.source]
    ).lower()
    return all(word in haystack for word in query.lower().split())


def download_question(ref: str) -> tuple[str, str] | None:
    """The question to ask before loading `ref` downloads it from the hub; None when nothing downloads."""
    from models import hub
    from models.errors import DuelError

    if not ref.lower().startswith(hub.HF_PREFIX):
        return None
    try:
        if hub.find_local(hub.parse_reference(ref)) is not None:
            return None
    except DuelError:
        return None  # a bad reference: loading it shows the error
    return (
        f"Download {ref}?",
        f"It is not on disk yet: loading it downloads it from {hub.hub_endpoint()} into "
        f"{hub.download_root()} (it may be large).",
    )


def looks_like_ref(text: str) -> bool:
    return any(mark in text for mark in ("/", ":", ".gguf", "\\"))


class ModelListing:
    """Mixed into a screen that offers the model list (this picker, the arena's pool): the list is read
    in a thread worker, then `models_changed` is called (with the error when listing failed)."""

    models: list[ModelInfo] | None = None  # None until read

    @dataclass
    class Listed(Message):
        models: list[ModelInfo]

    def read_models(self: Widget, list_models: Callable[[], list[ModelInfo]]) -> None:
        self.run_worker(
            partial(_list_blocking, self, list_models), thread=True, name=LISTING, exit_on_error=False
        )

    def on_model_listing_listed(self, message: Listed) -> None:
        self.models = message.models
        self.models_changed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == LISTING and event.state == WorkerState.ERROR:
            self.models = []
            self.models_changed(f"Could not list models: {event.worker.error}.")

    def models_changed(self, error: str = "") -> None:
        raise NotImplementedError


LISTING = "list models"


def _list_blocking(screen: Widget, list_models: Callable[[], list[ModelInfo]]) -> None:
    """Thread: read the list (GGUF headers touch the disk) and post it."""
    screen.post_message(ModelListing.Listed(list_models()))


class ModelPickerScreen(ModelListing, ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("down", "cursor(1)", "Next", show=False),
        Binding("up", "cursor(-1)", "Previous", show=False),
    ]

    def __init__(self, pane: str, current_ref: str, list_models: Callable[[], list[ModelInfo]]) -> None:
        super().__init__()
        self.pane = pane
        self.current_ref = current_ref
        self._list_models = list_models

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="picker"):
            yield Label(f"Model for the {self.pane} pane", classes="dialog-title")
            yield Input(placeholder="Filter, or type a path / reference and press Enter", id="search")
            yield OptionList(id="models")
            yield Static("Reading the model list…", id="picker-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        self.read_models(self._list_models)

    def models_changed(self, error: str = "") -> None:
        self._refill()
        if error:
            self.query_one("#picker-hint", Static).update(Text(f"{error} You can still type a reference."))

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self._refill()

    def _refill(self) -> None:
        query = self.query_one("#search", Input).value.strip()
        listed = [m for m in (self.models or []) if matches(m, query)]
        options: list[Option] = []
        if query and (looks_like_ref(query) or not listed):
            options.append(Option(Text.assemble("Load ", (query, "bold")), id=TYPED_PREFIX + query))
        for info in listed:
            ref = model_ref(info)
            label = Text(info.name, style="bold")
            label.append(
                f"  {info.family or '?'} · {info.architecture or '?'} · {info.parameters_label()}"
                f" · {info.quantization or '?'} · {info.source}",
                style="dim",
            )
            if ref == self.current_ref or info.name == self.current_ref:
                label.append("  (current)", style="italic")
            options.append(Option(label, id=ref))
        option_list = self.query_one("#models", OptionList)
        option_list.clear_options()
        option_list.add_options(options)
        if options:
            option_list.highlighted = 0
        hint = self.query_one("#picker-hint", Static)
        if self.models is not None:
            count = len(self.models)
            hint.update(Text(f"{len(listed)} of {count} models · ↑↓ choose · Enter load · Escape cancel"))

    def action_cursor(self, step: int) -> None:
        option_list = self.query_one("#models", OptionList)
        if option_list.option_count:
            current = option_list.highlighted if option_list.highlighted is not None else -step
            option_list.highlighted = (current + step) % option_list.option_count

    def _choose(self, option_id: str | None) -> None:
        if not option_id:
            return
        ref = option_id.removeprefix(TYPED_PREFIX)
        question = download_question(ref)
        if question is None:
            self.dismiss(ref)
            return
        from tui.screens.confirm import ConfirmScreen

        self.app.push_screen(
            ConfirmScreen(*question, yes_label="Download"),
            partial(self._download_answered, ref),
        )

    def _download_answered(self, ref: str, yes: bool | None) -> None:
        if yes:
            self.dismiss(ref)  # the pane's load downloads it, with its progress bar

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        option_list = self.query_one("#models", OptionList)
        if option_list.highlighted is not None:
            self._choose(option_list.get_option_at_index(option_list.highlighted).id)
        elif event.value.strip():
            self._choose(TYPED_PREFIX + event.value.strip())

    @on(OptionList.OptionSelected, "#models")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)
