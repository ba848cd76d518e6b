"""The leaderboard as Markdown, CSV, JSON or HTML (one self-contained page with an SVG chart)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from benchmarks.arena.leaderboard import METHOD, Leaderboard
from models.errors import DuelError

FORMATS = ("md", "csv", "json", "html")


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


def rating_chart_svg(board: Leaderboard, width: int = 760) -> str:
    """Each model's rating (dot) and 95% interval (bar) on one axis, best at the top."""
    e = html.escape
    label_w, row_h, top, pad = 260, 26, 28, 20
    plot_w = width - label_w - pad
    finite = [v for s in board.standings for v in (s.ci_low, s.ci_high, s.rating) if math.isfinite(v)]
    low, high = min(finite), max(finite)
    step = 50 if high - low <= 400 else 100 if high - low <= 1000 else 250
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    span = max(high - low, 1)

    def x(value: float) -> float:
        return label_w + (value - low) / span * plot_w

    height = top + row_h * len(board.standings) + 10
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='ratings with 95% intervals'>"
    ]
    for tick in range(int(low), int(high) + 1, step):
        out.append(
            f"<line x1='{x(tick):.1f}' y1='{top - 6}' x2='{x(tick):.1f}' y2='{height - 6}' stroke='#e3e3e3'/>"
            f"<text x='{x(tick):.1f}' y='{top - 10}' font-size='11' text-anchor='middle' fill='#666'>"
            f"{tick}</text>"
        )
    for row, s in enumerate(board.standings):
        y = top + row * row_h + row_h / 2
        out.append(
            f"<text x='{label_w - 8}' y='{y + 4:.1f}' font-size='12' text-anchor='end'>{e(s.model)}</text>"
            f"<line x1='{x(s.ci_low):.1f}' y1='{y:.1f}' x2='{x(s.ci_high):.1f}' y2='{y:.1f}' "
            f"stroke='#4a7ab8' stroke-width='3'/>"
            f"<circle cx='{x(s.rating):.1f}' cy='{y:.1f}' r='4.5' fill='#1d3f6e'>"
            f"<title>{e(s.model)}: {s.rating:.0f} ({s.ci_low:.0f} – {s.ci_high:.0f})</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f2f2f2; } .note { color: #555; font-size: 0.8rem; }
"""


def to_html(board: Leaderboard) -> str:
    """One page: inline CSS and SVG, no scripts, nothing fetched from the network."""
    e = html.escape
    title = f"duel arena leaderboard ({board.voter})"
    body = [
        f"<h1>{e(title)}</h1>",
        f"<p>{e(_summary(board))}</p>",
        rating_chart_svg(board),
        standings_frame(board).to_html(index=False, border=0),
        "<h2>Win rates</h2>",
        win_rate_frame(board).to_html(border=0),
        f"<p>{e(_sentence(board.position.describe()))}.</p>",
        f"<p class='note'>{e(METHOD)}</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def render(board: Leaderboard, fmt: str) -> str:
    renderers = {"md": to_markdown, "csv": to_csv, "json": to_json, "html": to_html}
    if fmt not in renderers:
        raise DuelError(f"unknown format '{fmt}' (formats: {', '.join(FORMATS)})")
    return renderers[fmt](board)


def write(board: Leaderboard, fmt: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(board, fmt), encoding="utf-8")
    return path
