"""The HTML scorecard: one self-contained page with charts, for sharing.

Top: the summary chart (every suite's headline metric per model, with 95% intervals and baselines).
Then one section per suite: its chart beside the verdicts about it (head to head, against always
answering the majority answer), a confusion heatmap per model for a classification suite, and the
per-item table, collapsed, with filters (only disagreements, only failures; a few lines of script,
and the table reads whole without them). Then quality against speed and memory, the models, the
full results table and the notes. Charts: benchmarks/chart_data.py (what) and chart_render.py (how).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmarks import chart_figures as figures
from benchmarks import chart_render as draw
from benchmarks.chart_data import Heatmap, IntervalPanel, ScorecardCharts, metric_label, scorecard_charts
from benchmarks.export import (
    NOTES,
    baseline_heading,
    models_frame,
    results_frame,
    scorecard_title,
    settings_line,
)
from benchmarks.html_page import e, figure, frame_html, page
from benchmarks.item_texts import answer_of, item_texts

if TYPE_CHECKING:
    from benchmarks.results import ItemResult
    from benchmarks.scorecard import HeadToHead, Scorecard, SuiteLine

TEXT_CHARS = 160  # item texts and summaries longer than this are cut in the table (whole in the tooltip)
ANSWER_CHARS = 90


def anchor(index: int, suite: str) -> str:
    return f"suite-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", suite).strip("-")


def excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def h2h_item(h: HeadToHead) -> str:
    css = "sig" if h.winner else "ns"
    settle = f"; {e(h.settle_text)}" if h.settle_text else ""
    return (
        f"<li>{e(h.model_a)} {h.value_a:.3f} vs {e(h.model_b)} {h.value_b:.3f} "
        f"({e(metric_label(h.metric))}) — <span class='{css}'>{e(h.verdict)}</span>; "
        f"{e(h.detail)}{settle}</li>"
    )


def verdicts(card: Scorecard, line: SuiteLine) -> str:
    """The aside beside a suite's chart: the head-to-head tests and the baseline verdicts about it."""
    tests = [h2h_item(h) for h in card.head_to_head if h.suite == line.name]
    parts = ["<aside>", "<h3>Head to head</h3><ul>"]
    parts += tests or ["<li class='muted'>(needs two models on the same items)</li>"]
    parts.append("</ul>")
    rows = [r for r in card.rows if r.suite == line.name and r.baseline_verdict]
    if rows:
        parts.append("<h3>Against the majority answer</h3><ul>")
        for row in rows:
            css = "sig" if row.beats_majority else "warn"
            parts.append(f"<li>{e(row.model)}: <span class='{css}'>{e(row.baseline_verdict)}</span></li>")
        parts.append("</ul>")
    parts.append("</aside>")
    return "".join(parts)


# ----- the per-item table -----------------------------------------------------------------------------
@dataclass
class ItemLine:
    """One item of a suite with every model's result."""

    item_id: str
    target: str
    text: str
    task: str
    results: dict[str, ItemResult] = field(default_factory=dict)

    @property
    def disagree(self) -> bool:
        """The models gave different answers (right/wrong suites: summaries always differ)."""
        answers = {answer_of(r, self.task) for r in self.results.values()}
        return self.task != "summarize" and len(self.results) >= 2 and len(answers) > 1

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results.values())


def item_lines(card: Scorecard, suite: str, texts: dict[tuple[str, str], str]) -> list[ItemLine]:
    task = card.suites[suite].manifest.task
    lines: dict[str, ItemLine] = {}
    for result in card.items:
        if result.suite != suite:
            continue
        line = lines.get(result.item_id)
        if line is None:
            text = texts.get((suite, result.item_id), "")
            line = lines[result.item_id] = ItemLine(result.item_id, result.target, text, task)
        line.results[result.model_ref] = result
    return list(lines.values())


