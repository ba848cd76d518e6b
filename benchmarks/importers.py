"""Import the public benchmark formats from the user's files into a stored suite.

Supported (see `duel suites import --help`):
- classify: Kaggle "Twitter US Airline Sentiment" Tweets.csv (`text`, `airline_sentiment`); TweetEval
  (`*_text.txt` + `*_labels.txt` + `mapping.txt`, or their folder); any CSV/TSV/JSONL/parquet/XLSX with
  `--text-col/--label-col`.
- mc: MMLU CSV without header (question, A, B, C, D, answer letter); Hugging Face `cais/mmlu` parquet or
  JSONL (`question`, `subject`, `choices`, `answer` index or letter).
- math: GSM8K JSONL (`question`, `answer` ending in `#### N`) or any table with those columns.
- summarize: CSV/XLSX/JSONL/parquet with chosen article and summary columns (`--text-col/--summary-col`).
The result is written to the data dir in the built-in per-task format and listed by `duel suites`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.builtin import BUILTIN_NAMES, BUILTIN_SUITES
from benchmarks.errors import SuiteDataError
from benchmarks.sampling import stratified_sample
from benchmarks.suites import (
    LETTERS,
    NAME_RE,
    TASK_METRIC,
    TASKS,
    Item,
    Suite,
    SuiteManifest,
    final_number,
    imported_dir,
    item_to_json,
    load_suite,
    normalize_number,
)
from benchmarks.tables import Row, Table, cell_text, read_table

TEXT_COLUMNS = ("text", "tweet", "sentence", "content", "review", "document", "post")
LABEL_COLUMNS = ("label", "airline_sentiment", "sentiment", "labels", "class", "category")
ARTICLE_COLUMNS = ("article", "content", "text", "document", "dialogue", "body")
SUMMARY_COLUMNS = ("summary", "highlights", "human_summary", "abstract", "reference")
SENTIMENT_WORDS = {"positive", "negative", "neutral"}


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    name: str
    task: str
    text_col: str | None = None
    label_col: str | None = None
    summary_col: str | None = None
    labels: tuple[str, ...] | None = None  # the allowed label set; labels outside it are an error
    limit: int | None = None
    seed: int = 0


def _builtin(task: str) -> SuiteManifest:
    return next(s for s in BUILTIN_SUITES if s.task == task)


def _row_id(row: Row, index: int, name: str, id_col: str | None) -> str:
    if id_col:
        value = cell_text(row.values.get(id_col))
        if value:
            return value
    return f"{name}-{index + 1:05d}"


def _id_column(table: Table) -> str | None:
    """Use the file's own `id` column when it is present and unique (stable across re-imports)."""
    if "id" not in table.columns:
        return None
    values = [cell_text(r.values.get("id")) for r in table.rows]
    return "id" if all(values) and len(set(values)) == len(values) else None


# ------------------------------------------------------------------------------------------- classify


def _tweeteval_files(path: Path) -> tuple[Path, Path, Path]:
    if path.is_dir():
        text = path / "test_text.txt"
        if not text.exists():
            candidates = sorted(path.glob("*_text.txt"))
            if not candidates:
                raise SuiteDataError(f"{path}: no TweetEval *_text.txt file in this folder")
            text = candidates[0]
    else:
        text = path
    stem = text.name[: -len("_text.txt")]
    labels = text.with_name(f"{stem}_labels.txt")
    mapping = text.with_name("mapping.txt")
    for needed in (text, labels, mapping):
        if not needed.is_file():
            raise SuiteDataError(
                f"TweetEval import needs {needed.name} next to {text.name}: {needed} is missing"
            )
    return text, labels, mapping


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _tweeteval_items(path: Path, name: str) -> list[Item]:
    text_file, labels_file, mapping_file = _tweeteval_files(path)
    mapping: dict[str, str] = {}
    for lineno, line in enumerate(_read_lines(mapping_file), start=1):
        if not line.strip():
            continue
        parts = line.split("\t") if "\t" in line else line.split(None, 1)
        if len(parts) != 2:
            raise SuiteDataError(f"{mapping_file}:{lineno}: expected '<index><TAB><label>'")
        mapping[parts[0].strip()] = parts[1].strip()
    texts = _read_lines(text_file)
    labels = _read_lines(labels_file)
    while texts and not texts[-1].strip():
        texts.pop()
    while labels and not labels[-1].strip():
        labels.pop()
    if len(texts) != len(labels):
        raise SuiteDataError(
            f"{text_file.name} has {len(texts)} lines but {labels_file.name} has {len(labels)}"
        )
    items = []
    for index, (text, raw_label) in enumerate(zip(texts, labels, strict=True)):
        key = raw_label.strip()
        if key not in mapping:
            raise SuiteDataError(
                f"{labels_file}:{index + 1}: label '{key}' is not in the label set of {mapping_file.name} "
                f"({', '.join(mapping)})"
            )
        if text.strip():
            items.append(Item(f"{name}-{index + 1:05d}", text.strip(), mapping[key]))
    return items


