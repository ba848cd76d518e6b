"""The leaderboard as Markdown, CSV, JSON or HTML (one self-contained page with the ratings chart), or
the chart alone as SVG or PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks import chart_figures as figures
from benchmarks import chart_render as draw
from benchmarks.arena.leaderboard import METHOD, Leaderboard
from benchmarks.chart_data import leaderboard_chart
from benchmarks.chart_render import Build
from benchmarks.html_page import e, figure, frame_html, page
from models.errors import DuelError

FORMATS = ("md", "csv", "json", "html", "svg", "png")


def standings_frame(board: Leaderboard, *, display: bool = True) -> Any:
    """One row per model, best first; `display` formats numbers for people (md, html)."""
    import pandas as pd

    rows = []
    for s in board.standings:
        if display:
            rows.append(
                {
                    "rank": s.rank,
                    "model": s.model,
                    "rating": f"{s.rating:.0f}",
                    "95% CI": f"{s.ci_low:.0f} – {s.ci_high:.0f}",
                    "votes": s.votes,
                    "wins": s.wins,
                    "ties": s.ties,
                    "losses": s.losses,
                }
            )
        else:
            rows.append({**s.to_json(), "sha256": " ".join(s.sha256)})
    return pd.DataFrame.from_records(rows)


def win_rate_frame(board: Leaderboard) -> Any:
    """Rows beat columns this often (ties as half); the number of games in brackets."""
    import pandas as pd

    models = board.models
    cells = {}
    for col in models:
        column = []
        for row in models:
            rate, games = board.win_rate[row][col], board.games[row][col]
            column.append("—" if rate is None else f"{rate:.0%} ({games})")
        cells[col] = column
    frame = pd.DataFrame(cells, index=models)
    frame.index.name = "row vs column"
    return frame


def _summary(board: Leaderboard) -> str:
    excluded = f"; {board.no_verdict} judge verdicts unreadable, left out" if board.no_verdict else ""
    return (
        f"Voter: {board.voter}; {board.n_votes} votes among {len(board.standings)} models{excluded}; "
        f"{board.resamples} bootstrap resamples, seed {board.seed}; {board.created_at}."
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def to_markdown(board: Leaderboard) -> str:
    parts = [f"# duel arena leaderboard ({board.voter})", "", _summary(board), ""]
    parts += [standings_frame(board).to_markdown(index=False), ""]
    parts += ["## Win rates", "", win_rate_frame(board).to_markdown(), ""]
    parts += [_sentence(board.position.describe()) + ".", "", f"_{METHOD}_", ""]
    return "\n".join(parts)


def to_csv(board: Leaderboard) -> str:
    return standings_frame(board, display=False).to_csv(index=False)


def to_json(board: Leaderboard) -> str:
    return json.dumps(board.to_json(), indent=2, ensure_ascii=False)


def _chart_builder(board: Leaderboard, title: str | None = None) -> Build:
    panel = leaderboard_chart(board)
    return lambda look: figures.interval_figure((panel,), board.models, look, title=title)


def rating_chart_svg(board: Leaderboard) -> str:
    """Each model's rating (dot) and 95% interval (whiskers), best at the top, for the HTML page."""
    return draw.svg(_chart_builder(board), draw.INLINE, "ratings", "ratings with 95% intervals")


def chart_svg(board: Leaderboard) -> str:
    """The ratings chart alone, as a standalone SVG file."""
    return draw.svg(_chart_builder(board, _title(board)), draw.STANDALONE)


def chart_png(board: Leaderboard) -> bytes:
    return draw.png(_chart_builder(board, _title(board)))


def _title(board: Leaderboard) -> str:
    return f"duel arena leaderboard ({board.voter})"


def to_html(board: Leaderboard) -> str:
    """One page (benchmarks/html_page.py): inline CSS and SVG, nothing fetched from the network."""
    caption = (
        "Ratings on the Elo scale (dot) with 95% bootstrap intervals (whiskers), best at the top; "
        "dashed: the pool's mean."
    )
    body = [
        f"<h1>{e(_title(board))}</h1>",
        f"<p>{e(_summary(board))}</p>",
        figure(rating_chart_svg(board), caption, "ratings"),
        frame_html(standings_frame(board)),
        "<h2>Win rates</h2>",
        frame_html(win_rate_frame(board), index=True),
        f"<p>{e(_sentence(board.position.describe()))}.</p>",
        f"<p class='note'>{e(METHOD)}</p>",
    ]
    return page(_title(board), body)


def render(board: Leaderboard, fmt: str) -> str:
    """A text format (everything but png) as a string."""
    renderers = {"md": to_markdown, "csv": to_csv, "json": to_json, "html": to_html, "svg": chart_svg}
    if fmt == "png":
        raise DuelError("png is binary: write it to a file with -o FILE.png")
    if fmt not in renderers:
        raise DuelError(f"unknown format '{fmt}' (formats: {', '.join(FORMATS)})")
    return renderers[fmt](board)


def write(board: Leaderboard, fmt: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "png":
        path.write_bytes(chart_png(board))
    else:
        path.write_text(render(board, fmt), encoding="utf-8")
    return path
