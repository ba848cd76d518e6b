"""The per-item table of a scorecard, filterable to items where the models disagree or both are wrong.

"Disagree" means the models gave different answers; "both wrong" that every model missed it. Both
filters apply to right/wrong suites (classification, multiple choice, math); summaries, scored by
ROUGE, appear only under "all items".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from benchmarks.scorecard import Scorecard
from tui.widgets.bench_feed import answer_text, excerpt, mark
from tui.widgets.bench_messages import FeedEntry, short_ref

FILTERS = {"all": "all items", "disagree": "models disagree", "both_wrong": "both wrong"}


@dataclass(frozen=True)
class ItemRow:
    suite: str
    item_id: str
    task: str
    target: str
    prompt: str
    entries: dict[str, FeedEntry]  # model ref -> that model's result

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.item_id}"

    @property
    def right_or_wrong(self) -> bool:
        return self.task != "summarize" and len(self.entries) >= 2

    @property
    def disagree(self) -> bool:
        return self.right_or_wrong and len({e.answer for e in self.entries.values()}) > 1

    @property
    def both_wrong(self) -> bool:
        return self.right_or_wrong and all(e.correct is False for e in self.entries.values())

    def passes(self, name: str) -> bool:
        return (
            name == "all"
            or (name == "disagree" and self.disagree)
            or (name == "both_wrong" and self.both_wrong)
        )


def item_rows(card: Scorecard, prompts: dict[tuple[str, str], str]) -> list[ItemRow]:
    """One row per suite item, each model's result side by side, in the order of the run."""
    tasks = {row.suite: row.task for row in card.rows}
    rows: dict[tuple[str, str], ItemRow] = {}
    for result in card.items:
        key = (result.suite, result.item_id)
        task = tasks.get(result.suite, "")
        prompt = prompts.get(key, "")
        row = rows.get(key)
        if row is None:
            row = rows[key] = ItemRow(result.suite, result.item_id, task, result.target, prompt, {})
        row.entries[result.model_ref] = FeedEntry(result, task, prompt, result.cached)
    return list(rows.values())


class ScoreItemsTable(DataTable):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.models: list[str] = []
        self.rows_all: list[ItemRow] = []
        self.shown: list[ItemRow] = []
        self.filter = "all"

    def load(self, rows: list[ItemRow], models: list[str]) -> None:
        self.rows_all = rows
        self.models = models
        self.clear(columns=True)
        self.add_column("Suite", key="suite")
        self.add_column("Item", key="item")
        self.add_column("Prompt", key="prompt", width=40)
        self.add_column("Expected", key="target")
        for i, model in enumerate(models):
            label = short_ref(model)  # the model's name heads its column whole, never cut
            self.add_column(label, key=f"answer{i}", width=max(22, len(label)))
            self.add_column("", key=f"mark{i}")
        self.apply_filter(self.filter)

    def apply_filter(self, name: str) -> int:
        self.filter = name
        self.clear()
        self.shown = [row for row in self.rows_all if row.passes(name)]
        for row in self.shown:
            cells: list[Any] = [row.suite, row.item_id, excerpt(row.prompt, 40), excerpt(row.target, 16)]
            for model in self.models:
                entry = row.entries.get(model)
                cells += [answer_text(entry), mark(entry)] if entry else [Text("–", style="dim"), ""]
            self.add_row(*cells, key=row.key)
        return len(self.shown)

    def current(self) -> ItemRow | None:
        if not self.shown or self.cursor_row >= len(self.shown):
            return None
        return self.shown[self.cursor_row]
