"""The setup of a benchmark run: suites, the two models, items per suite, seed, scoring method and
how many generated answers run at once.

It only gathers and checks what the user typed; `request()` returns the same `BenchRequest` that
`duel bench` builds from its flags, so both run the same thing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList, Static
from textual.widgets.selection_list import Selection

from benchmarks.runner import BenchRequest
from engines.parallel import DEFAULT_PARALLEL
from models.errors import DuelError

DEFAULT_SUITES = ("sentiment",)
METHOD_IDS = {"loglik": "method-loglik", "generate": "method-generate"}


class BenchForm(VerticalScroll):
    def __init__(self, left_ref: str, right_ref: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.left_ref = left_ref
        self.right_ref = right_ref
        self.suite_names: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label("Suites", classes="field-label")
        yield SelectionList[str](id="bench-suites", compact=True)
        yield Label("Models", classes="field-label")
        yield Input(self.left_ref, id="bench-model-a", placeholder="model A (name or path)", compact=True)
        yield Input(
            self.right_ref, id="bench-model-b", placeholder="model B (blank: only model A)", compact=True
        )
        yield Label("Items per suite (blank: all)", classes="field-label")
        yield Input("", id="bench-limit", type="integer", placeholder="all", compact=True)
        yield Label("Seed (which items, when limited)", classes="field-label")
        yield Input("0", id="bench-seed", type="integer", compact=True)
        yield Label("Scoring of classify / multiple choice", classes="field-label")
        with RadioSet(id="bench-method", compact=True):
            yield RadioButton("log-likelihood of each option", value=True, id=METHOD_IDS["loglik"])
            yield RadioButton("generate an answer and parse it", id=METHOD_IDS["generate"])
        yield Label("Answers generated at once", classes="field-label")
        yield Input(str(DEFAULT_PARALLEL), id="bench-parallel", type="integer", compact=True,
                    tooltip="Sequences per llama.cpp decode, or requests in flight to a remote server; "
                    "1 generates one answer at a time")
        yield Button("Start (ctrl+s)", id="bench-start", variant="success")
        yield Static("", id="bench-form-error")

    def set_suites(
        self, suites: list[tuple[str, str, int | None, str, str]], selected: tuple[str, ...]
    ) -> None:
        """(name, task label, item count, source, description) per suite; `selected` are ticked."""
        self.suite_names = [s[0] for s in suites]
        picker = self.query_one("#bench-suites", SelectionList)
        picker.clear_options()
        for name, task, count, source, _ in suites:
            items = f"{count} items" if count is not None else "file missing"
            origin = "" if source == "built-in" else " · imported"
            picker.add_option(Selection(f"{name}  ({task}, {items}{origin})", name, name in selected))

    def set_models(self, names: list[str]) -> None:
        for input_id in ("#bench-model-a", "#bench-model-b"):
            self.query_one(input_id, Input).suggester = SuggestFromList(names, case_sensitive=False)

    def fill(self, request: BenchRequest) -> None:
        """Show a request (e.g. the run being resumed) in the form."""
        picker = self.query_one("#bench-suites", SelectionList)
        picker.deselect_all()
        for name in request.suites:
            if name in self.suite_names:
                picker.select(name)
        models = list(request.models) + ["", ""]
        self.query_one("#bench-model-a", Input).value = models[0]
        self.query_one("#bench-model-b", Input).value = models[1]
        self.query_one("#bench-limit", Input).value = "" if request.limit is None else str(request.limit)
        self.query_one("#bench-seed", Input).value = str(request.seed)
        self.query_one(f"#{METHOD_IDS.get(request.method, 'method-loglik')}", RadioButton).value = True
        self.query_one("#bench-parallel", Input).value = str(request.parallel)

    def selected_suites(self) -> list[str]:
        return list(self.query_one("#bench-suites", SelectionList).selected)

    def request(self) -> BenchRequest:
        """The run the form describes; DuelError with one line when something is missing or wrong."""
        suites = self.selected_suites()
        if not suites:
            raise DuelError("pick at least one suite")
        models = [self.query_one(i, Input).value.strip() for i in ("#bench-model-a", "#bench-model-b")]
        models = [m for m in models if m]
        if not models:
            raise DuelError("give at least one model")
        if len(set(models)) != len(models):
            raise DuelError("the same model is given twice: pick two different models")
        limit_text = self.query_one("#bench-limit", Input).value.strip()
        limit = None
        if limit_text:
            limit = int(limit_text) if limit_text.lstrip("-").isdigit() else 0
            if limit < 1:
                raise DuelError("items per suite must be a whole number of at least 1 (or blank for all)")
        seed_text = self.query_one("#bench-seed", Input).value.strip() or "0"
        if not seed_text.lstrip("-").isdigit():
            raise DuelError("the seed must be a whole number")
        parallel_text = self.query_one("#bench-parallel", Input).value.strip() or str(DEFAULT_PARALLEL)
        parallel = int(parallel_text) if parallel_text.lstrip("-").isdigit() else 0
        if parallel < 1:
            raise DuelError("answers generated at once must be a whole number of at least 1")
        pressed = self.query_one("#bench-method", RadioSet).pressed_button
        method = "generate" if pressed is not None and pressed.id == METHOD_IDS["generate"] else "loglik"
        # Suites in the order the picker lists them, so the same choice is the same run (resumable).
        ordered = tuple(name for name in self.suite_names if name in suites)
        return BenchRequest(
            suites=ordered, models=tuple(models), limit=limit, seed=int(seed_text), method=method,
            parallel=parallel,
        )

    def show_error(self, text: str) -> None:
        self.query_one("#bench-form-error", Static).update(text)

    def set_running(self, running: bool) -> None:
        """While a run is going the setup cannot change (it is what the run is doing)."""
        for widget in self.query("SelectionList, Input, RadioSet, Button"):
            widget.disabled = running
