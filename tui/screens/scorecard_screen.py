"""The scorecard of one run: metrics with intervals and baselines, head to head, charts, confusion
matrices, items, and the recommendation for its models (`duel recommend`, restricted to this run's
models and suites).

The card is `benchmarks.scorecard.build_scorecard` (bootstrap intervals take a moment, so it is built
in a thread worker), and exports are `benchmarks.export.export_scorecard`: the same files as
`duel scorecard RUN --format FMT -o FILE`, written to the exports folder, whose path is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Label,
    RadioButton,
    RadioSet,
    Static,
    TabbedContent,
    TabPane,
)

from benchmarks.recommend import TaskRecommendation
from benchmarks.scorecard import Scorecard
from tui.widgets.score_chart import ScoreChart
from tui.widgets.score_confusion import confusion_group
from tui.widgets.score_items import FILTERS, ScoreItemsTable, item_rows
from tui.widgets.score_recommend import RecommendView
from tui.widgets.score_summary import ScoreSummaryTable, head_to_head_text

EXPORT_FORMATS = ("md", "csv", "json", "html", "svg", "png")  # as `duel scorecard --format`


def export_path(run_id: int, fmt: str) -> Path:
    from models.paths import exports_dir

    return exports_dir() / f"scorecard-run{run_id}.{fmt}"


def settings_line(card: Scorecard) -> str:
    s = card.run.get("settings", {})
    limit = s.get("limit") or "all"
    parts = [f"method {s.get('method', '?')}", f"limit {limit}", f"seed {s.get('seed', '?')}"]
    if s.get("shots"):
        parts.append(f"{s['shots']}-shot")
    if s.get("compare"):
        parts.append("comparison of runs " + " and ".join(str(r) for r in s["compare"]))
    return ", ".join(parts)


class ScorecardScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("e", "export('all')", "Export all"),
        Binding("f", "next_filter", "Filter items"),
    ]

    @dataclass
    class CardReady(Message):
        card: Scorecard
        prompts: dict[tuple[str, str], str]
        recommendations: list[TaskRecommendation]

    @dataclass
    class CardFailed(Message):
        error: str

    @dataclass
    class Exported(Message):
        paths: list[Path]
        error: str = ""

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.card: Scorecard | None = None
        self.exported: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Static(f"Scorecard of run {self.run_id}: building…", id="card-title")
        with TabbedContent(id="card-tabs"):
            with TabPane("Summary", id="card-summary"):
                yield ScoreSummaryTable(id="card-table")
                with VerticalScroll(id="card-notes"):
                    yield Static("", id="card-h2h")
            with TabPane("Charts", id="card-charts-tab"):
                yield VerticalScroll(id="card-charts")
            with TabPane("Confusion", id="card-confusion-tab"):
                yield VerticalScroll(Static("", id="card-confusion"))
            with TabPane("Recommend", id="card-recommend-tab"):
                yield VerticalScroll(RecommendView(id="card-recommend"))
            with TabPane("Items", id="card-items-tab"):
                with Horizontal(id="card-filter-bar"):
                    yield Label("Show:", classes="field-label")
                    with RadioSet(id="card-filter"):
                        for name, label in FILTERS.items():
                            yield RadioButton(label, value=name == "all", id=f"filter-{name}")
                    yield Static("", id="card-filter-count")
                yield ScoreItemsTable(id="card-items")
        with Horizontal(id="card-export"):
            yield Label("Export:", classes="field-label")
            for fmt in EXPORT_FORMATS:
                yield Button(fmt.upper() if fmt != "md" else "Markdown", id=f"export-{fmt}", compact=True)
            yield Button("All", id="export-all", compact=True, variant="primary")
            yield Static("", id="card-export-path")
        yield Footer()

    def on_mount(self) -> None:
        self._build()

    @work(thread=True, exclusive=True, group="scorecard", exit_on_error=False)
    def _build(self) -> None:
        from benchmarks.item_texts import item_texts
        from benchmarks.scorecard import build_scorecard
        from models.errors import DuelError

        try:
            card = build_scorecard(str(self.run_id))
            recommendations = _recommend(card)
        except DuelError as exc:
            self.post_message(self.CardFailed(str(exc)))
            return
        except Exception as exc:  # shown on the screen, never a crash
            self.post_message(self.CardFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.CardReady(card, item_texts(card), recommendations))

    def on_scorecard_screen_card_failed(self, message: CardFailed) -> None:
        self.query_one("#card-title", Static).update(
            Text(f"Run {self.run_id}: {message.error}", style="bold red")
        )
        self.notify(message.error, severity="error")

    async def on_scorecard_screen_card_ready(self, message: CardReady) -> None:
        card = self.card = message.card
        models = [m["model_ref"] for m in card.models] or list(card.run["settings"].get("models", []))
        title = Text(f"Run {card.run['id']} ", style="bold")
        title.append(
            f"({card.run['status']})", style="green" if card.run["status"] == "complete" else "yellow"
        )
        started = card.run["created_at"].replace("T", " ")[:16]
        title.append(f" · started {started} UTC · {settings_line(card)}", style="dim")
        self.query_one("#card-title", Static).update(title)
        self.query_one(ScoreSummaryTable).show(card)
        self.query_one("#card-h2h", Static).update(head_to_head_text(card))
        self.query_one(RecommendView).show(message.recommendations)
        charts = self.query_one("#card-charts", VerticalScroll)
        await charts.remove_children()
        suites = list(dict.fromkeys(row.suite for row in card.rows))
        await charts.mount_all(
            ScoreChart(suite, [r for r in card.rows if r.suite == suite], classes="card-chart")
            for suite in suites
        )
        confusion = self.query_one("#card-confusion", Static)
        if card.confusion:
            from rich.console import Group

            confusion.update(
                Group(*(confusion_group(s, per_model) for s, per_model in card.confusion.items()))
            )
        else:
            confusion.update(Text("No classification suite in this run.", style="dim"))
        self.query_one(ScoreItemsTable).load(item_rows(card, message.prompts), models)
        self._show_count()

    # ----- items --------------------------------------------------------------------------------
    @on(RadioSet.Changed, "#card-filter")
    def _filter_changed(self, event: RadioSet.Changed) -> None:
        name = (event.pressed.id or "filter-all").removeprefix("filter-")
        self.set_filter(name)

    def set_filter(self, name: str) -> int:
        table = self.query_one(ScoreItemsTable)
        count = table.apply_filter(name)
        button = self.query_one(f"#filter-{name}", RadioButton)
        if not button.value:
            with self.prevent(RadioSet.Changed):
                button.value = True
        self._show_count()
        return count

    def action_next_filter(self) -> None:
        names = list(FILTERS)
        current = self.query_one(ScoreItemsTable).filter
        self.query_one(TabbedContent).active = "card-items-tab"
        self.set_filter(names[(names.index(current) + 1) % len(names)])

    def _show_count(self) -> None:
        table = self.query_one(ScoreItemsTable)
        self.query_one("#card-filter-count", Static).update(
            f"{len(table.shown)} of {len(table.rows_all)} items · Enter opens one"
        )

    @on(DataTable.RowSelected, "#card-items")
    def _open_item(self) -> None:
        from tui.screens.bench_item_screen import BenchItemScreen
        from tui.widgets.bench_messages import short_ref

        row = self.query_one(ScoreItemsTable).current()
        if row is not None:
            labels = {ref: short_ref(ref) for ref in row.entries}
            self.app.push_screen(BenchItemScreen(row.key, row.entries, labels))

    # ----- export -------------------------------------------------------------------------------
    @on(Button.Pressed, "#card-export Button")
    def _export_pressed(self, event: Button.Pressed) -> None:
        self.action_export((event.button.id or "export-all").removeprefix("export-"))

    def action_export(self, fmt: str) -> None:
        if self.card is None:
            self.notify("The scorecard is still being built.", severity="warning")
            return
        formats = list(EXPORT_FORMATS) if fmt == "all" else [fmt]
        self._export_blocking(self.card, formats)

    @work(thread=True, group="scorecard-export", exit_on_error=False)
    def _export_blocking(self, card: Scorecard, formats: list[str]) -> None:
        from benchmarks.export import export_scorecard

        paths: list[Path] = []
        try:
            for fmt in formats:
                paths.append(export_scorecard(card, fmt, export_path(card.run["id"], fmt)))
        except Exception as exc:  # a full disk or a read-only folder: say so, keep the screen
            self.post_message(self.Exported(paths, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Exported(paths))

    def on_scorecard_screen_exported(self, message: Exported) -> None:
        self.exported += message.paths
        line = Text()
        if message.paths:
            folder = message.paths[0].parent
            line.append(f"Wrote {', '.join(p.name for p in message.paths)} to {folder}")
            self.notify(f"Exported to {folder}:\n" + "\n".join(p.name for p in message.paths), timeout=10)
        if message.error:
            line.append(f"  Export failed: {message.error}", style="bold red")
            self.notify(message.error, severity="error")
        self.query_one("#card-export-path", Static).update(line)

    def action_close(self) -> None:
        self.app.pop_screen()


def _recommend(card: Scorecard) -> list[TaskRecommendation]:
    """`duel recommend` for this run's models and suites (tasks in the order of its suites)."""
    from benchmarks.recommend import recommend
    from benchmarks.store import ResultsStore
    from tui.commands.recommend_cmd import chat_timings

    tasks = list(dict.fromkeys(line.manifest.task for line in card.suites.values()))
    models = {m["model_key"] for m in card.models} | {m["model_ref"] for m in card.models}
    with ResultsStore() as store:
        return recommend(store, tasks, models=models, suites=set(card.suites), chat=chat_timings())

