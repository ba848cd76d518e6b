"""Reading the user's tables (CSV, XLSX, JSONL, parquet) into rows that know where they came from.

Every row carries a `where` string (file:line for JSONL and CSV, file:row for the others) so a bad
value is reported at its place in the user's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.errors import SuiteDataError
from benchmarks.suites import read_jsonl

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet", ".xlsx", ".xls")


@dataclass(frozen=True)
class Row:
    where: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    path: Path
    columns: tuple[str, ...]
    rows: list[Row]

    def require(self, *names: str) -> None:
        """Raise one line naming the first missing column and listing the columns found."""
        for name in names:
            if name not in self.columns:
                found = ", ".join(self.columns) or "none"
                raise SuiteDataError(f"{self.path}: no column '{name}' (columns found: {found})")

    def pick(self, wanted: str | None, candidates: tuple[str, ...], what: str, flag: str) -> str:
        """The column the user named, or the first conventional name present."""
        if wanted:
            self.require(wanted)
            return wanted
        for name in candidates:
            if name in self.columns:
                return name
        found = ", ".join(self.columns) or "none"
        raise SuiteDataError(
            f"{self.path}: cannot tell which column holds the {what}; pass {flag} (columns found: {found})"
        )


def _frame_rows(path: Path, frame: Any, first_line: int, unit: str) -> Table:
    columns = tuple(str(c) for c in frame.columns)
    rows = []
    for offset, record in enumerate(frame.to_dict(orient="records")):
        rows.append(Row(f"{path}:{unit}{offset + first_line}", {str(k): v for k, v in record.items()}))
    return Table(path, columns, rows)


def read_table(path: Path, *, header: bool = True) -> Table:
    """Read a table file by its suffix; CSV cells stay text (no NA guessing: 'None' is a word)."""
    import pandas as pd

    if not path.exists():
        raise SuiteDataError(f"no such file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            frame = pd.read_csv(
                path,
                sep="\t" if suffix == ".tsv" else ",",
                header=0 if header else None,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8",
                encoding_errors="replace",
            )
            if not header:
                frame.columns = [str(c) for c in frame.columns]
            # CSV line of the first data row (1-based); quoted newlines can shift it, so say "line ~".
            return _frame_rows(path, frame, 2 if header else 1, "")
        if suffix in (".jsonl", ".json"):
            rows = [Row(f"{path}:{lineno}", obj) for lineno, obj in read_jsonl(path)]
            columns: dict[str, None] = {}
            for row in rows:
                columns.update(dict.fromkeys(row.values))
            return Table(path, tuple(columns), rows)
        if suffix == ".parquet":
            return _frame_rows(path, pd.read_parquet(path), 1, "row ")
        if suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
            return _frame_rows(path, frame, 2, "row ")
    except SuiteDataError:
        raise
    except (ValueError, OSError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SuiteDataError(f"{path}: cannot read as {suffix.lstrip('.')} ({first})") from None
    except pd.errors.ParserError as exc:  # pragma: no cover - ValueError subclass in current pandas
        raise SuiteDataError(f"{path}: cannot parse ({exc})") from None
    raise SuiteDataError(
        f"{path}: unsupported file type '{suffix or path.name}' (use one of: {', '.join(TABLE_SUFFIXES)})"
    )


def cell_text(value: Any) -> str:
    """A cell as stripped text; missing values (NaN, None) become ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
