"""The scrolling feed of finished items: prompt excerpt, each model's answer, right or wrong.

One row per suite item; each model fills its own columns when it reaches the item (the runner runs
one model after the other). While the feed does not have the focus it follows the newest item;
focus it to look around, Enter opens an item in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from tui.widgets.bench_messages import FeedEntry

EXCERPT = 36
ANSWER = 16


def excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def mark(entry: FeedEntry) -> Text:
    if entry.result.error:
        return Text("error", style="bold red")
    if entry.correct is None:  # summaries: the item's ROUGE-L
        return Text(f"{entry.primary:.2f}")
    return Text("✓", style="bold green") if entry.correct else Text("✗", style="bold red")


def answer_text(entry: FeedEntry) -> Text:
    # Answers reused from an earlier run are dimmed: they were not computed now.
    return Text(excerpt(entry.answer, ANSWER), style="dim" if entry.cached else "")


class BenchFeed(DataTable):
    @dataclass
    class OpenItem(Message):
        key: str
        entries: dict[str, FeedEntry]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.models: list[str] = []
        self.entries: dict[str, dict[str, FeedEntry]] = {}

    def set_models(self, models: list[str], labels: dict[str, str]) -> None:
        self.clear(columns=True)
        self.entries = {}
        self.models = list(models)
        self.add_column("Suite", key="suite")
        self.add_column("Item", key="item")
        self.add_column("Prompt", key="prompt", width=EXCERPT)
        self.add_column("Expected", key="target")
        for i, model in enumerate(self.models):
            label = labels.get(model, model)  # the model's name heads its column whole, never cut
            self.add_column(label, key=f"answer{i}", width=max(ANSWER, len(label)))
            self.add_column("", key=f"mark{i}")

    def add_entries(self, entries: list[FeedEntry]) -> None:
        last_key = None
        for entry in entries:
            result = entry.result
            if result.model_ref not in self.models:
                continue
            column = self.models.index(result.model_ref)
            row = self.entries.get(entry.key)
            if row is None:
                self.entries[entry.key] = {result.model_ref: entry}
                cells: list[object] = [
                    result.suite,
                    result.item_id,
                    excerpt(entry.prompt, EXCERPT),
                    excerpt(result.target, 16),
                ]
                for i in range(len(self.models)):
                    cells += [answer_text(entry), mark(entry)] if i == column else ["", ""]
                self.add_row(*cells, key=entry.key)
            else:
                row[result.model_ref] = entry
                self.update_cell(entry.key, f"answer{column}", answer_text(entry))
                self.update_cell(entry.key, f"mark{column}", mark(entry))
            last_key = entry.key
        if last_key is not None and not self.has_focus:
            self.move_cursor(row=self.get_row_index(last_key))  # follow the newest item

    def action_open_item(self) -> None:
        if not self.row_count:
            return
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        if key is not None and key in self.entries:
            self.post_message(self.OpenItem(key, dict(self.entries[key])))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_item()
