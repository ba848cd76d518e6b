"""A conversation as files people can keep: Markdown to read, JSON to process.

Both carry the two panes' models, settings, every prompt and answer, and the stats of each answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from models import paths
from models.info import ModelInfo
from tui.chat_state import PANES, PaneSettings, PaneTurn, format_stats, stats_from_json, stats_to_json

FORMAT_VERSION = 1


@dataclass(frozen=True)
class PaneExport:
    ref: str
    info: ModelInfo | None
    settings: PaneSettings
    turns: list[PaneTurn]


def build_document(
    title: str, conversation_id: int | None, panes: Mapping[str, PaneExport], *, now: datetime | None = None
) -> dict[str, Any]:
    """The JSON document of a conversation (the Markdown is rendered from it)."""
    indexes = sorted({t.index for pane in panes.values() for t in pane.turns})
    turns = []
    for index in indexes:
        answers: dict[str, Any] = {}
        prompt = ""
        for name in PANES:
            turn = next((t for t in panes[name].turns if t.index == index), None)
            if turn is None:
                answers[name] = None
                continue
            prompt = prompt or turn.prompt
            answers[name] = {
                "text": turn.answer,
                "model": turn.model,
                "finish_reason": turn.finish_reason,
                "error": turn.error,
                "notice": turn.notice,
                "stats": stats_to_json(turn.stats),
            }
        turns.append({"index": index, "prompt": prompt, "answers": answers})
    return {
        "format": "duel-conversation",
        "version": FORMAT_VERSION,
        "title": title,
        "conversation_id": conversation_id,
        "exported_at": (now or datetime.now()).isoformat(timespec="seconds"),
        "panes": {
            name: {
                "ref": pane.ref,
                "model": pane.info.to_json() if pane.info else None,
                "settings": pane.settings.model_dump(),
            }
            for name, pane in panes.items()
        },
        "turns": turns,
    }


def _cell(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _model_rows(doc: dict[str, Any]) -> list[str]:
    left, right = doc["panes"]["left"], doc["panes"]["right"]

    def model_field(pane: dict[str, Any], key: str) -> Any:
        return (pane["model"] or {}).get(key)

    def params(pane: dict[str, Any]) -> str:
        count = model_field(pane, "parameters")
        return f"{count:,}" if count else "—"

    rows = [
        (
            "Model",
            left["model"] and left["model"]["name"] or left["ref"],
            right["model"] and right["model"]["name"] or right["ref"],
        ),
        ("Reference", left["ref"], right["ref"]),
        ("Architecture", model_field(left, "architecture"), model_field(right, "architecture")),
        ("Parameters", params(left), params(right)),
        ("Quantization", model_field(left, "quantization"), model_field(right, "quantization")),
    ]
    for key, label in (
        ("temperature", "Temperature"),
        ("top_p", "Top p"),
        ("max_tokens", "Max tokens"),
        ("seed", "Seed"),
        ("n_ctx", "Context size"),
        ("system_prompt", "System prompt"),
    ):
        rows.append((label, left["settings"].get(key), right["settings"].get(key)))
    lines = ["| | Left | Right |", "|---|---|---|"]
    lines += [f"| {label} | {_cell(a)} | {_cell(b)} |" for label, a, b in rows]
    return lines


def _answer_block(label: str, answer: dict[str, Any] | None) -> list[str]:
    if answer is None:
        return [f"### {label}", "", "*(no answer)*", ""]
    lines = [f"### {label} — {answer['model'] or '?'}", ""]
    if answer["notice"]:
        lines += [f"*{answer['notice']}*", ""]
    lines += [answer["text"].strip() or "*(empty answer)*", ""]
    if answer["error"]:
        lines += [f"**Error:** {answer['error']}", ""]
    parsed = stats_from_json(answer["stats"])
    if parsed is not None:
        lines += [f"*{format_stats(parsed)}*", ""]
    elif answer["finish_reason"]:
        lines += [f"*{answer['finish_reason']}*", ""]
    return lines


def render_markdown(doc: dict[str, Any]) -> str:
    lines = [f"# {doc['title'] or 'duel conversation'}", "", f"Exported by duel on {doc['exported_at']}.", ""]
    lines += _model_rows(doc) + [""]
    for turn in doc["turns"]:
        lines += [f"## Turn {turn['index'] + 1}", ""]
        lines += ["> " + line for line in turn["prompt"].splitlines() or [""]] + [""]
        lines += _answer_block("Left", turn["answers"]["left"])
        lines += _answer_block("Right", turn["answers"]["right"])
    return "\n".join(lines).rstrip() + "\n"


def write_exports(doc: dict[str, Any], directory: Path | None = None) -> tuple[Path, Path]:
    """Write `<stem>.md` and `<stem>.json`; returns their paths (never overwrites an export)."""
    folder = paths.ensure(directory or paths.exports_dir())
    stamp = datetime.fromisoformat(doc["exported_at"]).strftime("%Y%m%d-%H%M%S")
    base = f"conversation-{doc['conversation_id'] or 'unsaved'}-{stamp}"
    stem, n = base, 1
    while (folder / f"{stem}.md").exists() or (folder / f"{stem}.json").exists():
        n += 1
        stem = f"{base}-{n}"
    md_path, json_path = folder / f"{stem}.md", folder / f"{stem}.json"
    md_path.write_text(render_markdown(doc), encoding="utf-8")
    json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md_path, json_path
