"""The leaderboard's parts: the standings table, a chart of ratings with their intervals, the win rates.

Every number is a field of `benchmarks.arena.leaderboard.Leaderboard`; this only lays them out. Models
are numbered by their place in the standings (#), and the chart and the win-rate matrix use those
numbers, so a long name is written once, whole, in the standings (its column is as wide as the name).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual_plotext import PlotextPlot

from benchmarks.arena.leaderboard import Leaderboard

STANDING_COLUMNS = (
    ("pos", "#"),
    ("model", "Model"),
    ("rating", "Rating"),
    ("ci", "95% interval"),
    ("votes", "Votes"),
    ("wins", "W"),
    ("ties", "T"),
    ("losses", "L"),
    ("rank", "Rank"),
)


class StandingsTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label in STANDING_COLUMNS:
            self.add_column(label, key=key)  # no width: each column is as wide as its widest cell

    def show(self, board: Leaderboard) -> None:
        self.clear()
        for position, s in enumerate(board.standings, start=1):
            self.add_row(
                str(position),
                Text(s.model, style="bold"),
                Text(f"{s.rating:.0f}", justify="right"),
                f"{s.ci_low:.0f} – {s.ci_high:.0f}",
                Text(str(s.votes), justify="right"),
                Text(str(s.wins), justify="right"),
                Text(str(s.ties), justify="right"),
                Text(str(s.losses), justify="right"),
                Text(str(s.rank), justify="right"),
                key=s.model,
            )


class WinRateTable(DataTable):
    """Row model's score against the column model (wins + half the ties), with the games played."""

    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.zebra_stripes = True

    def show(self, board: Leaderboard) -> None:
        self.clear(columns=True)
        self.add_column("#", key="pos")
        self.add_column("Model", key="model")
        for position in range(1, len(board.models) + 1):
            self.add_column(f"vs {position}", key=f"vs{position}")
        for position, row in enumerate(board.models, start=1):
            cells: list[Any] = [str(position), Text(row, style="bold")]
            for col in board.models:
                rate, games = board.win_rate[row][col], board.games[row][col]
                cells.append(Text("–" if rate is None else f"{rate:.0%} ({games})", justify="right"))
            self.add_row(*cells, key=row)


class RatingChart(PlotextPlot):
    """Each model's rating (a dot) and its 95% interval (a whisker), best first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.board: Leaderboard | None = None

    def show(self, board: Leaderboard) -> None:
        self.board = board
        self.draw()

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        board = self.board
        if board is None or not board.standings:
            self.refresh()
            return
        standings = board.standings
        positions = list(range(1, len(standings) + 1))
        plt.title("Ratings (dots) and 95% intervals (whiskers); models numbered as in the table")
        for position, s in zip(positions, standings, strict=True):
            # plotext draws a symmetric error bar around its centre: centre it on the interval.
            plt.error([position], [(s.ci_low + s.ci_high) / 2], yerr=[s.ci_high - s.ci_low], color="red")
        plt.scatter(positions, [s.rating for s in standings], marker="●", color="blue")
        # Numbers, not names: a name is written whole once, in the table (and plotext places long
        # labels a few columns differently from one process to the next).
        plt.xticks(positions, [str(p) for p in positions])
        plt.xlim(0.5, len(standings) + 0.5)
        low = min(s.ci_low for s in standings)
        high = max(s.ci_high for s in standings)
        margin = max(10.0, (high - low) * 0.1)
        plt.ylim(low - margin, high + margin)
        self.refresh()
