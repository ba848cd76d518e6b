"""Re-scorable results: what was sent for each item is stored (once per part) and exported, and a
run's metrics can be recomputed from its JSON scorecard or per-item CSV alone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from baseline_support import plain_macro_f1
from rouge_score import rouge_scorer

from benchmarks.runner import BenchRequest, run_bench
from benchmarks.scorecard import build_scorecard
from benchmarks.sent_store import split_parts
from engines.base import (
    Chunk,
    GenerationParams,
    GenerationRequest,
    GenerationResult,
    LoadOptions,
    Message,
    NoteSink,
    OptionScore,
    ShouldStop,
)
from engines.scripted import ScriptedEngine
from models.paths import results_db_file
from tui.cli import main

SCRIPTED = ["-m", "scripted:a", "-m", "scripted:b"]


class Recorder(ScriptedEngine):
    """The scripted engine, keeping every context it scored and every chat it was asked to continue."""

    seen: dict[str, list[Any]] = {}

    def score_many(self, requests: Sequence[tuple[str, Sequence[str]]]) -> list[list[OptionScore]]:
        self.seen.setdefault(self._name, []).extend(("loglik", c, tuple(o)) for c, o in requests)
        return super().score_many(requests)

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams, should_stop: ShouldStop | None = None
    ) -> Iterator[Chunk]:
        self.seen.setdefault(self._name, []).append(("chat", [dict(m) for m in messages], params))
        yield from super().stream_chat(messages, params, should_stop)

    def generate_many(
        self,
        requests: Sequence[GenerationRequest],
        parallel: int = 1,
        should_stop: ShouldStop | None = None,
        on_note: NoteSink | None = None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        """The runner's path for generated items: each request is recorded as given."""
        for request in requests:
            self.seen.setdefault(self._name, []).append(
                ("chat", [dict(m) for m in request.messages], request.params)
            )
        yield from super().generate_many(requests, parallel, should_stop, on_note)


def _recording(ref: str, options: LoadOptions | None = None, progress: Any = None) -> Recorder:
    return Recorder(ref.split(":", 1)[1])


def _dumps(messages: Sequence[Any]) -> str:
    return json.dumps([dict(m) for m in messages])


def test_the_stored_prompt_is_exactly_what_the_engine_was_given() -> None:
    Recorder.seen = {}
    for method, shots in (("loglik", 2), ("generate", 1)):
        request = BenchRequest(suites=("sentiment", "knowledge"), models=("scripted:r",), limit=6,
                               method=method, shots=shots)
        run_id = run_bench(request, open_engine=_recording).run_id
        card = build_scorecard(str(run_id))
        seen = Recorder.seen.pop("r")
        assert len(seen) == len(card.items) == 12
        assert all(r.sent is not None for r in card.items)
        sent = {(r.sent.kind, r.sent.context or _dumps(r.sent.messages)) for r in card.items}
        if method == "loglik":
            assert sent == {("loglik", c) for _, c, _ in seen}
            options = {r.sent.context: r.sent.options for r in card.items}
            assert all(options[c] == o for _, c, o in seen)
            assert all(r.sent.answers == tuple(r.score.logprobs) for r in card.items)
        else:
            assert sent == {("chat", _dumps(m)) for _, m, _ in seen}
            engine = Recorder("r")
            for r in card.items:
                assert r.sent.rendered == engine.render_chat(r.sent.messages)  # the template's text
                assert r.sent.params["max_tokens"] == 8 and r.sent.params["temperature"] == 0.0


def test_metrics_recomputed_from_the_json_file_alone(tmp_path: Path) -> None:
    """Nothing but the JSON file (and rouge-score) is read: no duel code scores anything here."""
    argv = ["bench", "sentiment", "knowledge", "summarize", *SCRIPTED, "--limit", "8", "--shots", "1"]
    assert main(argv) == 0
    path = tmp_path / "card.json"
    assert main(["scorecard", "last", "-o", str(path)]) == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    checked = 0
    for row in data["results"]:
        items = [i for i in data["items"] if i["suite"] == row["suite"] and i["model"] == row["model"]]
        assert len(items) == row["items"] == 8
        suite = data["suites"][row["suite"]]
        if suite["task"] in ("classify", "mc"):
            preds, preds_norm = [], []
            for item in items:
                sent = item["sent"]
                assert sent["kind"] == "loglik" and sent["context"].endswith(":")
                logprobs = item["score"]["logprobs"]  # per answer, as the options stand for them
                by_option = {o: logprobs[a] for o, a in zip(sent["options"], sent["answers"], strict=True)}
                best = max(by_option, key=by_option.__getitem__)
                best_norm = max(by_option, key=lambda o: by_option[o] / len(o))
                preds.append(sent["answers"][sent["options"].index(best)])
                preds_norm.append(sent["answers"][sent["options"].index(best_norm)])
            targets = [i["target"] for i in items]
            accuracy = sum(p == t for p, t in zip(preds, targets, strict=True)) / len(items)
            accuracy_norm = sum(p == t for p, t in zip(preds_norm, targets, strict=True)) / len(items)
            assert row["accuracy"] == pytest.approx(accuracy, abs=1e-5)
            assert row["accuracy_norm"] == pytest.approx(accuracy_norm, abs=1e-5)
            if suite["task"] == "classify":
                assert row["macro_f1"] == pytest.approx(plain_macro_f1(targets, preds, suite["labels"]))
            assert row["value"] == pytest.approx(row[suite["headline_metric"]])
        else:
            rouge = [scorer.score(i["target"], i["output"].strip())["rougeL"].fmeasure for i in items]
            assert row["rougeL"] == pytest.approx(sum(rouge) / len(rouge))
            for item in items:
                assert item["sent"]["kind"] == "chat" and item["sent"]["rendered"].startswith("<user>")
                assert item["sent"]["messages"][-1]["role"] == "user"
        checked += 1
    assert checked == 6


