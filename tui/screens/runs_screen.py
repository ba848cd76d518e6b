"""Every benchmark run: open its scorecard, resume a partial one, delete one, compare two.

A run stopped with Escape (or killed) is "partial"; resuming it starts the same request on the
benchmark screen, where the runner reuses every finished item. Deleting forgets the run; its stored
results stay in the cache, so a later run of the same items still reuses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from benchmarks.store import ResultsStore, RunRow
from models.errors import DuelError
from tui.screens.bench_screen import BenchScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.bench_messages import short_ref

if TYPE_CHECKING:
    from tui.app import DuelApp

# The names come first, so a narrow window shows them whole before anything else (the table scrolls
# sideways for the rest).
COLUMNS = (
    ("mark", ""),
    ("id", "Run"),
    ("models", "Models"),
    ("suites", "Suites"),
    ("status", "Status"),
    ("date", "Started (UTC)"),
    ("items", "Items"),
    ("settings", "Settings"),
)
STATUS_STYLE = {"complete": "green", "running": "cyan", "partial": "yellow"}


def settings_text(config: dict[str, Any]) -> str:
    if config.get("compare"):
        return "comparison of runs " + " and ".join(str(r) for r in config["compare"])
    text = f"{config.get('method')}, limit {config.get('limit') or 'all'}, seed {config.get('seed')}"
    if config.get("shots"):
        text += f", {config['shots']}-shot"
    return text


class RunsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Chat", show=False),
        Binding("o", "open", "Scorecard"),
        Binding("r", "resume", "Resume"),
        Binding("delete,d", "delete", "Delete"),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("ctrl+r", "refresh_runs", "Refresh", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[RunRow] = []
        self.statuses: dict[int, str] = {}
        self.marked: int | None = None

    @property
    def duel(self) -> DuelApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(Text("Benchmark runs", style="bold"), id="runs-title")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static(
            "Enter scorecard · r resume a partial run · d delete · space mark a run, then c compares it "
            "with the highlighted one",
            id="runs-hint",
        )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.refresh_runs()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.refresh_runs()

    # ----- the list -----------------------------------------------------------------------------
    def _bench_run(self) -> int | None:
        """The run going on in this app's benchmark screen, if any (its row says "running")."""
        bench = self.duel.section_base("bench")  # None until the benchmark screen is first opened
        if isinstance(bench, BenchScreen) and bench.running:
            return bench.run_id
        return None

    def refresh_runs(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected.id if self.selected else None
        with ResultsStore() as store:
            self.runs = store.list_runs()
            counts = {run.id: store.count_run_items(run.id) for run in self.runs}
        live = self._bench_run()
        self.statuses = {run.id: "running" if run.id == live else run.display_status for run in self.runs}
        table.clear()
        for run in self.runs:
            cfg = run.config
            status = self.statuses[run.id]
            table.add_row(
                Text("●", style="bold magenta") if run.id == self.marked else "",
                str(run.id),
                " vs ".join(short_ref(m) for m in cfg.get("models", [])),
                ", ".join(cfg.get("suites", [])),
                Text(status, style=STATUS_STYLE.get(status, "")),
                run.created_at.replace("T", " ")[:16],
                str(counts[run.id]),
                settings_text(cfg),
                key=str(run.id),
            )
        if selected is not None:
            self.select(selected)
        title = Text("Benchmark runs", style="bold")
        title.append(
            f"  {len(self.runs)} runs" if self.runs else "  none yet: start one on the benchmark screen (F3)",
            style="dim",
        )
        self.query_one("#runs-title", Static).update(title)

    def action_refresh_runs(self) -> None:
        self.refresh_runs()

    @property
    def selected(self) -> RunRow | None:
        table = self.query_one(DataTable)
        if not self.runs or not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((run for run in self.runs if str(run.id) == key), None)

    def select(self, run_id: int) -> None:
        table = self.query_one(DataTable)
        if str(run_id) in table.rows:  # it may have been deleted
            table.move_cursor(row=table.get_row_index(str(run_id)))

    def _need_run(self) -> RunRow | None:
        run = self.selected
        if run is None:
            self.notify("No run selected.", severity="warning")
        return run

    # ----- actions ------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#runs-table")
    def action_open(self) -> None:
        from tui.screens.scorecard_screen import ScorecardScreen

        run = self._need_run()
        if run is not None:
            self.app.push_screen(ScorecardScreen(run.id))

    def action_resume(self) -> None:
        run = self._need_run()
        if run is None:
            return
        status = self.statuses.get(run.id)
        if run.config.get("compare"):
            self.notify("A comparison is not run: resume the runs it compares.", severity="warning")
            return
        if status != "partial":
            self.notify(f"Run {run.id} is {status}: only a partial run can be resumed.", severity="warning")
            return
        bench = self.duel.show_section("bench")
        assert isinstance(bench, BenchScreen)
        if bench.resume(run.config):
            self.notify(f"Resuming run {run.id}: its finished items are reused.")

    def action_delete(self) -> None:
        run = self._need_run()
        if run is None:
            return
        if self.statuses.get(run.id) == "running":
            self.notify(f"Run {run.id} is running: stop it first.", severity="warning")
            return
        detail = (
            f"{' vs '.join(run.config.get('models', []))} on {', '.join(run.config.get('suites', []))}. "
            "Its results stay in the cache (a later identical run reuses them)."
        )
        self.app.push_screen(
            ConfirmScreen(f"Delete run {run.id}?", detail, yes_label="Delete"),
            lambda yes: self._delete_confirmed(run.id) if yes else None,
        )

    def _delete_confirmed(self, run_id: int) -> None:
        try:
            with ResultsStore() as store:
                store.delete_run(run_id)
        except DuelError as exc:
            self.notify(str(exc), severity="error")
            return
        if self.marked == run_id:
            self.marked = None
        self.notify(f"Deleted run {run_id}.")
        self.refresh_runs()

    def action_mark(self) -> None:
        run = self._need_run()
        if run is None:
            return
        self.marked = None if self.marked == run.id else run.id
        self.refresh_runs()
        if self.marked is not None:
            self.notify(f"Run {run.id} marked: highlight another run and press c to compare them.")

    def action_compare(self) -> None:
        from tui.screens.scorecard_screen import ScorecardScreen
        from tui.widgets.runs_compare import compare_runs

        run = self._need_run()
        if run is None:
            return
        if self.marked is None:
            self.notify(
                "Mark a run first (space), then highlight the other one and press c.", severity="warning"
            )
            return
        try:
            with ResultsStore() as store:
                compared = compare_runs(store, self.marked, run.id)
        except DuelError as exc:
            self.notify(str(exc), severity="error")
            return
        self.marked = None
        self.refresh_runs()
        self.select(compared)
        self.app.push_screen(ScorecardScreen(compared))

    def action_back(self) -> None:
        from tui.screens.sections import go_to_chat

        go_to_chat(self.app)
