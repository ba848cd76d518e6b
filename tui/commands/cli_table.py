"""Every table the `duel` command prints: the names a user must type stay whole, the rest gives way.

A table is declared once, as a tuple of `Column`s, and printed with `print_table`. The widths are
computed here rather than by rich, because rich's own fitting narrows every column evenly as a last
resort (names included) and never leaves a column out. The rule, for every CLI table:

1. `ident` columns (model names and references, suite names, run ids, hub repo ids, metadata keys)
   get the width of their longest value and never wrap or shorten. A cell may hold several names (a
   list, e.g. the models of a run): they are joined with ", " and broken between names only, one
   per line at worst.
2. `keep` columns hold short values (numbers, sizes, dates, statuses): their full width, one line.
3. `fold` columns (descriptions) wrap at spaces; `ellipsis` columns stay on one line and end in
   "…". They share what width is left, each down to its `min_width` (splitting a word only when
   nothing else can give).
4. When that does not fit, the columns with a `drop` rank are left out, rank 1 first, then 2, and
   so on, until it does; a dim line under the table names them. Columns without a rank always show.
   `--json` (and `duel scorecard --json`) prints every field of every row, whatever the width.
5. If the names side by side are wider than the terminal even then, each row is printed as a
   block of `field  value` lines (names one per line) instead of a table row. A single name longer
   than a terminal line is still printed whole, past the edge (a pipe gets it on one line).

rich renders 80 columns when stdout is not a terminal (or $COLUMNS when it is set), so piped output
follows the same rule at 80 columns. Nothing here imports rich at module level: command modules
declare their columns at import time and `duel --help` stays fast.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

Kind = Literal["ident", "keep", "fold", "ellipsis"]
Justify = Literal["left", "right", "center"]
# A cell: plain text (never read as rich markup, so a name with brackets shows as typed), styled
# Text, or, in an `ident` column, a list of names.
Cell = Union[str, "Text", Sequence[str]]

LIST_SEPARATOR = ", "
LONG_WORD = 16


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "fold"
    justify: Justify = "left"
    drop: int | None = None  # None: always shown; otherwise the order of giving way, 1 first
    # fold / ellipsis: the narrowest it gets (words up to LONG_WORD long stay whole until every
    # droppable column is gone); also a way to keep a column as wide as a name it holds
    min_width: int = 8
    style: str | None = None


@dataclass(frozen=True)
class Layout:
    shown: tuple[int, ...]  # indexes of the columns shown, in their order
    widths: tuple[int, ...]  # content width of each shown column
    dropped: tuple[str, ...]  # headers of the columns left out, the first to go first
    width: int  # the width of the whole table


def _is_list(cell: Cell) -> bool:
    return not isinstance(cell, str) and isinstance(cell, Sequence)


def _plain(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell.plain  # type: ignore[union-attr]


def _text_width(cell: Cell) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in _plain(cell).split("\n")), default=0)


def _cell_range(column: Column, cell: Cell) -> tuple[int, int, int]:
    """(narrowest, narrowest without splitting a word, natural) content width of one cell."""
    from rich.cells import cell_len

    if _is_list(cell):
        names = [str(name) for name in cell]  # type: ignore[union-attr]
        if not names:
            return 1, 1, 1
        comma = len(LIST_SEPARATOR.rstrip()) if len(names) > 1 else 0
        low = max(cell_len(n) for n in names) + comma
        return low, low, cell_len(LIST_SEPARATOR.join(names))
    natural = _text_width(cell)
    if column.kind in ("ident", "keep"):
        return natural, natural, natural
    longest_word = max((cell_len(word) for word in _plain(cell).split()), default=0)
    # Words up to LONG_WORD are split only when dropping every droppable column was not enough.
    whole_words = max(column.min_width, min(longest_word, LONG_WORD))
    return min(natural, column.min_width), min(natural, whole_words), natural


def _column_range(column: Column, cells: list[Cell]) -> tuple[int, int, int]:
    from rich.cells import cell_len

    header = cell_len(column.header)  # a header never wraps
    ranges = [_cell_range(column, cell) for cell in cells]
    hard, soft, natural = (max([header, *(r[k] for r in ranges)]) for k in range(3))
    return hard, max(hard, soft), max(hard, soft, natural)


def chrome_width(n_columns: int) -> int:
    """Width the table adds around the content: one padding column and one separator per gap."""
    return max(2 * n_columns - 1, 0)


def _share(lows: list[int], highs: list[int], budget: int) -> list[int]:
    """Give `budget` extra columns to the flexible ones evenly, none beyond its natural width."""
    widths = list(lows)
    open_ = [i for i, (w, h) in enumerate(zip(widths, highs, strict=True)) if w < h]
    while budget > 0 and open_:
        share = max(budget // len(open_), 1)
        for i in list(open_):
            give = min(share, highs[i] - widths[i], budget)
            widths[i] += give
            budget -= give
            if widths[i] >= highs[i]:
                open_.remove(i)
            if not budget:
                break
    return widths


def layout(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> Layout:
    """Which columns to show and how wide, so that every `ident` value is whole (module docstring)."""
    ranges = [_column_range(col, [row[i] for row in rows]) for i, col in enumerate(columns)]
    shown = list(range(len(columns)))

    def needed(indexes: list[int], k: int) -> int:
        return sum(ranges[i][k] for i in indexes) + chrome_width(len(indexes))

    while needed(shown, 1) > width:
        droppable = [i for i in shown if columns[i].drop is not None]
        if not droppable:
            break
        shown.remove(min(droppable, key=lambda i: (columns[i].drop, -i)))
    # Still too wide with every droppable column gone: let descriptions split long words too.
    low = 1 if needed(shown, 1) <= width else 0
    lows = [ranges[i][low] for i in shown]
    widths = _share(lows, [ranges[i][2] for i in shown], width - sum(lows) - chrome_width(len(shown)))
    gone = sorted((i for i in range(len(columns)) if i not in shown), key=lambda i: (columns[i].drop, -i))
    dropped = tuple(columns[i].header for i in gone)  # in the order they went
    return Layout(tuple(shown), tuple(widths), dropped, sum(widths) + chrome_width(len(shown)))


def pack_names(names: Sequence[str], width: int) -> str:
    """Names joined by ", ", a new line only between two names (never inside one)."""
    from rich.cells import cell_len

    lines: list[str] = []
    for k, name in enumerate(names):
        comma = 0 if k == len(names) - 1 else 1  # room for the comma if the next name goes below
        if lines and cell_len(lines[-1]) + len(LIST_SEPARATOR) + cell_len(name) + comma <= width:
            lines[-1] += LIST_SEPARATOR + name
        else:
            if lines:
                lines[-1] += LIST_SEPARATOR.rstrip()
            lines.append(name)
    return "\n".join(lines)


def _render_cell(cell: Cell, width: int) -> Text:
    from rich.text import Text

    if _is_list(cell):
        return Text(pack_names([str(n) for n in cell], width))  # type: ignore[union-attr]
    return Text(cell) if isinstance(cell, str) else cell  # type: ignore[return-value]


def build_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    width: int,
    *,
    title: str | None = None,
    show_header: bool = True,
) -> tuple[Table, Layout]:
    """The rich Table for `rows` laid out for a terminal `width` columns wide."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    lay = layout(columns, rows, width)
    table = Table(
        title=Text(title, style="bold") if title else None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        show_header=show_header,
        padding=(0, 1, 0, 0),
    )
    for index, col_width in zip(lay.shown, lay.widths, strict=True):
        col = columns[index]
        table.add_column(
            Text(col.header),  # not markup: "[A] model" is a header, not a style
            justify=col.justify,
            style=col.style,
            width=col_width,
            no_wrap=col.kind != "fold",
            # ident and keep columns are as wide as their longest value, so "fold" never acts there
            # (and unlike "ignore" it keeps right-justified numbers right-justified).
            overflow="ellipsis" if col.kind == "ellipsis" else "fold",
        )
    for row in rows:
        table.add_row(*(_render_cell(row[i], w) for i, w in zip(lay.shown, lay.widths, strict=True)))
    return table, lay