def _cut(text: str, limit: int) -> str:
    """A table cell: the text cut to `limit`, whole in its tooltip when cut."""
    short = excerpt(text, limit)
    if short == " ".join(text.split()):
        return e(short)
    return f"<span title='{e(text)}'>{e(short)}</span>"


def _mark(result: ItemResult, task: str) -> tuple[str, str]:
    """(css class, text) of a model's mark: error, the item's ROUGE-L for summaries, or right/wrong."""
    if result.error:
        return "bad", "error"
    if task == "summarize":
        return "", f"{result.score.value:.2f}"
    return ("ok", "✓") if result.score.correct else ("bad", "✗")


def items_table(suite: str, table_id: str, lines: list[ItemLine], models: tuple[str, ...]) -> str:
    disagree = sum(1 for line in lines if line.disagree)
    failed = sum(1 for line in lines if line.failed)
    summary = f"Items ({len(lines)}): {disagree} where the models disagree, {failed} with a failure"
    filters = (
        f"<div class='filters' data-table='{table_id}'>"
        f"<label><input type='checkbox' value='disagree'> only disagreements ({disagree})</label>"
        f"<label><input type='checkbox' value='failed'> only failures ({failed})</label></div>"
    )
    head = "<th>item</th><th>text</th><th>answer key</th>" + "".join(
        f"<th>{e(m)}</th><th></th>" for m in models
    )
    body = []
    for line in lines:
        flags = " ".join(name for name, on in (("disagree", line.disagree), ("failed", line.failed)) if on)
        text = _cut(line.text, TEXT_CHARS) or "<span class='gap'>(not in the suite any more)</span>"
        cells = [
            f"<td>{e(line.item_id)}</td>",
            f"<td class='txt'>{text}</td>",
            f"<td class='txt'>{_cut(line.target, TEXT_CHARS)}</td>",
        ]
        for model in models:
            result = line.results.get(model)
            if result is None:
                cells.append("<td class='gap'>not run</td><td></td>")
                continue
            css, mark = _mark(result, line.task)
            cells.append(f"<td class='txt'>{_cut(answer_of(result, line.task), ANSWER_CHARS)}</td>")
            cells.append(f"<td class='{css}'>{mark}</td>")
        body.append(f"<tr class='{flags}'>{''.join(cells)}</tr>" if flags else f"<tr>{''.join(cells)}</tr>")
    return (
        f"<details class='items'><summary>{e(summary)}</summary>{filters}<div class='wide'>"
        f"<table id='{table_id}' class='items'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div></details>"
    )


# ----- charts -----------------------------------------------------------------------------------------
def interval_svg(
    panels: tuple[IntervalPanel, ...], models: tuple[str, ...], chart_id: str, label: str
) -> str:
    return draw.svg(lambda look: figures.interval_figure(panels, models, look), draw.INLINE, chart_id, label)


def heatmap_figure(heat: Heatmap, models: tuple[str, ...], chart_id: str) -> str:
    colour = draw.colours(models).get(heat.model, draw.MODEL_COLOURS[0])
    label = f"Confusion matrix: {heat.suite} — {heat.model}"
    svg = draw.svg(lambda look: figures.heatmap_figure(heat, colour, look), draw.INLINE, chart_id, label)
    return figure(svg, f"{label} (rows: answer key; shade: share of the row)", "confusion")


def tradeoff_svg(charts: ScorecardCharts, suites: list[str]) -> str:
    return draw.svg(
        lambda look: figures.tradeoff_figure(charts.tradeoffs, charts.models, suites, look),
        draw.INLINE,
        "tradeoffs",
        "quality against speed and peak memory",
    )