def _classify_items(req: ImportRequest) -> list[Item]:
    path = req.path
    if path.is_dir() or path.name.endswith("_text.txt"):
        return _tweeteval_items(path, req.name)
    table = read_table(path)
    text_col = table.pick(req.text_col, TEXT_COLUMNS, "text", "--text-col")
    label_col = table.pick(req.label_col, LABEL_COLUMNS, "labels", "--label-col")
    id_col = _id_column(table)
    items = []
    for index, row in enumerate(table.rows):
        text, label = cell_text(row.values.get(text_col)), cell_text(row.values.get(label_col))
        if not text or not label:
            continue  # rows without text or label cannot be scored
        if req.labels is not None and label not in req.labels:
            raise SuiteDataError(
                f"{row.where}: label '{label}' is not in the label set ({', '.join(req.labels)})"
            )
        items.append(Item(_row_id(row, index, req.name, id_col), text, label))
    return items


# ------------------------------------------------------------------------------------------------- mc


def _looks_like_headerless_mmlu(path: Path) -> bool:
    table = read_table(path, header=False)
    if len(table.columns) < 6 or not table.rows:
        return False
    last = table.columns[-1]
    return all(cell_text(r.values.get(last)).upper() in LETTERS[:4] for r in table.rows[:5])


def _subject_from_filename(path: Path) -> str:
    stem = path.stem
    for suffix in ("_test", "_dev", "_val", "_validation", "_train"):
        stem = stem.removesuffix(suffix)
    return stem.replace("_", " ")


def _mc_answer(value: Any, n_choices: int, where: str) -> str:
    text = cell_text(value).upper()
    if text.isdigit() and int(text) < n_choices:
        return LETTERS[int(text)]
    if len(text) == 1 and text in LETTERS[:n_choices]:
        return text
    raise SuiteDataError(
        f"{where}: answer '{cell_text(value)}' is not a choice index 0-{n_choices - 1} or letter "
        f"{LETTERS[0]}-{LETTERS[n_choices - 1]}"
    )


def _choices_cell(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SuiteDataError(f"{where}: 'choices' must be a list") from None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, list | tuple) or not 2 <= len(value) <= len(LETTERS):
        raise SuiteDataError(f"{where}: 'choices' must be a list of 2 to {len(LETTERS)} options")
    return tuple(cell_text(v) for v in value)


def _mc_items(req: ImportRequest) -> list[Item]:
    path = req.path
    items = []
    if path.suffix.lower() == ".csv" and _looks_like_headerless_mmlu(path):
        table = read_table(path, header=False)
        cols = table.columns
        subject = _subject_from_filename(path)
        for index, row in enumerate(table.rows):
            question = cell_text(row.values[cols[0]])
            choices = tuple(cell_text(row.values[c]) for c in cols[1:5])
            answer = _mc_answer(row.values[cols[5]], 4, row.where)
            if question:
                items.append(
                    Item(f"{req.name}-{index + 1:05d}", question, answer, choices, {"subject": subject})
                )
        return items
    table = read_table(path)
    question_col = table.pick(req.text_col, ("question", "input", "prompt"), "questions", "--text-col")
    answer_col = table.pick(req.label_col, ("answer", "target", "label"), "answers", "--label-col")
    letter_cols = [c for c in ("A", "B", "C", "D") if c in table.columns]
    if "choices" not in table.columns and len(letter_cols) < 4:
        table.require("choices")
    id_col = _id_column(table)
    for index, row in enumerate(table.rows):
        if "choices" in table.columns:
            choices = _choices_cell(row.values.get("choices"), row.where)
        else:
            choices = tuple(cell_text(row.values.get(c)) for c in letter_cols)
        question = cell_text(row.values.get(question_col))
        if not question:
            continue
        answer = _mc_answer(row.values.get(answer_col), len(choices), row.where)
        subject = cell_text(row.values.get("subject"))
        extra = {"subject": subject.replace("_", " ")} if subject else {}
        items.append(Item(_row_id(row, index, req.name, id_col), question, answer, choices, extra))
    return items


# ------------------------------------------------------------------------------------ math, summarize


