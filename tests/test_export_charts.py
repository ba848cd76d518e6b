"""The HTML scorecard with charts and the summary chart alone (`--format svg|png`), on runs with gaps:
failures, a suite where every item failed, a remote model without tok/s, and a one-model run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.export import render
from benchmarks.export_html import chart_count
from benchmarks.scorecard import build_scorecard
from tests.browser import external_references, image_stats
from tests.export_support import FLAKY, GAPPY_SUITES, REMOTE, SOLO, gappy_run, solo_run
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _texts(svg: str) -> list[str]:
    """The text of every <text> element (and its lines) of an SVG."""
    return [t for t in re.findall(r">([^<>]+)<", svg) if t.strip()]


def test_html_of_a_run_with_gaps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = gappy_run()
    out = tmp_path / "card.html"
    assert main(["scorecard", "last", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote the html scorecard of run {run_id} to {out}"
    page = out.read_text(encoding="utf-8")
    card = build_scorecard(str(run_id))
    assert external_references(page) == []  # nothing fetched: no src, no stylesheet, no font
    assert page.count("<svg") == chart_count(card) == 1 + 4 + 2 + 1  # summary, suites, 2 heatmaps, trade-offs
    charts = re.findall(r"data-chart='(\w+)'", page)
    assert charts == ["summary", "suite", "confusion", "confusion", "suite", "suite", "suite", "tradeoffs"]
    texts = _texts(page)
    # Gaps are written where the mark would be, never drawn as 0.
    assert texts.count("all 12 failed") == 2 * 3  # flaky knowledge, both maths; summary and suite charts
    assert f"{REMOTE} · summarize: no tok/s" in texts
    assert f"{REMOTE} · sentiment: remote: memory not measured here" in texts
    # Model names and suite names are text in the charts (searchable), not outlines.
    for name in (FLAKY, REMOTE, *GAPPY_SUITES):
        assert any(t.strip() == name or t.startswith(f"{name} —") for t in texts), name
    # Everything the tables showed is still there: baselines, verdicts, models, results, notes.
    assert "not better than always answering" in page and "Head to head" in page
    assert "no significant difference" in page and "<h2>Results</h2>" in page and "Intervals are 95%" in page
    # The verdicts sit beside the chart they are about.
    sentiment = page[page.index("<section id='suite-0-sentiment'") : page.index("<section id='suite-1-")]
    assert "<figure data-chart='suite'>" in sentiment and "<aside><h3>Head to head</h3>" in sentiment
    assert f"{FLAKY} " in sentiment and "Confusion matrix: sentiment" in sentiment
    # Per-item tables: collapsed, filterable, rows flagged for the filters.
    assert page.count("<details class='items'>") == 4 and page.count("class='filters'") == 4
    failed_rows = len(re.findall(r"<tr class='[^']*\bfailed\b", page))
    failed_items = {(r.suite, r.item_id) for r in card.items if r.failed}
    assert failed_rows == len(failed_items) > 0
    assert "only disagreements" in page and "<script>" in page and "prefers-color-scheme: dark" in page
    assert "@media print" in page


def test_summary_chart_alone_svg_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gappy_run()
    capsys.readouterr()
    assert main(["scorecard", "last", "--format", "svg"]) == 0  # svg may go to stdout
    svg = capsys.readouterr().out
    assert svg.startswith("<?xml") and svg.count("<svg") == 1
    texts = _texts(svg)
    assert "duel scorecard — run 1 (complete)" in texts and "all 12 failed" in texts
    assert {FLAKY, REMOTE} <= {t.strip() for t in texts}
    assert "currentColor" not in svg  # standalone: real colours on white, readable wherever pasted
    assert render(build_scorecard("1"), "svg") == svg  # deterministic: the same run, the same bytes

    assert main(["scorecard", "1", "-o", str(tmp_path / "card.svg")]) == 0  # format from the suffix
    assert (tmp_path / "card.svg").read_text(encoding="utf-8") == svg
    png = tmp_path / "card.png"
    assert main(["scorecard", "1", "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    stats = image_stats(png)
    assert not stats.blank and stats.width > 1000 and stats.mean > 200  # mostly white, with marks on it
    capsys.readouterr()
    assert main(["scorecard", "1", "--format", "png"]) == 2  # binary: a file only
    assert "png is binary: write it to a file with -o FILE.png" in capsys.readouterr().err


def test_one_model_run_exports(tmp_path: Path) -> None:
    solo_run()
    assert main(["scorecard", "last", "-o", str(tmp_path / "solo.html")]) == 0
    page = (tmp_path / "solo.html").read_text(encoding="utf-8")
    assert page.count("(needs two models on the same items)") == 2 and SOLO in page
    assert page.count("<svg") == 1 + 2 + 1 + 1  # summary, 2 suites, 1 heatmap, trade-offs
    assert main(["scorecard", "last", "-o", str(tmp_path / "solo.png")]) == 0
    assert not image_stats(tmp_path / "solo.png").blank


def test_charts_are_not_imported_by_help() -> None:
    """matplotlib loads when a chart is drawn, not for `duel --help` or to read a scorecard module."""
    code = (
        "import sys\n"
        "import benchmarks.export, benchmarks.export_html, benchmarks.arena.render\n"
        "from tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
