"""Suites: built-in manifest, loading, stratified --limit, prompts and few-shot exemplars."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.builtin import BUILTIN_NAMES
from benchmarks.errors import SuiteDataError, UnknownSuiteError
from benchmarks.prompts import chat_prompt, exemplars_for, loglik_prompt, prompt_hash
from benchmarks.sampling import stratified_sample
from benchmarks.suites import Item, SuiteManifest, load_suite, read_items


def test_builtin_suites_load_with_their_tasks() -> None:
    tasks = {name: load_suite(name).task for name in BUILTIN_NAMES}
    assert tasks == {"sentiment": "classify", "knowledge": "mc", "summarize": "summarize", "math": "math"}
    sentiment = load_suite("sentiment")
    assert set(sentiment.labels) == {"positive", "negative", "neutral"}
    assert sentiment.content_version.startswith("1+")
    math_suite = load_suite("math")
    assert all(item.target.lstrip("-").replace(".", "").isdigit() for item in math_suite.items)


def test_unknown_suite_lists_known_names() -> None:
    with pytest.raises(UnknownSuiteError, match="unknown suite 'sentimnet'.*sentiment"):
        load_suite("sentimnet")


def _manifest(tmp: Path, labels: tuple[str, ...] = ("yes", "no")) -> SuiteManifest:
    return SuiteManifest("t", "1", "classify", "accuracy", "test", str(tmp), "imported", labels)


def test_malformed_jsonl_reports_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "text": "x", "label": "yes"}\n\n{"id": "b", "text": "y", label: no}\n')
    with pytest.raises(SuiteDataError, match=rf"{path}:3: malformed JSON"):
        read_items(path, _manifest(path))


def test_label_outside_label_set_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "text": "x", "label": "yes"}\n{"id": "b", "text": "y", "label": "maybe"}\n')
    with pytest.raises(SuiteDataError, match=r":2: label 'maybe' is not in the label set \(yes, no\)"):
        read_items(path, _manifest(path))


def test_duplicate_ids_and_empty_file_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "text": "x", "label": "yes"}\n{"id": "a", "text": "y", "label": "no"}\n')
    with pytest.raises(SuiteDataError, match="duplicate item id 'a'"):
        read_items(path, _manifest(path))
    path.write_text("\n")
    with pytest.raises(SuiteDataError, match="no items"):
        read_items(path, _manifest(path))


def test_stratified_sample_keeps_label_shares_and_is_seeded() -> None:
    items = [Item(f"i{n}", "t", label) for n, label in enumerate(["a"] * 60 + ["b"] * 30 + ["c"] * 10)]
    picked = stratified_sample(items, 20, 7, lambda i: i.target)
    assert Counter(i.target for i in picked) == {"a": 12, "b": 6, "c": 2}
    assert [i.id for i in picked] == [i.id for i in stratified_sample(items, 20, 7, lambda i: i.target)]
    assert [i.id for i in picked] != [i.id for i in stratified_sample(items, 20, 8, lambda i: i.target)]
    assert [i.id for i in picked] == sorted(
        (i.id for i in picked), key=lambda x: int(x[1:])
    )  # original order
    assert len(stratified_sample(items, 500, 0, lambda i: i.target)) == 100


def test_stratified_sample_of_builtin_sentiment_is_balanced() -> None:
    suite = load_suite("sentiment")
    picked = stratified_sample(suite.items, 30, 0, lambda i: i.target)
    assert Counter(i.target for i in picked) == {"positive": 10, "negative": 10, "neutral": 10}


def test_loglik_prompt_layout_and_fewshot_prefix_is_shared() -> None:
    suite = load_suite("knowledge")
    first, second = suite.items[0], suite.items[1]
    p1 = loglik_prompt(suite, first, exemplars_for(suite, first, 5))
    p2 = loglik_prompt(suite, second, exemplars_for(suite, second, 5))
    assert p1.options == (" A", " B", " C", " D") and p1.answers == ("A", "B", "C", "D")
    assert p1.context.endswith("D. " + first.choices[3] + "\nAnswer:")
    assert p1.context.count("\nAnswer: ") == 5  # five exemplars with their answers
    # Items outside the exemplar set share the whole 5-shot prefix (what the scorer keeps cached).
    shots = {e.id for e in exemplars_for(suite, first, 5)}
    others = [i for i in suite.items if i.id not in shots][:2]
    a, b = (loglik_prompt(suite, i, exemplars_for(suite, i, 5)).context for i in others)
    prefix = a[: a.rindex("\n\n")]
    assert b.startswith(prefix)
    assert first.id not in {e.id for e in exemplars_for(suite, first, 5)}
    assert prompt_hash(p1) != prompt_hash(p2)


def test_chat_prompt_is_greedy_and_bounded() -> None:
    suite = load_suite("sentiment")
    prompt = chat_prompt(suite, suite.items[0], exemplars_for(suite, suite.items[0], 2))
    assert prompt.params.temperature == 0.0 and prompt.params.max_tokens == 8
    assert [m["role"] for m in prompt.messages] == ["user", "assistant", "user", "assistant", "user"]
    assert suite.items[0].text in prompt.messages[-1]["content"]
    summary = chat_prompt(load_suite("summarize"), load_suite("summarize").items[0], [])
    assert summary.params.max_tokens == 160


def test_stored_suite_file_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    rows = [{"id": "q1", "question": "2+2?", "answer": "2 plus 2 is 4.\n#### 4"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    manifest = SuiteManifest("m", "1", "math", "exact_match", "t", str(path), "imported")
    (item,) = read_items(path, manifest)
    assert item.target == "4" and item.extra["solution"].endswith("#### 4")
