"""The figures of the scorecard and the leaderboard, drawn with matplotlib from benchmarks/chart_data.py:

- `interval_figure`: one panel per suite (or the arena's ratings), a bar (or a dot) per model with
  its 95% interval as whiskers, the baselines as dashed lines, and the reason written where a value
  is missing;
- `tradeoff_figure`: the headline metric against items/s, tok/s and peak memory, one point per model
  and suite, with the points that cannot be drawn listed under their panel;
- `heatmap_figure`: a confusion matrix, counts in cells shaded by their share of the row.

Each takes a `Look` (chart_render.py) and returns a `Figure`; chart_render.svg/png draw it. matplotlib
is imported inside the functions, never at import time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchmarks.chart_data import Heatmap, IntervalPanel, Scatter
from benchmarks.chart_render import MODEL_COLOURS, Look, colours, short_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SUITE_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HEAT = (0.13, 0.40, 0.67)  # the heatmap's hue; a cell's opacity is its share of the row
MUTED = "#808080"  # gap labels and reference lines: mid grey reads on light and dark
WIDTH_IN = 7.6


def _style_axes(ax: Axes, look: Look, grid_axis: str) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(look.ink)
    ax.tick_params(colors=look.ink, labelcolor=look.ink)
    ax.grid(axis=grid_axis, color=look.grid, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_facecolor("none")


# ----- interval panels: headline metrics per suite, arena ratings ------------------------------------
def _x_range(panel: IntervalPanel) -> tuple[float, float]:
    ends = [v for b in panel.bars for v in (b.value, b.low, b.high) if v is not None]
    ends += [r.value for r in panel.references]
    if panel.from_zero:
        return 0.0, max([1.0, *ends]) * 1.02
    if not ends:
        return 0.0, 1.0
    low, high = min(ends), max(ends)
    pad = max((high - low) * 0.08, 10.0)
    return low - pad, high + pad


def _draw_panel(ax: Axes, panel: IntervalPanel, palette: dict[str, str], look: Look) -> None:
    n = len(panel.bars)
    x0, x1 = _x_range(panel)
    ax.set_xlim(x0, x1)
    ax.set_ylim(-0.7, n - 0.3)
    for ref_index, ref in enumerate(panel.references):
        ax.axvline(ref.value, color=MUTED, linestyle=(0, (4, 3)), linewidth=1)
        top = ref_index % 2 == 0  # alternate above and below so close baselines do not collide
        ax.annotate(
            f"{ref.label} {ref.value:.3f}" if panel.from_zero else ref.label,
            xy=(ref.value, 1.0 if top else 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2 if top else 2),
            textcoords="offset points",
            va="top" if top else "bottom",
            fontsize=7,
            color=MUTED,
        )
    for index, bar in enumerate(panel.bars):
        y = n - 1 - index  # first model at the top
        colour = palette.get(bar.label, MODEL_COLOURS[0])
        if bar.value is None:
            ax.text(
                x0 + (x1 - x0) * 0.01,
                y,
                bar.gap or "missing",
                va="center",
                ha="left",
                fontsize=8,
                style="italic",
                color=MUTED,
            )
        else:
            if panel.from_zero:
                ax.barh(y, bar.value, height=0.62, color=colour, edgecolor="none")
            else:
                ax.plot([bar.value], [y], marker="o", markersize=6, color=colour, linestyle="none")
            if bar.low is not None and bar.high is not None:
                error = [[max(bar.value - bar.low, 0.0)], [max(bar.high - bar.value, 0.0)]]
                ax.errorbar(
                    [bar.value],
                    [y],
                    xerr=error,
                    fmt="none",
                    ecolor=look.ink,
                    elinewidth=1.2,
                    capsize=4,
                    capthick=1.2,
                )
        ax.annotate(
            bar.note if bar.value is not None else "",
            xy=(1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=look.ink,
        )
    ax.set_yticks(range(n), [short_label(b.label) for b in reversed(panel.bars)])
    ax.set_title(panel.title, loc="left", color=look.ink)
    _style_axes(ax, look, "x")


def interval_figure(
    panels: Sequence[IntervalPanel], models: Sequence[str], look: Look, title: str | None = None
) -> Figure:
    """One panel per suite (or the ratings), stacked; each model in its colour on every panel."""
    from matplotlib.figure import Figure

    panels = list(panels)
    if not panels:
        return _empty_figure("no results to chart", look)
    rows = [max(len(p.bars), 1) for p in panels]
    height = 0.5 + sum(0.75 + 0.3 * r for r in rows)
    fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": [r + 2.2 for r in rows]})
    palette = colours(models)
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        _draw_panel(ax, panel, palette, look)
    if title:
        fig.suptitle(title, color=look.ink, fontsize=11, fontweight="bold", x=0.01, ha="left")
    axes[-1, 0].set_xlabel(
        "bar: the headline metric · whiskers: 95% interval · dashed: baselines"
        if panels[0].from_zero
        else f"{panels[0].axis} · whiskers: 95% interval",
        color=look.ink,
        fontsize=8,
    )
    return fig


# ----- trade-offs: quality against speed and memory ---------------------------------------------------
def _gap_lines(scatter: Scatter) -> str:
    lines = [f"{short_label(p.model, 28)} · {p.suite}: {p.gap}" for p in scatter.gaps]
    if len(lines) > 6:
        lines = [*lines[:5], f"… and {len(lines) - 5} more"]
    return "\n".join(lines)


def tradeoff_figure(
    scatters: Sequence[Scatter], models: Sequence[str], suites: Sequence[str], look: Look
) -> Figure:
    """Headline metric (y) against items/s, tok/s and peak memory (x): one point per model and suite,
    colour the model, marker the suite; points that cannot be drawn are listed under their panel."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(max(WIDTH_IN, 3.5 * len(scatters)), 4.2), layout="constrained")
    axes = fig.subplots(1, len(scatters), sharey=True, squeeze=False)[0]
    palette = colours(models)
    markers = {s: SUITE_MARKERS[k % len(SUITE_MARKERS)] for k, s in enumerate(suites)}
    for ax, scatter in zip(axes, scatters, strict=True):
        drawn = scatter.drawn
        for p in drawn:
            ax.plot(
                [p.x],
                [p.y],
                marker=markers.get(p.suite, "o"),
                markersize=7,
                linestyle="none",
                color=palette.get(p.model, MODEL_COLOURS[0]),
                markeredgecolor=look.ink,
                markeredgewidth=0.5,
            )
        xs = [p.x for p in drawn if p.x is not None]
        if scatter.log_x and xs:
            _log_axis(ax, min(xs), max(xs))
        if not drawn:
            ax.text(
                0.5,
                0.5,
                "nothing to draw",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color=MUTED,
                style="italic",
            )
            ax.set_xticks([])
        else:
            _pad_x(ax, xs, scatter.log_x)
        ax.set_xlabel(scatter.axis, color=look.ink, fontsize=8)
        gaps = _gap_lines(scatter)
        if gaps:
            ax.annotate(
                gaps,
                xy=(0, 0),
                xycoords="axes fraction",
                xytext=(0, -30),
                textcoords="offset points",
                va="top",
                ha="left",
                fontsize=7,
                color=MUTED,
                style="italic",
            )
        _style_axes(ax, look, "both")
    axes[0].set_ylabel("headline metric", color=look.ink)
    ys = [p.y for scatter in scatters for p in scatter.drawn if p.y is not None]
    axes[0].set_ylim(-0.04, max([1.0, *ys]) * 1.05)  # a point at 0 is drawn whole, not cut by the axis
    handles = [
        Line2D([], [], marker="s", linestyle="none", color=palette[m], label=short_label(m, 32))
        for m in models
    ]
    handles += [Line2D([], [], marker=markers[s], linestyle="none", color=MUTED, label=s) for s in suites]
    legend = fig.legend(
        handles=handles, loc="outside upper center", ncols=min(len(handles), 4), frameon=False, fontsize=8
    )
    for text in legend.get_texts():
        text.set_color(look.ink)
    return fig


