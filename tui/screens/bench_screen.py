"""The benchmark screen: set up a run, watch it (progress, running score, item feed), stop it.

The run is `benchmarks.runner.run_bench`, the same runner as `duel bench`, in a thread worker that
only posts messages (see tui/widgets/bench_relay.py); Escape cancels the worker, the runner notices
between items, marks the run partial and returns, and the run can be resumed later (the finished
items are reused). When a run completes, its scorecard opens.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from benchmarks import events as ev
from benchmarks.runner import BenchRequest
from models.errors import DuelError
from tui.widgets.bench_feed import BenchFeed
from tui.widgets.bench_form import DEFAULT_SUITES, BenchForm
from tui.widgets.bench_messages import (
    BenchBatch,
    BenchEnded,
    BenchFailed,
    FeedEntry,
    SuitesListed,
    TaskScore,
    short_ref,
)
from tui.widgets.bench_progress import BenchProgressPanel
from tui.widgets.bench_score_table import BenchScoreTable

if TYPE_CHECKING:
    from tui.app import DuelApp


def request_from_config(config: dict[str, Any]) -> BenchRequest:
    """The request a stored run was started with (runs keep their settings), to resume it."""
    fields = BenchRequest.__dataclass_fields__
    data = {k: v for k, v in config.items() if k in fields}
    for key in ("suites", "models"):
        data[key] = tuple(data.get(key) or ())
    return BenchRequest(**data)


class BenchScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("escape", "stop", "Stop run"),
        Binding("escape", "back", "Chat", show=False),
        Binding("o", "open_scorecard", "Scorecard"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.stopping = False
        self.run_id: int | None = None
        self.last_finished: ev.RunFinished | None = None
        self.request: BenchRequest | None = None
        self.labels: dict[str, str] = {}
        self.notices: list[str] = []
        self.error = ""
        self._pending_scorecard: int | None = None
        self._pending_resume: BenchRequest | None = None
        self._focus_before: Widget | None = None

    @property
    def duel(self) -> DuelApp:
        return self.app  # type: ignore[return-value]

    # ----- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        left, right = self._chat_pair()
        with Horizontal(id="bench-body"):
            yield BenchForm(left, right, id="bench-form")
            with Vertical(id="bench-live"):
                yield Static("Pick suites and models, then Start (ctrl+s).", id="bench-status")
                yield Label("Progress", classes="bench-heading")
                yield BenchProgressPanel(id="bench-progress")
                yield Label("Running score", classes="bench-heading")
                yield BenchScoreTable(id="bench-scores")
                yield Label("Items (Enter opens one)", classes="bench-heading")
                yield BenchFeed(id="bench-feed")
        yield Footer()

    def _chat_pair(self) -> tuple[str, str]:
        """The models of the chat panes: what the user is comparing already."""
        return self.duel.pair.ref("left"), self.duel.pair.ref("right")

    def on_mount(self) -> None:
        self._list_suites()
        if self._pending_resume is not None:  # asked to resume before this screen was first shown
            request, self._pending_resume = self._pending_resume, None
            self.query_one(BenchForm).fill(request)
            self.start(request)

    def on_screen_resume(self) -> None:
        if self._pending_scorecard is not None and not self.running:
            run_id, self._pending_scorecard = self._pending_scorecard, None
            self.open_scorecard(run_id)

    @work(thread=True, group="bench-suites", exit_on_error=False)
    def _list_suites(self) -> None:
        from benchmarks.suites import TASK_LABEL, Suite, list_suites

        rows = []
        for suite in list_suites():
            manifest = suite.manifest if isinstance(suite, Suite) else suite
            count = len(suite.items) if isinstance(suite, Suite) else None
            rows.append(
                (
                    manifest.name,
                    TASK_LABEL.get(manifest.task, manifest.task),
                    count,
                    manifest.source,
                    manifest.description,
                )
            )
        names = [m.name for m in self.duel.list_models()]
        self.post_message(SuitesListed(rows, names))

    def on_suites_listed(self, message: SuitesListed) -> None:
        form = self.query_one(BenchForm)
        selected = self.request.suites if self.request else DEFAULT_SUITES
        form.set_suites(message.suites, tuple(selected))
        form.set_models(message.models)

    # ----- starting and stopping ----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.running
        if action == "back":
            return not self.running
        if action == "start":
            return not self.running
        return True

    @on(Button.Pressed, "#bench-start")
    def action_start(self) -> None:
        form = self.query_one(BenchForm)
        try:
            request = form.request()
        except DuelError as exc:
            form.show_error(str(exc))
            self.notify(str(exc), severity="error")
            return
        form.show_error("")
        # Loaded as `duel --weights` / config.toml say (a machine setting, not part of the form).
        self.start(replace(request, weights=getattr(self.app, "weights", request.weights)))

    def start(self, request: BenchRequest) -> bool:
        if self.running:
            self.notify("A run is going: stop it first (Escape).", severity="warning")
            return False
        self.request = request
        self.labels = {ref: short_ref(ref) for ref in request.models}
        self.run_id = None
        self.last_finished = None
        self.notices = []
        self.error = ""
        self.running = True
        self.stopping = False
        # Disabling the form drops the focus; remember where it was to give it back at the end.
        self._focus_before = self.focused
        self.query_one(BenchForm).set_running(True)
        self.query_one(BenchFeed).set_models(list(request.models), self.labels)
        self._status(f"Starting: {', '.join(request.suites)} on {' vs '.join(self.labels.values())}…")
        self.refresh_bindings()
        self._run_blocking(request)
        return True

    def resume(self, config: dict[str, Any]) -> bool:
        """Start the stored run again with its own settings: the runner resumes it, reusing its items."""
        request = request_from_config(config)
        if not self.query(BenchForm):
            if self.running or self._pending_resume is not None:
                return False
            self.request = self._pending_resume = request
            return True
        self.query_one(BenchForm).fill(request)
        return self.start(request)

    def action_stop(self) -> None:
        if not self.running or self.stopping:
            return
        self.stopping = True
        self._status("Stopping after the item in progress…")
        self.workers.cancel_group(self, "bench")

    def action_back(self) -> None:
        from tui.screens.sections import go_to_chat

        go_to_chat(self.app)

    @work(thread=True, exclusive=True, group="bench", exit_on_error=False)
    def _run_blocking(self, request: BenchRequest) -> None:
        from benchmarks.runner import expand_suites, run_bench
        from benchmarks.store import ResultsStore
        from benchmarks.suites import load_suite
        from tui.widgets.bench_relay import BenchRelay

        worker = get_current_worker()
        store = None
        relay = None
        run_id = None
        try:
            suites = {name: load_suite(name) for name in expand_suites(request.suites)}
            store = ResultsStore()  # this thread's own connection; the runner commits each item on it
            relay = BenchRelay(suites, self.post_message)
            outcome = run_bench(
                request,
                on_event=relay,
                should_stop=lambda: worker.is_cancelled,
                open_engine=self.duel.pair.open_engine,
                store=store,
            )
            run_id = outcome.run_id
        except DuelError as exc:
            self.post_message(BenchFailed(str(exc)))
        except Exception as exc:  # one place for what nobody expected: shown, not a crash
            self.post_message(BenchFailed(f"{type(exc).__name__}: {exc}", unexpected=True))
        finally:
            if relay is not None:
                relay.flush()
                run_id = run_id or relay.run_id
            if store is not None:
                store.close()
            self.post_message(BenchEnded(run_id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The worker catches its own errors; this only sees a failure of the machinery itself.
        if event.worker.group == "bench" and event.state == WorkerState.ERROR:
            self.on_bench_failed(BenchFailed(str(event.worker.error), unexpected=True))
            self.on_bench_ended(BenchEnded(self.run_id))

    # ----- what the worker reports --------------------------------------------------------------
    async def on_bench_batch(self, message: BenchBatch) -> None:
        entries: list[FeedEntry] = []
        feed = self.query_one(BenchFeed)
        with self.app.batch_update():
            for event in message.events:
                if isinstance(event, FeedEntry):
                    entries.append(event)
                    continue
                if entries:
                    feed.add_entries(entries)
                    entries = []
                await self._apply(event)
            if entries:
                feed.add_entries(entries)

    async def _apply(self, event: object) -> None:
        progress = self.query_one(BenchProgressPanel)
        if isinstance(event, ev.RunStarted):
            self.run_id = event.run_id
            await progress.set_plan(event.plan, self.labels)
            self.query_one(BenchScoreTable).set_plan(event.plan, self.labels)
            verb = "Resuming" if event.resumed else "Running"
            self._status(f"{verb} run {event.run_id}…")
        elif isinstance(event, ev.ModelLoading):
            self._status(f"Run {self.run_id}: loading {self.labels.get(event.model_ref, event.model_ref)}…")
        elif isinstance(event, ev.ModelProgress):
            pct = 100 * event.done / event.total if event.total else 0
            name = self.labels.get(event.model_ref, event.model_ref)
            self._status(f"Run {self.run_id}: preparing {name}: {event.label} {pct:.0f}%")
        elif isinstance(event, ev.ModelLoaded):
            name = self.labels.get(event.model_ref, event.model_ref)
            self._status(f"Run {self.run_id}: {name} loaded in {event.load_s:.1f} s")
        elif isinstance(event, ev.TaskStarted):
            row = progress.row(event.model_ref, event.suite)
            if row is not None:
                row.started(event)
            name = self.labels.get(event.model_ref, event.model_ref)
            method = "log-likelihood" if event.method == "loglik" else "generation"
            self._status(f"Run {self.run_id}: {name} on {event.suite} ({method})")
        elif isinstance(event, TaskScore):
            row = progress.row(event.model_ref, event.suite)
            if row is not None:
                row.scored(event)
            self.query_one(BenchScoreTable).show_score(event)
        elif isinstance(event, ev.TaskFinished):
            row = progress.row(event.model_ref, event.suite)
            if row is not None:
                row.finished(event)
        elif isinstance(event, ev.Notice):
            self.notices.append(event.text)
            self.notify(event.text, severity="warning", timeout=8)
        elif isinstance(event, ev.RunFinished):
            self.last_finished = event
            progress.stop_waiting()
            if event.stopped:
                self._status(
                    f"Run {event.run_id} stopped ({event.computed} items computed, {event.cached} reused): "
                    "resume it from the runs list (F4) or Start again."
                )
            else:
                self._status(
                    f"Run {event.run_id} {event.status}: {event.computed} items computed, "
                    f"{event.cached} reused."
                )

    def on_bench_failed(self, message: BenchFailed) -> None:
        self.error = message.error
        prefix = "Unexpected error (please report it): " if message.unexpected else ""
        self._status(Text(prefix + message.error, style="bold red"))
        self.notify(prefix + message.error, severity="error", timeout=10)

    def on_bench_ended(self, message: BenchEnded) -> None:
        if not self.running:
            return
        self.running = False
        self.stopping = False
        self.run_id = message.run_id or self.run_id
        self.query_one(BenchForm).set_running(False)
        if self._focus_before is not None and self._focus_before.is_attached:
            self._focus_before.focus()
        self.refresh_bindings()
        finished = self.last_finished
        if finished is not None and finished.status == "complete" and not finished.stopped and not self.error:
            if self.app.screen is self:
                self.open_scorecard(finished.run_id)
            else:  # the user is elsewhere: show it when they come back
                self._pending_scorecard = finished.run_id
                self.notify(f"Run {finished.run_id} finished: F3 shows its scorecard.")

    def _status(self, text: str | Text) -> None:
        self.query_one("#bench-status", Static).update(text)

    # ----- items and scorecards -----------------------------------------------------------------
    def on_bench_feed_open_item(self, message: BenchFeed.OpenItem) -> None:
        from tui.screens.bench_item_screen import BenchItemScreen

        self.app.push_screen(BenchItemScreen(message.key, message.entries, self.labels))

    def action_open_scorecard(self) -> None:
        if self.run_id is None:
            self.notify("No run yet: Start one first.", severity="warning")
            return
        self.open_scorecard(self.run_id)

    def open_scorecard(self, run_id: int) -> None:
        from tui.screens.scorecard_screen import ScorecardScreen

        self.app.push_screen(ScorecardScreen(run_id))
