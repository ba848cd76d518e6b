"""Suites: a manifest (name, version, task, metric, labels, file) plus items with stable ids.

Built-in suites ship as JSON Lines files in `benchmarks/data/` (manifest in `builtin.py`); imported
suites live in the data dir, one folder per suite holding `suite.json` and `items.jsonl` in the same
per-task formats, so one loader reads both. A suite's version includes a hash of its file, so an edited
file never silently reuses cached results of the old items.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from benchmarks.errors import SuiteDataError, UnknownSuiteError
from models.paths import data_dir

TASKS = ("classify", "mc", "math", "summarize")
TASK_METRIC = {"classify": "accuracy", "mc": "accuracy", "math": "exact_match", "summarize": "rougeL"}
TASK_LABEL = {
    "classify": "classify",
    "mc": "multiple choice",
    "math": "math",
    "summarize": "summarize",
}
LETTERS = "ABCDEFGHIJ"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_FINAL_ANSWER_RE = re.compile(r"####\s*(.+?)\s*$", re.S)


@dataclass(frozen=True)
class Item:
    """One benchmark item, the same shape for every task.

    `text` is the post (classify), question (mc, math) or article (summarize); `target` is the label,
    the answer letter, the final number or the reference summary.
    """

    id: str
    text: str
    target: str
    choices: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)  # subject, domain, title, worked solution

    def content_hash(self) -> str:
        payload = json.dumps([self.id, self.text, self.target, list(self.choices)], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SuiteManifest:
    """What `duel suites` shows, and what the loader needs to read the file."""

    name: str
    version: str
    task: str
    metric: str
    description: str
    file: str  # built-in: file name in benchmarks/data; imported: absolute path of items.jsonl
    source: str = "built-in"  # "built-in" or "imported from <file>"
    labels: tuple[str, ...] = ()  # the label set of a classify suite
    instruction: str = ""  # first line of the prompt; empty: a generic one for the task
    input_name: str = "Text"  # how the prompt names the item text ("Post", "Question"...)
    answer_name: str = "Label"  # how the prompt names the answer ("Sentiment", "Answer"...)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SuiteManifest:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["labels"] = tuple(known.get("labels", ()))
        return cls(**known)


@dataclass(frozen=True)
class Suite:
    manifest: SuiteManifest
    items: tuple[Item, ...]
    path: Path
    content_version: str  # manifest version + hash of the data file

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def labels(self) -> tuple[str, ...]:
        return self.manifest.labels


# ---------------------------------------------------------------------------------------------- reading


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a bad line is a one-line error with file:line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SuiteDataError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SuiteDataError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise SuiteDataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def _field(obj: Mapping[str, Any], key: str, where: str) -> str:
    if key not in obj:
        raise SuiteDataError(f"{where}: missing field '{key}' (fields found: {', '.join(obj) or 'none'})")
    value = obj[key]
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise SuiteDataError(f"{where}: field '{key}' must be text")
    return str(value).strip()


def final_number(answer: str) -> str | None:
    """The final answer after `####` in a GSM8K-style worked solution, normalised (no commas, no $)."""
    match = _FINAL_ANSWER_RE.search(answer)
    if not match:
        return None
    return normalize_number(match.group(1))


def normalize_number(text: str) -> str | None:
    """'1,234.50' -> '1234.5', '$7' -> '7', '-3.0' -> '-3'; None when it is not a number."""
    cleaned = text.strip().replace(",", "").replace("$", "").rstrip(".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return str(int(value)) if value == int(value) else repr(value)


def parse_item(task: str, obj: Mapping[str, Any], where: str, labels: tuple[str, ...] = ()) -> Item:
    """Turn one stored JSON object (per-task format, see module docs of builtin.py) into an Item."""
    item_id = _field(obj, "id", where)
    if task == "classify":
        label = _field(obj, "label", where)
        if labels and label not in labels:
            raise SuiteDataError(f"{where}: label '{label}' is not in the label set ({', '.join(labels)})")
        extra = {"domain": str(obj["domain"])} if "domain" in obj else {}
        return Item(item_id, _field(obj, "text", where), label, extra=extra)
    if task == "mc":
        choices = obj.get("choices")
        if not isinstance(choices, list) or len(choices) < 2 or len(choices) > len(LETTERS):
            raise SuiteDataError(f"{where}: 'choices' must be a list of 2 to {len(LETTERS)} strings")
        answer = _field(obj, "answer", where).upper()
        allowed = LETTERS[: len(choices)]
        if answer not in allowed:
            raise SuiteDataError(f"{where}: answer '{answer}' is not one of {', '.join(allowed)}")
        extra = {"subject": str(obj["subject"])} if obj.get("subject") else {}
        return Item(item_id, _field(obj, "question", where), answer, tuple(str(c) for c in choices), extra)
    if task == "math":
        solution = _field(obj, "answer", where)
        number = final_number(solution)
        if number is None:
            raise SuiteDataError(f"{where}: answer must end with '#### <number>'")
        return Item(item_id, _field(obj, "question", where), number, extra={"solution": solution})
    if task == "summarize":
        extra = {"title": str(obj["title"])} if obj.get("title") else {}
        return Item(item_id, _field(obj, "article", where), _field(obj, "summary", where), extra=extra)
    raise SuiteDataError(f"unknown task '{task}' (tasks: {', '.join(TASKS)})")


def item_to_json(task: str, item: Item) -> dict[str, Any]:
    """The stored per-task JSON form of an item (inverse of `parse_item`)."""
    if task == "classify":
        return {"id": item.id, "text": item.text, "label": item.target, **item.extra}
    if task == "mc":
        data: dict[str, Any] = {"id": item.id}
        if item.extra.get("subject"):
            data["subject"] = item.extra["subject"]
        data.update(question=item.text, choices=list(item.choices), answer=item.target)
        return data
    if task == "math":
        return {
            "id": item.id,
            "question": item.text,
            "answer": item.extra.get("solution") or f"#### {item.target}",
        }
    if task == "summarize":
        data = {"id": item.id}
        if item.extra.get("title"):
            data["title"] = item.extra["title"]
        data.update(article=item.text, summary=item.target)
        return data
    raise SuiteDataError(f"unknown task '{task}'")


def read_items(path: Path, manifest: SuiteManifest) -> tuple[Item, ...]:
    items: list[Item] = []
    seen: dict[str, int] = {}
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        item = parse_item(manifest.task, obj, where, manifest.labels)
        if item.id in seen:
            raise SuiteDataError(f"{where}: duplicate item id '{item.id}' (first on line {seen[item.id]})")
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise SuiteDataError(f"{path}: the suite has no items")
    return tuple(items)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


# --------------------------------------------------------------------------------------------- registry


def imported_dir() -> Path:
    return data_dir() / "suites"


def builtin_data_path(file: str) -> Path:
    return Path(str(resources.files("benchmarks") / "data" / file))


def _imported_manifests() -> list[SuiteManifest]:
    root = imported_dir()
    if not root.is_dir():
        return []
    manifests = []
    for manifest_file in sorted(root.glob("*/suite.json")):
        try:
            data = json.loads(manifest_file.read_text(encoding="utf-8"))
            manifests.append(SuiteManifest.from_json(data))
        except (OSError, ValueError, TypeError) as exc:
            raise SuiteDataError(f"{manifest_file}: unreadable suite manifest ({exc})") from None
    return manifests


def manifest_path(manifest: SuiteManifest) -> Path:
    if manifest.source == "built-in":
        return builtin_data_path(manifest.file)
    return Path(manifest.file)


def all_manifests() -> list[SuiteManifest]:
    """Built-in suites first (in their fixed order), then imported ones by name."""
    from benchmarks.builtin import BUILTIN_SUITES

    return list(BUILTIN_SUITES) + _imported_manifests()


def find_manifest(name: str) -> SuiteManifest:
    manifests = all_manifests()
    for manifest in manifests:
        if manifest.name == name:
            return manifest
    known = ", ".join(m.name for m in manifests)
    raise UnknownSuiteError(f"unknown suite '{name}' (known suites: {known}; see `duel suites`)")


def load_suite(name: str) -> Suite:
    """Load a built-in or imported suite by name; unknown names and bad files raise one-line errors."""
    manifest = find_manifest(name)
    path = manifest_path(manifest)
    if not path.is_file():
        raise SuiteDataError(f"suite '{name}': data file {path} is missing")
    items = read_items(path, manifest)
    return Suite(manifest, items, path, f"{manifest.version}+{file_hash(path)}")


def list_suites() -> list[Suite | SuiteManifest]:
    """Every known suite, loaded when its file is readable (a manifest alone when its file is missing)."""
    out: list[Suite | SuiteManifest] = []
    for manifest in all_manifests():
        path = manifest_path(manifest)
        if path.is_file():
            out.append(load_suite(manifest.name))
        else:
            out.append(manifest)
    return out


def with_items(suite: Suite, items: tuple[Item, ...]) -> Suite:
    return replace(suite, items=items)