def compact(value: float) -> str:
    """A tick label: 0.5, 2, 30, 1.5k, 200k."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def _log_axis(ax: Axes, low: float, high: float) -> None:
    """A log axis labelled in plain numbers (0.5, 2, 10k), with 2, 3 and 5 between the powers of ten
    labelled too when the values span less than a decade."""
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v)))

    def minor(value: float, _pos: int) -> str:
        lead = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
        return compact(value) if high / low < 10 and lead in (2, 3, 5) else ""

    ax.xaxis.set_minor_formatter(FuncFormatter(minor))


def _pad_x(ax: Axes, xs: list[float], log: bool) -> None:
    low, high = min(xs), max(xs)
    if log:
        ax.set_xlim(low / 1.6, high * 1.6)
    else:
        pad = max((high - low) * 0.1, high * 0.1, 1.0)
        ax.set_xlim(max(low - pad, 0), high + pad)


# ----- confusion heatmaps -----------------------------------------------------------------------------
def heatmap_figure(heat: Heatmap, colour: str, look: Look) -> Figure:
    """Counts in cells; a cell's shade is its share of the row (the answer key's items)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    n_rows, n_cols = len(heat.rows), len(heat.columns)
    fig = Figure(figsize=(1.6 + 0.78 * n_cols, 1.2 + 0.42 * n_rows), layout="constrained")
    ax = fig.subplots()
    for cell in heat.cells:
        col, row = heat.columns.index(cell.predicted), heat.rows.index(cell.actual)
        y = n_rows - 1 - row
        ax.add_patch(
            Rectangle(
                (col - 0.5, y - 0.5),
                1,
                1,
                facecolor=(*HEAT, 0.92 * cell.share),
                edgecolor=look.grid,
                linewidth=0.6,
            )
        )
        ax.text(
            col,
            y,
            str(cell.count),
            ha="center",
            va="center",
            fontsize=9,
            color="white" if cell.share > 0.5 else look.ink,
            fontweight="bold" if cell.actual == cell.predicted else "normal",
        )
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(-0.5, n_rows - 0.5)
    ax.set_xticks(range(n_cols), heat.columns, rotation=30, ha="right")
    ax.set_yticks(range(n_rows), list(reversed(heat.rows)))
    ax.set_xlabel("predicted", color=look.ink, fontsize=8)
    ax.set_ylabel("answer key", color=look.ink, fontsize=8)
    ax.set_title(short_label(heat.model, 36), loc="left", color=colour, fontsize=9)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(colors=look.ink, labelcolor=look.ink, length=0)
    ax.set_facecolor("none")
    return fig


def _empty_figure(message: str, look: Look) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, 1.0))
    fig.text(0.5, 0.5, message, ha="center", va="center", color=look.ink, style="italic")
    return fig
