"""Confusion matrices of a classification suite, one per model (counts from the scorecard)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui.widgets.bench_messages import short_ref


def confusion_table(model_ref: str, matrix: dict[str, dict[str, int]]) -> Table:
    """Rows: the true label; columns: what the model answered (and unparseable answers)."""
    columns: list[str] = []
    for row in matrix.values():
        for label in row:
            if label not in columns:
                columns.append(label)
    table = Table(title=short_ref(model_ref), title_justify="left", show_lines=False)
    table.add_column("true \\ answered", style="bold")
    for label in columns:
        table.add_column(label, justify="right")
    for truth, row in matrix.items():
        cells = []
        for label in columns:
            count = row.get(label, 0)
            style = "bold green" if label == truth and count else ("red" if count else "dim")
            cells.append(Text(str(count), style=style))
        table.add_row(truth, *cells)
    return table


def confusion_group(suite: str, per_model: dict[str, dict[str, dict[str, int]]]) -> Group:
    heading = Text(f"{suite}: true label by row, the model's answer by column", style="bold")
    return Group(heading, *(confusion_table(model, matrix) for model, matrix in per_model.items()), Text(""))
