"""The leaderboard: Bradley-Terry ratings of the arena votes, their intervals, win rates, position bias.

The board is `benchmarks.arena.leaderboard.build_leaderboard` (the fit with 1,000 bootstrap resamples
takes up to a second, so it runs in a thread worker with its own store connection), for the voter
chosen above it: human, all, or one judge. It is built again each time the screen comes back into
view, so a vote just cast in the arena is counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from benchmarks.arena.leaderboard import Leaderboard
from benchmarks.arena.store import HUMAN
from tui.screens.help_screen import HELP_BINDINGS, HelpScreen, key_rows
from tui.widgets.leaderboard_view import RatingChart, StandingsTable, WinRateTable

if TYPE_CHECKING:
    from tui.app import DuelApp

ABOUT = (
    "Bradley-Terry ratings on the Elo scale (400 points = 10:1 odds, mean 1000), fitted by maximum "
    "likelihood; ties and both-bad votes count half a win each way. The 95% intervals come from 1,000 "
    "seeded bootstrap resamples over the votes. Rank: 1 + the models whose interval lies entirely "
    "above. The position bias says how often the side shown as Model A (left) won. Human and judge "
    "votes are kept apart: choose whose votes to rate above the table. `duel leaderboard` prints the "
    "same (and writes md, csv, json, html)."
)


@dataclass
class BoardBuilt(Message):
    """The worker's result: the board (None when there are no votes), the voters it knows, a note."""

    voter: str
    board: Leaderboard | None
    voters: tuple[str, ...]
    note: str = ""
    fingerprint: object = None  # the votes it was built from


def voter_options(voters: Iterable[str]) -> list[tuple[str, str]]:
    judges = sorted(v for v in voters if v != HUMAN)
    return [("human votes", HUMAN), ("all votes", "all"), *[(f"{j} votes", j) for j in judges]]


class LeaderboardScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("v", "next_voter", "Voter"),
        *HELP_BINDINGS,
    ]

    # What is on screen (set on the UI thread; the worker only reads `voter` and `_built_for`).
    voter: str = HUMAN
    board: Leaderboard | None = None
    voters: tuple[str, ...] = ()
    _shown_before = False
    _built_for: object = None  # the votes behind the board on screen (see build)

    @property
    def duel(self) -> DuelApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Horizontal(id="board-bar"):
            yield Label("Rate the votes of:", classes="field-label")
            yield Select(voter_options([]), value=HUMAN, allow_blank=False, id="board-voter", compact=True)
            yield Static(id="board-summary")
        with VerticalScroll(id="board-body"):
            yield Static("Building the leaderboard…", id="board-note")
            yield StandingsTable(id="board-standings")
            yield RatingChart(id="board-chart")
            yield Static(
                Text("Win rate of the row against the column (games)", style="bold"), id="board-matrix-title"
            )
            yield WinRateTable(id="board-matrix")
            yield Static(id="board-position")
            yield Static(id="board-method")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show(None)
        self.build()

    def on_screen_resume(self) -> None:
        # The first resume is the first showing, built by on_mount; later ones count new votes.
        if self._shown_before:
            self.build()
        self._shown_before = True

    @work(thread=True, exclusive=True, group="leaderboard", exit_on_error=False)
    def build(self, force: bool = False) -> None:
        """Thread: read the votes of the chosen voter and fit them (only posts the result).

        Unless `force`d, nothing is refitted when the votes are those of the board on screen (the
        screen comes back into view often, and a fit takes up to a second)."""
        from benchmarks.arena.leaderboard import NoVotesError, build_leaderboard
        from benchmarks.arena.store import ArenaStore
        from models.errors import DuelError

        worker = get_current_worker()
        voter = self.voter
        with ArenaStore(self.duel.arena_store_path) as store:
            counts = store.voters()
            fingerprint = (voter, tuple(sorted((v, tuple(sorted(c.items()))) for v, c in counts.items())))
            if fingerprint == self._built_for and not force:
                return
            try:
                board, note = build_leaderboard(voter, store=store), ""
            except NoVotesError as exc:
                board, note = None, f"{exc}."
            except DuelError as exc:
                board, note = None, f"Cannot rate these votes: {exc}"
        if not worker.is_cancelled:  # a newer build was asked for: only its result is shown
            self.post_message(BoardBuilt(voter, board, tuple(sorted(counts)), note, fingerprint))

    def on_board_built(self, message: BoardBuilt) -> None:
        if message.voter != self.voter:
            return  # the user chose another voter meanwhile: its board is on the way
        if message.voters != self.voters:
            self.voters = message.voters
            select = self.query_one("#board-voter", Select)
            with select.prevent(Select.Changed):
                select.set_options(voter_options(message.voters))
                select.value = self.voter
        self.board = message.board
        self._built_for = message.fingerprint
        self._show(message.board, message.note)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._show(None, f"Could not build the leaderboard: {event.worker.error}")

    def _show(self, board: Leaderboard | None, note: str = "") -> None:
        for widget_id in (
            "#board-standings",
            "#board-chart",
            "#board-matrix-title",
            "#board-matrix",
            "#board-position",
            "#board-method",
        ):
            self.query_one(widget_id).display = board is not None
        self.query_one("#board-note", Static).update(Text(note or "Building the leaderboard…"))
        self.query_one("#board-note").display = board is None
        summary = self.query_one("#board-summary", Static)
        if board is None:
            summary.update("")
            return
        excluded = f" · {board.no_verdict} unreadable judge verdicts left out" if board.no_verdict else ""
        votes = f"{board.n_votes} vote{'s' if board.n_votes != 1 else ''}"
        summary.update(Text(f"{votes} · {len(board.models)} models{excluded}"))
        self.query_one(StandingsTable).show(board)
        self.query_one(RatingChart).show(board)
        self.query_one(WinRateTable).show(board)
        self.query_one("#board-position", Static).update(Text(board.position.describe()))
        self.query_one("#board-method", Static).update(
            Text(
                f"Bradley-Terry, Elo scale (mean 1000); 95% intervals from {board.resamples} bootstrap "
                f"resamples (seed {board.seed}); rank: 1 + the models whose interval lies above.",
                style="dim",
            )
        )

    @on(Select.Changed, "#board-voter")
    def _voter_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.voter:
            self.voter = event.value
            self.build()

    def action_refresh(self) -> None:
        self.build(force=True)

    def action_next_voter(self) -> None:
        values = [value for _, value in voter_options(self.voters)]
        current = values.index(self.voter) if self.voter in values else -1
        self.query_one("#board-voter", Select).value = values[(current + 1) % len(values)]

    def action_help(self) -> None:
        rows = key_rows(self, {"help": "This help", "quit": "Quit"})
        rows.append((self.app.COMMAND_PALETTE_BINDING, "Command palette: every action by name"))
        self.app.push_screen(HelpScreen(rows, about=ABOUT))

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [
            ("Refresh the leaderboard", "Fit the votes again (r)", self.action_refresh),
            ("Next voter", "Rate human votes, all votes, or one judge's (v)", self.action_next_voter),
        ]
