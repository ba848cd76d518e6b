"""How the results store keeps what was sent for each item (`SentPrompt`) without repeating itself.

Prompts repeat a lot: both models get the same prompt, every item of a suite starts with the same
instruction, and with `--shots K` nearly every item carries the same K exemplars (and, for
generation, each model's rendered chat prompt repeats them once more). So, content-addressed:
- `prompt_parts`: every text cut into parts after each blank line ("\n\n"), each part stored once
  under the sha256 of its text; joining a text's parts gives it back byte for byte;
- `prompts`: the model-independent prompt (log-likelihood context, options and answers; or chat
  messages and generation settings), its texts as lists of part hashes, stored once under the
  sha256 of that body;
- `results.sent`: {"prompt": its hash} plus, for chat, "rendered": the part hashes of the text the
  model's template made (it differs per model, but shares its exemplar parts with every other item).
A result stored before schema 3 has no `sent` (NULL): nobody can say for certain what it was sent.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from benchmarks.results import SentPrompt

SEPARATOR = "\n\n"
HASH_CHARS = 16  # 64 bits: collisions need billions of distinct parts


def split_parts(text: str) -> list[str]:
    """`text` cut after each blank line; "".join(parts) == text."""
    parts: list[str] = []
    start = 0
    while (cut := text.find(SEPARATOR, start)) != -1:
        parts.append(text[start : cut + len(SEPARATOR)])
        start = cut + len(SEPARATOR)
    if start < len(text) or not parts:
        parts.append(text[start:])
    return parts


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


class _Rows:
    """The parts and prompt bodies of one result, collected while its `sent` column is made."""

    def __init__(self) -> None:
        self.parts: dict[str, str] = {}

    def refs(self, text: str) -> list[str]:
        hashes = []
        for part in split_parts(text):
            key = _hash(part)
            self.parts[key] = part
            hashes.append(key)
        return hashes


def store_sent(conn: sqlite3.Connection, sent: SentPrompt | None) -> str | None:
    """The `sent` column of a result; inserts the parts and the prompt body not stored yet (no commit:
    the caller's transaction stores them with the result)."""
    if sent is None:
        return None
    rows = _Rows()
    body: dict[str, Any] = sent.to_json()
    rendered = body.pop("rendered", None)
    if sent.kind == "loglik":
        body["context"] = rows.refs(sent.context or "")
    else:
        body["messages"] = [{**m, "content": rows.refs(m["content"])} for m in body["messages"]]
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    prompt = _hash(text)
    column: dict[str, Any] = {"prompt": prompt}
    if rendered is not None:
        column["rendered"] = rows.refs(rendered)
    conn.executemany("INSERT OR IGNORE INTO prompt_parts (hash, text) VALUES (?, ?)", rows.parts.items())
    conn.execute("INSERT OR IGNORE INTO prompts (hash, body) VALUES (?, ?)", (prompt, text))
    return json.dumps(column, separators=(",", ":"))


def _fetch(conn: sqlite3.Connection, table: str, column: str, keys: Iterable[str]) -> dict[str, str]:
    wanted = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(conn.execute(f"SELECT hash, {column} FROM {table} WHERE hash IN ({marks})", chunk))
    return found


def load_sent(conn: sqlite3.Connection, columns: Sequence[str | None]) -> list[SentPrompt | None]:
    """The prompts of stored `sent` columns (None stays None), a few queries for all of them."""
    stored = [json.loads(c) if c else None for c in columns]
    bodies = {
        key: json.loads(text)
        for key, text in _fetch(conn, "prompts", "body", (s["prompt"] for s in stored if s)).items()
    }
    refs = [h for b in bodies.values() for h in (b.get("context") or [])]
    refs += [h for b in bodies.values() for m in b.get("messages", ()) for h in m["content"]]
    refs += [h for s in stored if s for h in s.get("rendered") or ()]
    texts = _fetch(conn, "prompt_parts", "text", refs)

    def join(hashes: Sequence[str]) -> str:
        return "".join(texts[h] for h in hashes)

    out: list[SentPrompt | None] = []
    for column in stored:
        if column is None:
            out.append(None)
            continue
        body = dict(bodies[column["prompt"]])
        if body["kind"] == "loglik":
            body["context"] = join(body["context"])
        else:
            body["messages"] = [{**m, "content": join(m["content"])} for m in body["messages"]]
            rendered = column.get("rendered")
            body["rendered"] = join(rendered) if rendered is not None else None
        out.append(SentPrompt.from_json(body))
    return out
