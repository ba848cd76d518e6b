"""The one HTML page skeleton of duel's exports (the scorecard and the arena leaderboard).

A page is one self-contained file: inline CSS, charts as inline SVG, no fonts, images, scripts or
styles fetched from anywhere, so it opens offline and can be mailed around. The stylesheet follows
the reader's light or dark scheme (prefers-color-scheme) and has a print version (black on white,
every collapsed section open, no filter controls, charts kept whole on a page). Charts drawn with
`chart_render`'s inline look use `currentColor` and `--grid`, so they follow the scheme too.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d0d7de;
  --head: #f3f4f6; --zebra: #f8f9fa; --grid: #d6dbe0; --good: #116329; --warn: #9a4f00; --accent: #0a5fb4; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0f1115; --muted: #9aa4af; --line: #3a414a; --head: #1c2128;
    --zebra: #151a20; --grid: #3a414a; --good: #56d364; --warn: #f0a44b; --accent: #6cb6ff; }
}
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto;
  max-width: 78rem; padding: 0 1.5rem; color: var(--fg); background: var(--bg); line-height: 1.45; }
h1 { font-size: 1.45rem; margin-bottom: 0.3rem; }
h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
h3 { font-size: 0.95rem; margin: 0.6rem 0 0.3rem; }
a { color: var(--accent); }
nav { font-size: 0.9rem; } nav a { margin-right: 0.8rem; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.5rem 0; }
th, td { border: 1px solid var(--line); padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: var(--head); } tbody tr:nth-child(even) td { background: var(--zebra); }
.wide { overflow-x: auto; } .wide td { white-space: nowrap; }
table.results td:last-child { white-space: normal; min-width: 24rem; }
table.items td.txt { white-space: normal; min-width: 14rem; }
figure { margin: 0.6rem 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; color: var(--fg); }
figcaption { font-size: 0.78rem; color: var(--muted); }
.pair { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
.pair > figure { flex: 1 1 34rem; } .pair > aside { flex: 1 1 20rem; font-size: 0.88rem; }
aside ul { padding-left: 1.1rem; margin: 0.2rem 0 0.6rem; }
.heatmaps { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; }
.heatmaps figure { flex: 0 1 auto; } .heatmaps svg { max-width: 30rem; }
.sig { color: var(--good); font-weight: 600; } .ns { color: var(--muted); }
.warn { color: var(--warn); font-weight: 600; } .note, .muted { color: var(--muted); font-size: 0.8rem; }
.gap { color: var(--muted); font-style: italic; }
details { margin: 0.6rem 0; } summary { cursor: pointer; font-weight: 600; }
.filters { display: none; gap: 1.2rem; font-size: 0.85rem; margin: 0.4rem 0; }
.js .filters { display: flex; }
table.only-disagree tbody tr:not(.disagree), table.only-failed tbody tr:not(.failed) { display: none; }
td.ok { color: var(--good); } td.bad { color: var(--warn); }
@media print {
  :root { --fg: #000; --bg: #fff; --muted: #444; --line: #999; --head: #eee; --zebra: #fff; --grid: #ccc;
    --good: #000; --warn: #000; --accent: #000; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  nav, .filters { display: none !important; }
  details::details-content { content-visibility: visible; height: auto; }
  tbody tr { display: table-row !important; }
  .wide { overflow: visible; } .wide td { white-space: normal; }
  h2, h3, summary { break-after: avoid; }
  .pair, .heatmaps, tr { break-inside: avoid; }
}
"""

#: Filters and printing: a few lines, and the page reads completely without them.
SCRIPT = """
document.documentElement.classList.add('js');
document.addEventListener('change', (e) => {
  const box = e.target, bar = box.closest('.filters');
  if (bar) document.getElementById(bar.dataset.table).classList.toggle('only-' + box.value, box.checked);
});
addEventListener('beforeprint', () => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
});
"""

e = html.escape


def page(title: str, body: Iterable[str], *, script: bool = False) -> str:
    """A whole page: `body` are HTML fragments, already escaped."""
    tail = f"<script>{SCRIPT}</script>\n" if script else ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + f"\n{tail}</body></html>\n"
    )


def figure(svg: str, caption: str, chart: str) -> str:
    """A chart with its caption; `chart` names it (data-chart) for tests and for readers of the source."""
    return f"<figure data-chart='{e(chart)}'>{svg}<figcaption>{e(caption)}</figcaption></figure>"


def frame_html(frame: Any, *, index: bool = False, css: str | None = None) -> str:
    """A pandas DataFrame as a table that scrolls sideways on a narrow screen (`css`: its class)."""
    return f"<div class='wide'>{frame.to_html(index=index, border=0, classes=css)}</div>"