def suite_section(
    card: Scorecard, charts: ScorecardCharts, index: int, line: SuiteLine, texts: dict[tuple[str, str], str]
) -> str:
    sid = anchor(index, line.name)
    panel = charts.panel(line.name)
    chart = interval_svg((panel,), charts.models, f"{sid}-bars", f"{line.name}: {panel.axis} per model")
    caption = f"{line.name}: {panel.axis} with 95% intervals; dashed lines are the baselines"
    parts = [
        f"<section id='{sid}' class='suite'>",
        f"<h2>{e(line.name)} <span class='muted'>({e(line.manifest.task)}, "
        f"headline {e(metric_label(line.headline))})</span></h2>",
        f"<p>{e(baseline_heading(line))}</p>",
        f"<div class='pair'>{figure(chart, caption, 'suite')}{verdicts(card, line)}</div>",
    ]
    maps = charts.heatmaps_of(line.name)
    if maps:
        parts.append("<div class='heatmaps'>")
        parts += [heatmap_figure(h, charts.models, f"{sid}-cm{k}") for k, h in enumerate(maps)]
        parts.append("</div>")
    parts.append(items_table(line.name, f"{sid}-items", item_lines(card, line.name, texts), charts.models))
    parts.append("</section>")
    return "\n".join(parts)


def chart_count(card: Scorecard, charts: ScorecardCharts | None = None) -> int:
    """How many charts (one <svg> each) the page holds: summary, one per suite, the heatmaps, trade-offs."""
    charts = charts or scorecard_charts(card)
    return 1 + len(charts.suites) + len(charts.heatmaps) + 1


def to_html(card: Scorecard) -> str:
    """The scorecard as one page: inline CSS and SVG, a few lines of script, nothing fetched."""
    charts = scorecard_charts(card)
    texts = item_texts(card)
    suites = list(card.suites)
    nav = ["<a href='#summary'>Summary</a>"]
    nav += [f"<a href='#{anchor(k, s)}'>{e(s)}</a>" for k, s in enumerate(suites)]
    nav += ["<a href='#tradeoffs'>Speed and memory</a>", "<a href='#models'>Models</a>"]
    nav += ["<a href='#results'>Results</a>", "<a href='#notes'>Notes</a>"]
    summary = interval_svg(charts.suites, charts.models, "summary", "headline metric per suite and model")
    body = [
        f"<h1>{e(scorecard_title(card))}</h1>",
        f"<p>Created {e(card.run['created_at'])}; {e(settings_line(card))}</p>",
        f"<nav>{''.join(nav)}</nav>",
        "<section id='summary'><h2>Summary</h2>",
        figure(
            summary,
            "Each suite's headline metric per model; whiskers: 95% intervals; dashed lines: always "
            "answering the most frequent answer, and chance. A missing bar says why it is missing.",
            "summary",
        ),
        "</section>",
    ]
    body += [suite_section(card, charts, k, card.suites[s], texts) for k, s in enumerate(suites)]
    body += [
        "<section id='tradeoffs'><h2>Quality against speed and memory</h2>",
        figure(
            tradeoff_svg(charts, suites),
            "One point per model and suite: the suite's headline metric against items per second, "
            "generated tokens per second (generation suites) and the model's peak resident memory. "
            "What cannot be drawn is listed under its panel.",
            "tradeoffs",
        ),
        "</section>",
        "<section id='models'><h2>Models</h2>",
        frame_html(models_frame(card)),
        "</section><section id='results'><h2>Results</h2>",
        frame_html(results_frame(card), css="results"),
        f"</section><section id='notes'><h2>Notes</h2><p class='note'>{e(NOTES)}</p></section>",
    ]
    return page(scorecard_title(card), body, script=True)


def summary_svg(card: Scorecard) -> str:
    """The summary chart alone, as a standalone SVG file (opaque white, for a README or a chat)."""
    return draw.svg(_summary_builder(card), draw.STANDALONE)


def summary_png(card: Scorecard) -> bytes:
    return draw.png(_summary_builder(card))


def _summary_builder(card: Scorecard) -> draw.Build:
    """The standalone summary chart, titled with the run (it travels without the page around it)."""
    charts = scorecard_charts(card)
    title = scorecard_title(card)
    return lambda look: figures.interval_figure(charts.suites, charts.models, look, title=title)
