"""The arena's setup: which models battle (the pool, two or more) and the settings both sides share.

The pool comes from the app's model list (bundled and registered, read in a thread worker) plus any
reference typed in (`hf:...`, `remote:...`, `scripted:...`, a path). Both sides of every battle use
the same settings, so a vote compares the models and not their sampling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from models.errors import DuelError
from models.info import ModelInfo
from tui.chat_state import PaneSettings
from tui.screens.model_picker import ModelListing, download_question, model_ref

# (field, label, Input type): what a battle's settings dialog offers; the rest keep their defaults.
FIELDS = (
    ("max_tokens", "Max tokens", "integer"),
    ("temperature", "Temperature (0–2)", "number"),
    ("n_ctx", "Context size", "integer"),
)


@dataclass(frozen=True)
class ArenaSetup:
    """A pool of model refs (empty: ask the user) and the settings both sides of a battle use."""

    pool: tuple[str, ...] = ()
    settings: PaneSettings = PaneSettings()

    def settings_json(self) -> dict[str, Any]:
        """What a battle stores as its settings (the system prompt goes in separately)."""
        return self.settings.model_dump(exclude={"system_prompt"})


def remembered_pool() -> tuple[str, ...]:
    """The pool of the last arena session (config.toml [arena] pool), else the bundled pair."""
    from models.config import load_config
    from models.resolve import DEFAULT_PAIR

    try:
        pool = tuple(load_config().arena.pool)
    except DuelError:
        pool = ()
    return pool if len(pool) >= 2 else DEFAULT_PAIR


def remember_pool(pool: Sequence[str]) -> None:
    from models.config import edit_config

    with edit_config() as config:
        if config.arena.pool != list(pool):
            config.arena.pool = list(pool)


def _label(info: ModelInfo) -> Text:
    text = Text(info.name, style="bold")
    text.append(
        f"  {info.family or '?'} · {info.parameters_label()} · {info.quantization or '?'} · {info.source}",
        style="dim",
    )
    if info.status:
        text.append(f"  ({info.status})", style="italic")
    return text


class ArenaSetupScreen(ModelListing, ModalScreen[ArenaSetup | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "start", "Start", priority=True),
    ]

    def __init__(self, setup: ArenaSetup, list_models: Callable[[], list[ModelInfo]]) -> None:
        super().__init__()
        self.setup = setup
        self._list_models = list_models
        self._typed: list[str] = []  # refs typed in, kept at the end of the list

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="arena-setup"):
            yield Label("Arena: the pool of models that battle", classes="dialog-title")
            yield Static(
                "Each battle draws two of them at random, on random sides, shown as Model A and "
                "Model B until you vote. Space selects; pick two or more.",
                classes="hint",
            )
            yield SelectionList[str](id="arena-pool")
            yield Input(
                placeholder="Add a reference: hf:OWNER/REPO/FILE.gguf, remote:URL#name, scripted:NAME, "
                "a path… (Enter adds)",
                id="arena-add",
            )
            with Horizontal(id="arena-fields"):
                for name, label, kind in FIELDS:
                    with Vertical(classes="arena-field"):
                        yield Label(label, classes="field-label")
                        value = getattr(self.setup.settings, name)
                        yield Input(str(value), type=kind, id=f"arena-{name}", compact=True)
            yield Label("System prompt (both sides; blank: none)", classes="field-label")
            yield Input(self.setup.settings.system_prompt, id="arena-system", compact=True)
            yield Static(id="arena-errors")
            with Horizontal(id="arena-buttons"):
                yield Button("Start", variant="primary", id="arena-start")
                yield Button("Cancel", id="arena-cancel")
            yield Static("Reading the model list…", id="arena-hint", classes="hint")

    def on_mount(self) -> None:
        self._refill(also_chosen=self.setup.pool)  # the pool so far, until the model list is read
        self.query_one("#arena-pool", SelectionList).focus()
        self.read_models(self._list_models)

    def models_changed(self, error: str = "") -> None:
        self._refill()
        if error:
            self._hint(f"{error} You can still add references.")

    def _hint(self, text: str) -> None:
        self.query_one("#arena-hint", Static).update(Text(text))

    def _refill(self, also_chosen: Iterable[str] = ()) -> None:
        listing = self.query_one("#arena-pool", SelectionList)
        chosen = {*listing.selected, *also_chosen}
        listed = [(model_ref(info), _label(info)) for info in self.models or []]
        known = {ref for ref, _ in listed}
        # Pool refs that are not in the list (typed earlier, or given with --pool) stay choosable.
        extra = [ref for ref in [*self.setup.pool, *self._typed] if ref not in known]
        rows = listed + [(ref, Text(ref, style="bold")) for ref in dict.fromkeys(extra)]
        listing.clear_options()
        listing.add_options([Selection(label, ref, ref in chosen) for ref, label in rows])
        if self.models is None:
            return
        self._hint("Space selects · Enter in the box below adds a reference · ctrl+s starts · Escape cancels")

    @on(Input.Submitted, "#arena-add")
    def _add_typed(self, event: Input.Submitted) -> None:
        ref = event.value.strip()
        if not ref:
            return
        question = download_question(ref)
        if question is not None:
            self.notify(question[1], title=question[0], timeout=8, markup=False)
        if ref not in self._typed:
            self._typed.append(ref)
        self._refill(also_chosen=[ref])
        event.input.value = ""

    def chosen_pool(self) -> tuple[str, ...]:
        """The selected refs, in list order."""
        listing = self.query_one("#arena-pool", SelectionList)
        selected = set(listing.selected)
        order = [listing.get_option_at_index(i).value for i in range(listing.option_count)]
        return tuple(ref for ref in order if ref in selected)

    def _read_settings(self) -> PaneSettings:
        values: dict[str, object] = {"system_prompt": self.query_one("#arena-system", Input).value}
        for name, label, _ in FIELDS:
            raw = self.query_one(f"#arena-{name}", Input).value.strip()
            if not raw:
                raise ValueError(f"{label.split(' (')[0].lower()} is required")
            values[name] = raw
        try:
            return self.setup.settings.model_validate({**self.setup.settings.model_dump(), **values})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]).replace("_", " ")
            raise ValueError(f"{field}: {first['msg']}") from None

    def action_start(self) -> None:
        from benchmarks.arena.battle import check_pool_refs, parse_pool

        try:
            pool = parse_pool(self.chosen_pool())
            check_pool_refs(pool)
            settings = self._read_settings()
        except (DuelError, ValueError) as exc:
            self.query_one("#arena-errors", Static).update(Text(str(exc), style="bold"))
            return
        self.dismiss(ArenaSetup(pool, settings))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "arena-start":
            self.action_start()
        else:
            self.dismiss(None)
