"""Settings of both panes side by side: sampling, context size, GPU layers, weights, system prompt.

Each pane has its own values, which is how one model is compared with itself under two settings
(e.g. temperature 0 against 0.8). The system prompt can be one for both or one per pane. Under the
weights choice, what it means on this machine (e.g. "auto → no-amx: AMX left out ...").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from models.weights_choice import WEIGHT_CHOICES
from tui.chat_state import PANES, PaneSettings

# (field, label, Input type)
NUMBER_FIELDS = (
    ("temperature", "Temperature (0–2)", "number"),
    ("top_p", "Top p (0–1]", "number"),
    ("max_tokens", "Max tokens", "integer"),
    ("seed", "Seed (blank: random)", "integer"),
    ("n_ctx", "Context size (reloads the model)", "integer"),
    ("gpu_layers", "GPU layers (-1 all; reloads)", "integer"),
)


@dataclass(frozen=True)
class SettingsResult:
    left: PaneSettings
    right: PaneSettings
    shared_system_prompt: bool

    def for_pane(self, pane: str) -> PaneSettings:
        return self.left if pane == "left" else self.right


class SettingsScreen(ModalScreen[SettingsResult | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "apply", "Apply", priority=True),
    ]

    def __init__(
        self,
        left: PaneSettings,
        right: PaneSettings,
        *,
        shared_system_prompt: bool,
        models: dict[str, str],
        describe_weights: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self._initial = {"left": left, "right": right}
        self._shared = shared_system_prompt
        self._models = models  # pane -> model name, for the column titles
        self._describe_weights = describe_weights or (lambda choice: choice)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="settings"):
            yield Label("Settings", classes="dialog-title")
            with VerticalScroll(id="settings-body"):
                yield Checkbox("Same system prompt for both panes", self._shared, id="shared-system")
                with Horizontal(id="settings-columns"):
                    for pane in PANES:
                        yield from self._column(pane)
            yield Static(id="settings-errors")
            with Horizontal(id="settings-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")
            yield Static("ctrl+s apply · Escape cancel · applies to the next prompt", classes="hint")

    def _column(self, pane: str) -> ComposeResult:
        settings = self._initial[pane]
        with Vertical(classes="settings-column", id=f"column-{pane}"):
            yield Label(Text(f"{pane.title()} pane — {self._models.get(pane, '')}", style="bold"))
            for name, label, kind in NUMBER_FIELDS:
                value = getattr(settings, name)
                yield Label(label, classes="field-label")
                yield Input("" if value is None else str(value), type=kind, id=f"{pane}-{name}", compact=True)
            yield Label("Weights on the CPU (reloads)", classes="field-label")
            yield Select(
                [(choice, choice) for choice in WEIGHT_CHOICES],
                value=settings.weights,
                allow_blank=False,
                compact=True,
                id=f"{pane}-weights",
            )
            note = Text(self._describe_weights(settings.weights))
            yield Static(note, id=f"{pane}-weights-note", classes="hint")
            yield Label("System prompt", classes="field-label")
            yield TextArea(settings.system_prompt, id=f"{pane}-system", classes="system-prompt", compact=True)

    def on_mount(self) -> None:
        self._sync_shared()
        self.query_one("#left-temperature", Input).focus()

    @on(Checkbox.Changed, "#shared-system")
    def _sync_shared(self) -> None:
        shared = self.query_one("#shared-system", Checkbox).value
        right = self.query_one("#right-system", TextArea)
        right.disabled = shared
        if shared:
            right.text = self.query_one("#left-system", TextArea).text

    @on(Select.Changed)
    def _describe_choice(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.endswith("-weights") and isinstance(event.value, str):
            note = Text(self._describe_weights(event.value))
            self.query_one(f"#{event.select.id}-note", Static).update(note)

    @on(TextArea.Changed, "#left-system")
    def _mirror_system(self) -> None:
        if self.query_one("#shared-system", Checkbox).value:
            self.query_one("#right-system", TextArea).text = self.query_one("#left-system", TextArea).text

    def _read(self, pane: str, system_prompt: str) -> PaneSettings:
        values: dict[str, object] = {"system_prompt": system_prompt}
        for name, _, _ in NUMBER_FIELDS:
            raw = self.query_one(f"#{pane}-{name}", Input).value.strip()
            if raw == "" and name != "seed":
                raise ValueError(f"{pane} pane: {name.replace('_', ' ')} is required")
            values[name] = None if raw == "" else raw
        values["weights"] = self.query_one(f"#{pane}-weights", Select).value
        try:
            return PaneSettings.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]).replace("_", " ")
            raise ValueError(f"{pane} pane: {field}: {first['msg']}") from None

    def action_apply(self) -> None:
        shared = self.query_one("#shared-system", Checkbox).value
        left_system = self.query_one("#left-system", TextArea).text
        right_system = left_system if shared else self.query_one("#right-system", TextArea).text
        try:
            left = self._read("left", left_system)
            right = self._read("right", right_system)
        except ValueError as exc:
            self.query_one("#settings-errors", Static).update(Text(str(exc), style="bold"))
            return
        self.dismiss(SettingsResult(left, right, shared))

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)
