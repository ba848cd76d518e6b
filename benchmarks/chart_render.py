"""How the charts look and how they are written: SVG (text kept as text) or PNG. The figures themselves
are benchmarks/chart_figures.py, the data they show benchmarks/chart_data.py.

matplotlib is imported only when a chart is drawn (never by `duel --help`), through its object API
(`Figure`, no pyplot, no global backend), under one lock: rcParams are process-wide and the TUI
exports from a worker thread. Output is deterministic (fixed hash salt for SVG ids, no dates).

Two looks:
- inline (inside the HTML scorecard): transparent background; text, axes and whiskers drawn in
  placeholder colours that become `currentColor` and the page's `--grid` colour, so each chart
  follows the page's light or dark scheme and prints in black;
- standalone (`--format svg|png`, for a README, an issue or a chat): an opaque white background
  with dark text, which reads the same on any page it is pasted into.
Model colours are the Okabe-Ito palette (distinct for colour-blind readers), mid-tone enough to
read on white and on a dark page alike.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MODEL_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
# Placeholders of the inline look, replaced in the SVG text (matplotlib writes colours as given).
INK_PLACEHOLDER = "#010203"
GRID_PLACEHOLDER = "#a1a2a3"
MAX_LABEL = 44  # model references longer than this are shortened in the middle on charts
RC = {
    "svg.fonttype": "none",  # text as <text>: searchable, selectable, small
    "svg.hashsalt": "duel",  # ids from content, not a random salt: the same chart, the same bytes
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Look:
    ink: str
    grid: str
    background: str  # "none": transparent

    @property
    def inline(self) -> bool:
        return self.ink == INK_PLACEHOLDER


INLINE = Look(INK_PLACEHOLDER, GRID_PLACEHOLDER, "none")
STANDALONE = Look("#1f2328", "#d0d7de", "white")


def short_label(ref: str, limit: int = MAX_LABEL) -> str:
    """A model reference that fits a chart: long ones keep their start and end."""
    if len(ref) <= limit:
        return ref
    keep = limit - 1
    return ref[: keep // 2] + "…" + ref[-(keep - keep // 2) :]


def colours(models: Sequence[str]) -> dict[str, str]:
    return {m: MODEL_COLOURS[k % len(MODEL_COLOURS)] for k, m in enumerate(models)}


# ----- output -----------------------------------------------------------------------------------------
Build = Callable[[Look], "Figure"]  # draws a figure in a look


def _draw(build: Build, look: Look, fmt: str, **save: Any) -> bytes:
    import matplotlib

    with _LOCK, matplotlib.rc_context(RC):
        fig = build(look)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, facecolor=look.background, **save)
        return buffer.getvalue()


_ID = re.compile(r'\bid="([^"]+)"')


def svg(build: Build, look: Look = INLINE, chart_id: str = "chart", label: str = "") -> str:
    """The figure as SVG text. Inline: no XML prolog, ids prefixed with `chart_id` (unique in a page),
    placeholder colours turned into the page's; `label` becomes the chart's accessible name."""
    text = _draw(build, look, "svg", metadata={"Date": None, "Creator": "duel"}).decode("utf-8")
    if not look.inline:
        return text
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    for old in set(_ID.findall(text)):
        new = f"{chart_id}-{old}"
        text = text.replace(f'id="{old}"', f'id="{new}"').replace(f"#{old})", f"#{new})")
        text = text.replace(f'href="#{old}"', f'href="#{new}"')
    text = text.replace(INK_PLACEHOLDER, "currentColor").replace(GRID_PLACEHOLDER, "var(--grid)")
    aria = f' role="img" aria-label="{_attr(label)}" class="chart"' if label else ' class="chart"'
    return text.replace("<svg ", f"<svg{aria} ", 1)


def png(build: Build, dpi: int = 160) -> bytes:
    """The figure as PNG (standalone look), without a timestamp or software tag."""
    return _draw(build, STANDALONE, "png", dpi=dpi, metadata={"Software": None})


def _attr(text: str) -> str:
    import html

    return html.escape(text, quote=True)
