"""Reading answers out of generated text. None means unparseable (counted separately, scored wrong).

Small models answer "Positive", "The sentiment is positive.", "**B**", "B) Paris" or a sentence with
the answer somewhere in it; these parsers accept those and refuse real ambiguity ("positive or
negative") instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from benchmarks.suites import LETTERS, normalize_number

_WORD_RE = re.compile(r"[a-z0-9][a-z0-9_'+-]*")
_NUMBER_RE = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'+-]", " ", text.lower())).strip()


def parse_label(text: str, labels: Sequence[str]) -> str | None:
    """The label the answer names: its first word, or the only label mentioned anywhere in it."""
    answer = _norm(text)
    if not answer:
        return None
    norm_labels = {_norm(label): label for label in labels}
    # A label that is the whole first sentence wins ("Negative. The customer is not positive" ->
    # negative), but not one that starts a longer phrase ("positive or negative"). Longest first so
    # "very negative" is not read as a shorter label that prefixes it.
    head = re.sub(r"^[\W_]+", "", text.lower())
    for norm in sorted(norm_labels, key=len, reverse=True):
        if re.match(re.escape(norm) + r"[*_\s]*(?:[.!,;:)\n]|$)", head):
            return norm_labels[norm]
    padded = f" {answer} "
    found = {orig for norm, orig in norm_labels.items() if f" {norm} " in padded}
    return found.pop() if len(found) == 1 else None


def parse_choice(text: str, choices: Sequence[str]) -> str | None:
    """The option letter an answer gives: 'B', '(B)', 'B. Paris', 'Answer: B', 'The answer is B', or the
    text of exactly one option."""
    letters = LETTERS[: len(choices)]
    raw = text.strip().replace("*", "")
    if not raw:
        return None
    letter_class = f"[{letters}]"
    patterns = (
        rf"^\(?({letter_class})\)?(?:[.):,\s]|$)",
        rf"\b(?:answer|option|choice)(?:\s+is)?\s*:?\s*\(?({letter_class})\)?(?:[.):,\s]|$)",
    )
    for pattern in patterns:
        match = re.search(pattern, raw, flags=re.I if pattern.startswith(r"\b") else 0)
        if match:
            return match.group(1).upper()
    answer = f" {_norm(raw)} "
    hits = {
        letters[k] for k, choice in enumerate(choices) if _norm(choice) and f" {_norm(choice)} " in answer
    }
    return hits.pop() if len(hits) == 1 else None


def parse_number(text: str) -> str | None:
    """The final answer of a worked solution: after '####', else after 'answer is', else the last number."""
    marker = re.search(r"####\s*(" + _NUMBER_RE.pattern + ")", text)
    if marker:
        return normalize_number(marker.group(1))
    stated = re.findall(r"answer(?:\s+is)?\s*[:=]?\s*\**\s*(" + _NUMBER_RE.pattern + ")", text, flags=re.I)
    if stated:
        return normalize_number(stated[-1])
    numbers = _NUMBER_RE.findall(text)
    return normalize_number(numbers[-1]) if numbers else None
