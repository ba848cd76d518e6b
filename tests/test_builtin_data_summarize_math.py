"""Properties of the built-in `summarize` and `math` data files.

The files are read straight from the repository (not through the benchmarks package), so these tests
catch a broken data file even when the suite loader is wrong or missing. They check what a scorer relies
on: the schema, stable sequential ids, article and summary lengths, that each reference summary belongs
to its own article, and that every math key is the result its worked solution arrives at.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
SUMMARIZE_FILE = DATA_DIR / "summarize.jsonl"
MATH_FILE = DATA_DIR / "math.jsonl"

FINAL_LINE = re.compile(r"^#### (-?\d+)$")
# A sentence ends at . ! or ? followed by a capitalised word or the end, except after the abbreviations
# the articles use ("St. Aldric's", "Dr. Voss", "7:40 a.m. to").
SENTENCE_END = re.compile(r"(?<!\bSt)(?<!\bDr)(?<!a\.m)(?<!p\.m)[.!?](?=\s+[A-Z0-9\"']|\s*$)")
ARITHMETIC_CHARS = set("0123456789.+-*/() ")
RESULT_AFTER_EQUALS = re.compile(r"=\s*\$?(-?\d[\d,]*(?:\.\d+)?)")


def _load_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            assert line.strip(), f"{path.name}:{line_number} is blank"
            rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="module")
def summarize_items() -> list[dict]:
    return _load_jsonl(SUMMARIZE_FILE)


@pytest.fixture(scope="module")
def math_items() -> list[dict]:
    return _load_jsonl(MATH_FILE)


def _words(text: str) -> int:
    return len(text.split())


def _content_tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric tokens of four or more characters (skips 'the', 'of', 'a', numbers < 1000)."""
    return [token for token in re.findall(r"[a-z0-9]+", text.lower()) if len(token) >= 4]


def _coverage(summary: str, article: str) -> float:
    """Share of the summary's content tokens that occur anywhere in the article."""
    tokens = _content_tokens(summary)
    vocabulary = set(re.findall(r"[a-z0-9]+", article.lower()))
    return sum(token in vocabulary for token in tokens) / len(tokens)