def _math_items(req: ImportRequest) -> list[Item]:
    table = read_table(req.path)
    question_col = table.pick(req.text_col, ("question", "problem", "input"), "questions", "--text-col")
    answer_col = table.pick(req.label_col, ("answer", "solution", "target"), "answers", "--label-col")
    id_col = _id_column(table)
    items = []
    for index, row in enumerate(table.rows):
        question, answer = cell_text(row.values.get(question_col)), cell_text(row.values.get(answer_col))
        if not question or not answer:
            continue
        number = final_number(answer) if "####" in answer else normalize_number(answer)
        if number is None:
            raise SuiteDataError(f"{row.where}: answer must end with '#### <number>' or be a number")
        solution = answer if "####" in answer else f"#### {number}"
        items.append(
            Item(_row_id(row, index, req.name, id_col), question, number, extra={"solution": solution})
        )
    return items


def _summarize_items(req: ImportRequest) -> list[Item]:
    table = read_table(req.path)
    article_col = table.pick(req.text_col, ARTICLE_COLUMNS, "articles", "--text-col")
    summary_col = table.pick(req.summary_col or req.label_col, SUMMARY_COLUMNS, "summaries", "--summary-col")
    id_col = _id_column(table)
    items = []
    for index, row in enumerate(table.rows):
        article, summary = cell_text(row.values.get(article_col)), cell_text(row.values.get(summary_col))
        if article and summary:
            title = cell_text(row.values.get("title"))
            items.append(
                Item(
                    _row_id(row, index, req.name, id_col),
                    article,
                    summary,
                    extra={"title": title} if title else {},
                )
            )
    return items


# --------------------------------------------------------------------------------------------- public


def _manifest(req: ImportRequest, labels: Sequence[str], items_file: Path) -> SuiteManifest:
    base = _builtin(req.task)
    instruction, input_name, answer_name = base.instruction, base.input_name, base.answer_name
    if req.task == "classify":
        input_name = "Text"
        if set(labels) <= SENTIMENT_WORDS:
            answer_name = "Sentiment"
            instruction = f"Classify the sentiment of each text as {_or_list(labels)}."
        else:
            answer_name = "Label"
            instruction = f"Classify each text as {_or_list(labels)}."
    return SuiteManifest(
        name=req.name,
        version="1",
        task=req.task,
        metric=TASK_METRIC[req.task],
        description=f"Imported {req.path.name} ({req.task})",
        file=str(items_file),
        source=f"imported from {req.path.name}",
        labels=tuple(labels) if req.task == "classify" else (),
        instruction=instruction,
        input_name=input_name,
        answer_name=answer_name,
    )


def _or_list(labels: Sequence[str]) -> str:
    labels = list(labels)
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def import_suite(req: ImportRequest) -> Suite:
    """Read `req.path`, keep `req.limit` items (stratified by label, seeded) and store the suite."""
    if req.task not in TASKS:
        raise SuiteDataError(f"unknown task '{req.task}' (tasks: {', '.join(TASKS)})")
    if not NAME_RE.match(req.name):
        raise SuiteDataError(
            f"bad suite name '{req.name}': use lower-case letters, digits, '-', '_' or '.' (max 64)"
        )
    if req.name in BUILTIN_NAMES:
        raise SuiteDataError(f"'{req.name}' is a built-in suite; choose another name with --as")
    if not req.path.exists():
        raise SuiteDataError(f"no such file: {req.path}")
    if req.limit is not None and req.limit < 1:
        raise SuiteDataError("--limit must be at least 1")
    reader = {
        "classify": _classify_items,
        "mc": _mc_items,
        "math": _math_items,
        "summarize": _summarize_items,
    }[req.task]
    items = reader(req)
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise SuiteDataError(f"{req.path}: item ids are not unique")
    items = stratified_sample(
        items,
        req.limit,
        req.seed,
        (lambda i: i.target) if req.task in ("classify", "mc") else (lambda i: None),
    )
    if not items:
        raise SuiteDataError(f"{req.path}: no items left after filtering (empty rows are skipped)")
    labels: list[str] = []
    if req.task == "classify":
        labels = list(req.labels) if req.labels else sorted({i.target for i in items})
        if len(labels) < 2:
            raise SuiteDataError(
                f"{req.path}: a classification suite needs at least 2 labels, found {labels}"
            )
    folder = imported_dir() / req.name
    folder.mkdir(parents=True, exist_ok=True)
    items_file = folder / "items.jsonl"
    tmp = items_file.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item_to_json(req.task, item), ensure_ascii=False) + "\n")
    tmp.replace(items_file)
    manifest = _manifest(req, labels, items_file)
    (folder / "suite.json").write_text(json.dumps(manifest.to_json(), indent=2), encoding="utf-8")
    return load_suite(req.name)
