"""`duel suites`, `duel bench`, `duel runs`, `duel scorecard` through the real CLI (scripted engines)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.store import SCHEMA_VERSION
from engines.parallel import DEFAULT_PARALLEL
from models.paths import results_db_file
from tests.browser import external_references
from tui.cli import main

SCRIPTED = ["-m", "scripted:a", "-m", "scripted:b"]


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("duel: error: ")
    return err


def test_suites_lists_builtin_and_imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "Tweets.csv"
    pd.DataFrame(
        {
            "text": ["good", "bad", "meh", "great"],
            "airline_sentiment": ["positive", "negative", "neutral", "positive"],
        }
    ).to_csv(csv, index=False)
    assert main(["suites", "import", str(csv), "--as", "airline", "--task", "classify"]) == 0
    assert "imported 4 items as suite 'airline'" in capsys.readouterr().out
    assert main(["suites", "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed["sentiment"]["items"] == 150 and listed["sentiment"]["source"] == "built-in"
    assert listed["knowledge"]["task"] == "mc"
    assert listed["airline"]["items"] == 4 and listed["airline"]["source"] == "imported from Tweets.csv"
    assert main(["suites"]) == 0
    table = capsys.readouterr().out
    assert "sentiment" in table and "airline" in table and "summarize" in table


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bench", "sentimnet", *SCRIPTED], "unknown suite 'sentimnet'"),
        (["bench", "sentiment", "-m", "no-such-model"], "unknown model 'no-such-model'"),
        (["bench", "sentiment", *SCRIPTED, "--limit", "0"], "--limit must be at least 1"),
        (["scorecard", "last"], "no runs yet"),
        (["scorecard", "42"], "no run with id 42"),
        (["suites", "import", "missing.csv", "--as", "x", "--task", "classify"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert needle in _one_error_line(capsys)


def test_import_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "#### 1"}\nnot json\n')
    assert main(["suites", "import", str(bad), "--as", "g", "--task", "math"]) == 2
    assert f"{bad}:2: malformed JSON" in _one_error_line(capsys)
    csv = tmp_path / "t.csv"
    pd.DataFrame({"body": ["x"], "label": ["a"]}).to_csv(csv, index=False)
    assert main(["suites", "import", str(csv), "--as", "t", "--task", "classify", "--text-col", "text"]) == 2
    assert "no column 'text' (columns found: body, label)" in _one_error_line(capsys)
    pd.DataFrame({"text": ["x", "y"], "label": ["a", "zzz"]}).to_csv(csv, index=False)
    assert main(["suites", "import", str(csv), "--as", "t", "--task", "classify", "--labels", "a,b"]) == 2
    assert "label 'zzz' is not in the label set (a, b)" in _one_error_line(capsys)
    pd.DataFrame({"text": [""], "label": ["a"]}).to_csv(csv, index=False)
    assert main(["suites", "import", str(csv), "--as", "t", "--task", "classify"]) == 2
    assert "no items left after filtering" in _one_error_line(capsys)


def test_bench_runs_scorecard_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sentiment", "summarize", *SCRIPTED, "--limit", "6"]) == 0
    out = capsys.readouterr().out
    assert "run 1: complete (24 items computed)" in out
    assert re.search(r"scripted:a \d\.\d{3} vs scripted:b \d\.\d{3} — no significant difference", out)

    # The same command again reuses every item.
    assert main(["bench", "sentiment", "summarize", *SCRIPTED, "--limit", "6"]) == 0
    assert "run 2: complete (0 items computed, 24 reused from earlier runs)" in capsys.readouterr().out

    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["items_done"]) for r in runs] == [
        (2, "complete", 24),
        (1, "complete", 24),
    ]
    assert runs[0]["models"] == ["scripted:a", "scripted:b"] and runs[0]["suites"] == [
        "sentiment",
        "summarize",
    ]

    with sqlite3.connect(results_db_file()) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 24

    md = tmp_path / "card.md"
    assert main(["scorecard", "last", "--format", "md", "-o", str(md)]) == 0
    text = md.read_text()
    assert "# duel scorecard — run 2 (complete)" in text
    assert "| sentiment | scripted:a" in text and "ROUGE-L F" in text
    assert "no significant difference" in text  # 6 items cannot separate two models
    assert f"threads default, parallel {DEFAULT_PARALLEL}." in text  # the settings line says how it ran

    assert main(["scorecard", "1", "-o", str(tmp_path / "card.csv")]) == 0
    frame = pd.read_csv(tmp_path / "card.csv")
    assert set(frame["suite"]) == {"sentiment", "summarize"} and set(frame["model"]) == {
        "scripted:a",
        "scripted:b",
    }
    sentiment_a = frame[(frame.suite == "sentiment") & (frame.model == "scripted:a")].iloc[0]
    assert sentiment_a["items"] == 6 and 0 <= sentiment_a["accuracy_ci_low"] <= sentiment_a["accuracy"]

    assert main(["scorecard", "last", "--format", "json", "-o", str(tmp_path / "card.json")]) == 0
    data = json.loads((tmp_path / "card.json").read_text())
    assert len(data["items"]) == 24  # every per-item result
    assert {i["item_id"] for i in data["items"] if i["suite"] == "sentiment"} <= {
        f"sent-{n:03d}" for n in range(1, 151)
    }
    assert all(i["cached"] for i in data["items"])  # run 2 reused all of run 1
    assert data["head_to_head"][0]["test"] == "exact McNemar"
    assert any(h["test"] == "paired bootstrap" for h in data["head_to_head"])
    assert data["models"][0]["identity"]["name"] == "a"

    html_path = tmp_path / "card.html"
    assert main(["scorecard", "last", "--format", "html", "-o", str(html_path)]) == 0
    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "Confusion matrix: sentiment" in page and external_references(page) == []


def test_scorecard_to_stdout_defaults_to_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sentiment", "-m", "scripted:solo", "--limit", "3"]) == 0
    capsys.readouterr()
    assert main(["scorecard", "last"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# duel scorecard — run 1") and "(needs two models on the same items)" in out


def test_generate_method_and_shots(capsys: pytest.CaptureFixture[str]) -> None:
    # Scripted replies are word salad: every answer is unparseable, and the scorecard says so.
    assert (
        main(["bench", "sentiment", *SCRIPTED, "--limit", "3", "--method", "generate", "--shots", "2"]) == 0
    )
    capsys.readouterr()
    assert main(["scorecard", "last", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["model"]: r for r in data["results"]}
    assert rows["scripted:a"]["method"] == "generate"
    # The scripted vocabulary has no sentiment word, so no reply names a label.
    assert (
        rows["scripted:a"]["unparseable"],
        rows["scripted:a"]["failures"],
        rows["scripted:a"]["accuracy"],
    ) == (3, 3, 0.0)
    assert all(i["score"]["unparseable"] == 1 and i["output"] for i in data["items"])
    assert data["run"]["settings"]["shots"] == 2