def _sentence_count(text: str) -> int:
    return len(SENTENCE_END.findall(text))


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _evaluate(expression: str) -> float:
    """Evaluate + - * / and parentheses over number literals; anything else is a test failure."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"not plain arithmetic: {expression!r}")

    return walk(ast.parse(expression, mode="eval"))


def _computations(line: str) -> list[tuple[str, float]]:
    """Every `expression = result` in a line whose left side is pure arithmetic on numbers.

    The expression is the run of arithmetic characters just left of '='; a run that starts with an
    operator was cut by a variable (as in 'x + 5 = ...') and is skipped, as is a run with no operator.
    """
    found = []
    for match in RESULT_AFTER_EQUALS.finditer(line):
        start = match.start()
        while start > 0 and line[start - 1] in ARITHMETIC_CHARS:
            start -= 1
        expression = line[start : match.start()].strip().rstrip(".").strip()
        if not expression or expression[0] in "+-*/)" or not any(op in expression for op in "+-*/"):
            continue
        if expression.count("(") != expression.count(")"):
            continue
        found.append((expression, float(match.group(1).replace(",", ""))))
    return found


# --- summarize ---------------------------------------------------------------------------------------


def test_summarize_has_twenty_items_with_the_schema(summarize_items: list[dict]) -> None:
    assert len(summarize_items) == 20
    for item in summarize_items:
        assert set(item) == {"id", "title", "article", "summary"}, item.get("id")
        for key in ("id", "title", "article", "summary"):
            assert isinstance(item[key], str) and item[key].strip() == item[key] and item[key], (
                item.get("id"),
                key,
            )


def test_summarize_ids_are_unique_and_sequential(summarize_items: list[dict]) -> None:
    assert [item["id"] for item in summarize_items] == [f"sum-{n:03d}" for n in range(1, 21)]


def test_summarize_titles_and_articles_are_distinct(summarize_items: list[dict]) -> None:
    titles = [item["title"].casefold() for item in summarize_items]
    openings = [item["article"][:120].casefold() for item in summarize_items]
    assert len(set(titles)) == len(titles)
    assert len(set(openings)) == len(openings)


def test_articles_are_300_to_700_words_in_paragraphs(summarize_items: list[dict]) -> None:
    for item in summarize_items:
        assert 300 <= _words(item["article"]) <= 700, (item["id"], _words(item["article"]))
        paragraphs = item["article"].split("\n\n")
        assert len(paragraphs) >= 4, item["id"]
        for paragraph in paragraphs:
            assert paragraph.strip() == paragraph and paragraph, item["id"]
            assert "\n" not in paragraph, item["id"]


def test_summaries_are_short_two_or_three_sentences(summarize_items: list[dict]) -> None:
    for item in summarize_items:
        summary_words = _words(item["summary"])
        assert 25 <= summary_words <= 90, (item["id"], summary_words)
        assert summary_words < 0.25 * _words(item["article"]), item["id"]
        assert 2 <= _sentence_count(item["summary"]) <= 3, (item["id"], _sentence_count(item["summary"]))


def test_each_summary_is_drawn_from_its_own_article(summarize_items: list[dict]) -> None:
    articles = [item["article"] for item in summarize_items]
    for index, item in enumerate(summarize_items):
        coverages = [_coverage(item["summary"], article) for article in articles]
        own = coverages[index]
        best_other = max(c for i, c in enumerate(coverages) if i != index)
        assert own >= 0.6, (item["id"], own)
        # A summary attached to the wrong article would match some other article at least as well.
        assert own > best_other, (item["id"], own, best_other)


def test_overlap_check_rejects_a_summary_paired_with_another_article(summarize_items: list[dict]) -> None:
    """The coverage measure must actually discriminate, or the check above could never fail."""
    first, second = summarize_items[0], summarize_items[1]
    assert _coverage(first["summary"], second["article"]) < 0.6
    assert _coverage(second["summary"], first["article"]) < 0.6


# --- math --------------------------------------------------------------------------------------------


def test_math_has_sixty_items_with_the_schema(math_items: list[dict]) -> None:
    assert len(math_items) == 60
    for item in math_items:
        assert set(item) == {"id", "question", "answer"}, item.get("id")
        assert all(isinstance(item[key], str) and item[key] for key in item), item["id"]
        assert "?" in item["question"], item["id"]


def test_math_ids_are_unique_and_sequential(math_items: list[dict]) -> None:
    assert [item["id"] for item in math_items] == [f"math-{n:03d}" for n in range(1, 61)]


def test_math_questions_are_distinct(math_items: list[dict]) -> None:
    questions = [" ".join(item["question"].casefold().split()) for item in math_items]
    assert len(set(questions)) == len(questions)


def _final_answer(item: dict) -> int:
    last_line = item["answer"].splitlines()[-1]
    match = FINAL_LINE.match(last_line)
    assert match, (item["id"], last_line)
    return int(match.group(1))


def test_math_answers_end_with_an_integer_final_line(math_items: list[dict]) -> None:
    for item in math_items:
        lines = item["answer"].splitlines()
        assert len(lines) >= 2, item["id"]
        _final_answer(item)
        assert sum(line.startswith("####") for line in lines) == 1, item["id"]


def test_math_final_answer_is_the_result_of_the_last_computation(math_items: list[dict]) -> None:
    for item in math_items:
        worked = "\n".join(item["answer"].splitlines()[:-1])
        results = RESULT_AFTER_EQUALS.findall(worked)
        assert results, item["id"]
        assert float(results[-1].replace(",", "")) == _final_answer(item), (item["id"], results[-1])


def test_math_worked_steps_are_arithmetically_correct(math_items: list[dict]) -> None:
    checked = 0
    for item in math_items:
        for line in item["answer"].splitlines()[:-1]:
            for expression, result in _computations(line):
                assert _evaluate(expression) == pytest.approx(result), (item["id"], expression, result)
                checked += 1
    # Most steps are plain arithmetic; if parsing silently matched nothing this test would prove nothing.
    assert checked >= 150


def test_step_checker_catches_a_wrong_step() -> None:
    assert _computations("She buys 3 * 4 = 13 apples.") == [("3 * 4", 13.0)]
    assert _evaluate("3 * 4") != 13
    assert _computations("Then x + 5 = 2 * (x - 7).") == []


def test_math_answers_are_varied(math_items: list[dict]) -> None:
    answers = [_final_answer(item) for item in math_items]
    assert len(set(answers)) >= 55
    assert sum(answer >= 100 for answer in answers) >= 15
    assert sum(answer >= 1000 for answer in answers) >= 5