def test_per_item_csv_carries_what_was_sent_and_rescores(tmp_path: Path) -> None:
    assert main(["bench", "sentiment", *SCRIPTED, "--limit", "9"]) == 0
    path = tmp_path / "run.items.csv"
    assert main(["scorecard", "last", "-o", str(path)]) == 0  # the format from the suffix
    frame = pd.read_csv(path, keep_default_na=False)
    assert len(frame) == 18 and set(frame["model"]) == {"scripted:a", "scripted:b"}
    card = build_scorecard("last")
    for model, group in frame.groupby("model"):
        right = 0
        for _, item in group.iterrows():
            logprobs = json.loads(item["logprobs"])
            answers = json.loads(item["answers"])
            assert json.loads(item["options"]) == [f" {a}" for a in answers]
            assert item["context"].endswith("Sentiment:") and item["sent_note"] == ""
            right += max(answers, key=logprobs.__getitem__) == item["target"]
        assert card.row("sentiment", model).metric_named("accuracy").value == pytest.approx(right / 9)


def test_results_stored_before_prompts_were_kept_say_so(tmp_path: Path) -> None:
    assert main(["bench", "sentiment", *SCRIPTED, "--limit", "3"]) == 0
    with sqlite3.connect(results_db_file()) as conn:  # as a schema-2 file migrated forward leaves them
        conn.execute("UPDATE results SET sent = NULL")
        conn.execute("DELETE FROM prompt_parts")
    path = tmp_path / "card.json"
    assert main(["scorecard", "last", "-o", str(path)]) == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    assert all(item["sent"] is None for item in data["items"]) and "not stored" in data["sent_note"]
    assert data["results"][0]["accuracy"] is not None  # the scorecard itself is whole
    csv = tmp_path / "items.csv"
    assert main(["scorecard", "last", "--format", "items-csv", "-o", str(csv)]) == 0
    frame = pd.read_csv(csv, keep_default_na=False)
    assert (frame["context"] == "").all() and frame["sent_note"].str.startswith("not stored").all()


def test_split_parts_joins_back_exactly() -> None:
    for text in ("", "one", "a\n\nb", "a\n\n\n\nb\n\n", "\n\n", "x\ny\n\nz"):
        parts = split_parts(text)
        assert "".join(parts) == text
        assert all(parts) or parts == [""]


def test_few_shot_prompts_are_stored_once_per_part(capsys: pytest.CaptureFixture[str]) -> None:
    """5-shot prompts of 150 items x 2 models: what is stored against the text sent, in bytes."""
    for method in ("loglik", "generate"):
        request = BenchRequest(suites=("sentiment",), models=("scripted:a", "scripted:b"), method=method,
                               shots=5, max_tokens=2)
        run_bench(request)
    with sqlite3.connect(results_db_file()) as conn:
        parts = conn.execute("SELECT SUM(LENGTH(CAST(text AS BLOB))) FROM prompt_parts").fetchone()[0]
        refs = conn.execute("SELECT SUM(LENGTH(CAST(body AS BLOB))) FROM prompts").fetchone()[0]
        refs += conn.execute("SELECT SUM(LENGTH(sent)) FROM results").fetchone()[0]
    card_texts = 0
    for run in ("1", "2"):
        for r in build_scorecard(run).items:
            sent = r.sent
            card_texts += len((sent.context or "").encode())
            card_texts += sum(len(m["content"].encode()) for m in sent.messages)
            card_texts += len((sent.rendered or "").encode())
    stored = parts + refs
    with capsys.disabled():
        ratio = stored / card_texts
        print(f"\nsent texts {card_texts / 1024:.0f} KiB, stored {stored / 1024:.0f} KiB (parts "
              f"{parts / 1024:.0f} KiB + prompts and references {refs / 1024:.0f} KiB): {ratio:.2f}")
    assert stored < card_texts * 0.35
