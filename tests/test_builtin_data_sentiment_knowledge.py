"""Properties of the built-in `sentiment` and `knowledge` data files.

The files are read straight from the repository (not through the benchmarks package), so these tests
guard the data itself: counts, schema, balance and shuffling that the scoring and statistics rely on.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
SENTIMENT_FILE = DATA_DIR / "sentiment.jsonl"
KNOWLEDGE_FILE = DATA_DIR / "knowledge.jsonl"

LABELS = ("positive", "negative", "neutral")
DOMAINS = ("airline", "shop", "app")
LETTERS = ("A", "B", "C", "D")
# A shuffled file should not contain long runs of one class; a grouped file would.
MAX_RUN = 6


def _load_jsonl(path: Path) -> list[dict]:
    items = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            assert line.strip(), f"{path.name}:{line_number} is blank"
            item = json.loads(line)
            assert isinstance(item, dict), f"{path.name}:{line_number} is not an object"
            items.append(item)
    return items


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _longest_run(values: list[str]) -> int:
    longest = current = 0
    previous = None
    for value in values:
        current = current + 1 if value == previous else 1
        previous = value
        longest = max(longest, current)
    return longest


@pytest.fixture(scope="module")
def sentiment() -> list[dict]:
    return _load_jsonl(SENTIMENT_FILE)


@pytest.fixture(scope="module")
def knowledge() -> list[dict]:
    return _load_jsonl(KNOWLEDGE_FILE)


# ---------------------------------------------------------------- sentiment


def test_sentiment_has_150_items(sentiment: list[dict]) -> None:
    assert len(sentiment) == 150


def test_sentiment_schema(sentiment: list[dict]) -> None:
    for item in sentiment:
        assert set(item) == {"id", "text", "label", "domain"}, item
        assert isinstance(item["text"], str) and item["text"].strip() == item["text"] and item["text"]
        assert item["label"] in LABELS, item
        assert item["domain"] in DOMAINS, item
        # Short posts, tweet/review sized.
        assert 15 <= len(item["text"]) <= 280, item["id"]


def test_sentiment_ids_unique_and_sequential(sentiment: list[dict]) -> None:
    assert [item["id"] for item in sentiment] == [f"sent-{n:03d}" for n in range(1, len(sentiment) + 1)]


def test_sentiment_texts_not_duplicated(sentiment: list[dict]) -> None:
    texts = Counter(_normalise(item["text"]) for item in sentiment)
    assert [text for text, count in texts.items() if count > 1] == []


def test_sentiment_labels_balanced(sentiment: list[dict]) -> None:
    assert Counter(item["label"] for item in sentiment) == {label: 50 for label in LABELS}


def test_sentiment_domains_balanced_within_each_label(sentiment: list[dict]) -> None:
    for label in LABELS:
        domains = Counter(item["domain"] for item in sentiment if item["label"] == label)
        assert set(domains) == set(DOMAINS), (label, domains)
        assert max(domains.values()) - min(domains.values()) <= 2, (label, domains)


def test_sentiment_is_shuffled(sentiment: list[dict]) -> None:
    assert _longest_run([item["label"] for item in sentiment]) <= MAX_RUN
    assert _longest_run([item["domain"] for item in sentiment]) <= MAX_RUN


# ---------------------------------------------------------------- knowledge


def test_knowledge_has_100_items(knowledge: list[dict]) -> None:
    assert len(knowledge) == 100


def test_knowledge_schema(knowledge: list[dict]) -> None:
    for item in knowledge:
        assert set(item) == {"id", "subject", "question", "choices", "answer"}, item
        assert isinstance(item["subject"], str) and re.fullmatch(r"[a-z_]+", item["subject"]), item["id"]
        assert isinstance(item["question"], str) and item["question"].strip(), item["id"]
        choices = item["choices"]
        assert isinstance(choices, list) and len(choices) == 4, item["id"]
        assert all(isinstance(choice, str) and choice.strip() for choice in choices), item["id"]
        assert item["answer"] in LETTERS, item["id"]


def test_knowledge_choices_distinct(knowledge: list[dict]) -> None:
    for item in knowledge:
        assert len({_normalise(choice) for choice in item["choices"]}) == 4, item["id"]


def test_knowledge_ids_unique_and_sequential(knowledge: list[dict]) -> None:
    assert [item["id"] for item in knowledge] == [f"know-{n:03d}" for n in range(1, len(knowledge) + 1)]


def test_knowledge_questions_not_duplicated(knowledge: list[dict]) -> None:
    questions = Counter(_normalise(item["question"]) for item in knowledge)
    assert [question for question, count in questions.items() if count > 1] == []


def test_knowledge_answer_letters_balanced(knowledge: list[dict]) -> None:
    # Balanced keys stop a model that always picks one letter from scoring above chance (25%).
    assert Counter(item["answer"] for item in knowledge) == {letter: 25 for letter in LETTERS}


def test_knowledge_subjects_cover_at_least_ten(knowledge: list[dict]) -> None:
    subjects = Counter(item["subject"] for item in knowledge)
    assert len(subjects) >= 10, subjects
    assert all(6 <= count <= 12 for count in subjects.values()), subjects


def test_knowledge_is_shuffled(knowledge: list[dict]) -> None:
    assert _longest_run([item["answer"] for item in knowledge]) <= MAX_RUN
    assert _longest_run([item["subject"] for item in knowledge]) <= MAX_RUN


# ---------------------------------------------------------------- helpers


def test_longest_run_counts_consecutive_values() -> None:
    assert _longest_run(["a", "a", "b", "a", "a", "a", "c"]) == 3
    assert _longest_run([]) == 0