def print_table(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
    show_header: bool = True,
    more: str = "--json has every field",
) -> Layout:
    """Print the table at the console's width; below it, the columns left out and where to find them.

    When the names side by side are wider than the terminal even with every droppable column left
    out, each row is printed as a block of `field  value` lines instead (`print_records`).
    """
    from rich.text import Text

    table, lay = build_table(columns, rows, console.width, title=title, show_header=show_header)
    if lay.width > console.width and len(lay.shown) > 2:  # (a two-column table is already field/value)
        print_records(console, columns, rows, title=title)
        return lay
    _print_whole(console, table, lay.width)
    if lay.dropped:
        console.print(Text(f"not shown at this width: {', '.join(lay.dropped)} ({more})", style="dim"))
    return lay


def print_records(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, title: str | None = None
) -> None:
    """One block per row, one field per line, names one per line: the narrow form of a table."""
    from rich.cells import cell_len

    names = [
        str(name)
        for row in rows
        for col, cell in zip(columns, row, strict=True)
        if col.kind == "ident"
        for name in (cell if _is_list(cell) else [_plain(cell)])  # type: ignore[union-attr]
    ]
    longest = max((cell_len(name) for name in names), default=0)
    # The value column is at least as wide as the longest name, so no name wraps.
    pair = (Column("field", "keep", style="bold"), Column("value", min_width=longest))
    for index, row in enumerate(rows):
        if index:
            console.print()
        cells = [("\n".join(map(str, cell)) if _is_list(cell) else cell) for cell in row]
        fields = [(col.header, cell) for col, cell in zip(columns, cells, strict=True)]
        table, lay = build_table(pair, fields, console.width, title=title if not index else None,
                                 show_header=False)
        _print_whole(console, table, lay.width)


def _print_whole(console: Console, renderable: Table, width: int) -> None:
    """Print at the console's width, or wider when a name alone is wider than the terminal."""
    if width <= console.width:
        console.print(renderable)
        return
    # rich caps print(width=...) at the console's width, so widen the console for this one table.
    terminal_width = console.width
    console.width = width
    try:
        console.print(renderable, crop=False)
    finally:
        console.width = terminal_width


def width_rule(columns: Sequence[Column], table: str = "the table") -> str:
    """The rule of one table in a sentence, for its command's --help."""
    names = [c.header for c in columns if c.kind == "ident"]
    order = [c.header for c in sorted((c for c in columns if c.drop is not None), key=lambda c: c.drop or 0)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    parts = [f"keeps the {listed} column{'s' if len(names) > 1 else ''} whole"]
    if any(c.kind == "fold" for c in columns):
        parts.append("wraps descriptions")
    if order:
        parts.append(f"drops columns in this order: {', '.join(order)}")
    said = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    text = f"In a narrow terminal (or a pipe: 80 columns) {table} {said}."
    return "\n".join(textwrap.wrap(text, 100))
