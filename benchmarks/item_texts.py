"""Items as a person reads them: the item's text from its suite, and each model's answer in words.

Shared by the scorecard's per-item views (the TUI's items table and item screen, the HTML export).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmarks.suites import LETTERS, Item, Suite

if TYPE_CHECKING:
    from benchmarks.results import ItemResult
    from benchmarks.scorecard import Scorecard


def item_prompt(suite: Suite, item: Item) -> str:
    """The item as a person reads it: the text, and the lettered options of a multiple-choice item."""
    if not item.choices:
        return item.text
    options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(item.choices))
    return f"{item.text}\n{options}"


def item_texts(card: Scorecard) -> dict[tuple[str, str], str]:
    """{(suite, item id): item text} for the items of a scorecard, from the suites (a suite deleted
    since the run just has none)."""
    from benchmarks.suites import load_suite
    from models.errors import DuelError

    texts: dict[tuple[str, str], str] = {}
    wanted: dict[str, set[str]] = {}
    for result in card.items:
        wanted.setdefault(result.suite, set()).add(result.item_id)
    for name, ids in wanted.items():
        try:
            suite = load_suite(name)
        except DuelError:
            continue
        for item in suite.items:
            if item.id in ids:
                texts[(name, item.id)] = item_prompt(suite, item)
    return texts


def answer_of(result: ItemResult, task: str) -> str:
    """A model's answer as the item views show it: the parsed prediction, the summary, or the error."""
    if result.error:
        return f"error: {result.error}"
    if task == "summarize":
        return (result.output or "").strip() or "(empty)"
    return "unparseable" if result.score.prediction is None else str(result.score.prediction)
